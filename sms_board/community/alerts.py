"""What organisers are told by SMS: posts waiting, reports, join requests (batched), and floods.

Held posts, reports and join requests queue an `OrganiserNotice` for each organiser of
the area (or, where an area has none yet, for the administrators). The clock gathers an
organiser's queued notices into one text, at most one every `NOTICE_EVERY`, naming the
refs and how many ("3 posts wait: #N14 Sam 'Free piano...' … Reply APPROVE N14 or REJECT
N14 <reason>"). What an organiser (or another organiser) already decided by then is left
out. A flood is told at once, once per flood, in a text of its own. So is a text that may be
an emergency (`alert_urgent`), in the first lane and whatever the hour, once an hour per sender.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_board.community.exchange import display_name
from sms_board.community.languages import enqueue_in_their_language
from sms_board.community.people import organisers_to_tell
from sms_board.community.subscriptions import active_areas
from sms_board.models import (
    Area,
    InboundMessage,
    Item,
    ItemKind,
    ItemStatus,
    NoticeKind,
    OrganiserNotice,
    OutboxKind,
    Report,
    Subscriber,
)
from sms_board.plumbing.config import Settings
from sms_board.text.phone import mask
from sms_board.text.templates import shorten
from sms_board.text.urgent import may_be_urgent
from sms_board.text.words import Words, clean_body

NOTICE_EVERY = timedelta(minutes=15)
# One sender's cries for help text the organisers at most this often (the inbox has every one).
URGENT_EVERY = timedelta(hours=1)
URGENT_QUOTE = 200
# One text names this many items of each sort, then says how many more there are.
SHOWN = 4
QUOTE = 18


def tell_organisers(session: Session, item: Item, kind: NoticeKind, now: datetime) -> int:
    """Queue a notice about `item` for everyone who looks after its area; returns how many."""
    people = organisers_to_tell(session, item.area_id)
    session.add_all(
        OrganiserNotice(organiser_id=person.id, item_id=item.id, kind=kind, created_at=now)
        for person in people if person.id != item.author_id
    )
    return len(people)


@dataclass
class _Batch:
    """One organiser's text: what still waits for them, by sort."""

    held: list[Item] = field(default_factory=list)
    reported: list[tuple[Item, int]] = field(default_factory=list)
    hidden: list[Item] = field(default_factory=list)
    joins: list[tuple[Item, str | None]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.held or self.reported or self.hidden or self.joins)


def _open_reports(session: Session, item_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    return dict(session.execute(
        select(Report.item_id, func.count()).where(Report.item_id.in_(ids), Report.resolved_at.is_(None))
        .group_by(Report.item_id)
    ).all())


def _batch(session: Session, notices: list[OrganiserNotice]) -> _Batch:
    """What the notices still ask for: an item decided since it was queued is left out."""
    items = {item.id: item for item in session.scalars(
        select(Item).where(Item.id.in_({n.item_id for n in notices})).order_by(Item.id)
    )}
    reports = _open_reports(session, items)
    batch = _Batch()
    for item in items.values():
        kinds = {n.kind for n in notices if n.item_id == item.id}
        if item.kind == ItemKind.JOIN:
            if item.status == ItemStatus.PENDING:
                batch.joins.append((item, mask(item.author.phone) if item.author else None))
        elif item.status == ItemStatus.PENDING:
            batch.held.append(item)
        elif item.status == ItemStatus.HIDDEN:
            batch.hidden.append(item)
        elif item.status == ItemStatus.PUBLISHED and NoticeKind.REPORTED in kinds and reports.get(item.id):
            batch.reported.append((item, reports[item.id]))
    return batch


def quote(text: str, length: int = QUOTE) -> str:
    """The start of a post, cut at a word: enough for an organiser to know which it is."""
    return shorten(text, length, "...")


def _due_organisers(session: Session, now: datetime) -> list[int]:
    """Organisers with something queued who were not texted in the last NOTICE_EVERY."""
    waiting = select(OrganiserNotice.organiser_id).where(OrganiserNotice.sent_at.is_(None)).distinct()
    recent = (
        select(OrganiserNotice.organiser_id)
        .where(OrganiserNotice.sent_at.is_not(None), OrganiserNotice.sent_at > now - NOTICE_EVERY)
    )
    return list(session.scalars(waiting.where(OrganiserNotice.organiser_id.not_in(recent))))


def send_due_notices(session: Session, settings: Settings, now: datetime) -> int:
    """One text to each organiser whose notices wait and who has had none for 15 minutes; returns how many."""
    texts = 0
    for organiser_id in _due_organisers(session, now):
        notices = list(session.scalars(
            select(OrganiserNotice).where(OrganiserNotice.organiser_id == organiser_id,
                                          OrganiserNotice.sent_at.is_(None)).order_by(OrganiserNotice.id)
        ))
        batch = _batch(session, notices)
        for notice in notices:
            notice.sent_at = now
        organiser = session.get(Subscriber, organiser_id)
        if not batch or organiser is None:
            continue
        if enqueue_in_their_language(session, settings, organiser, "organiser_notice", OutboxKind.NOTIFY, now=now,
                                     batch=batch, shown=SHOWN, quote=quote, name=display_name):
            texts += 1
    return texts


def _looking_after(session: Session, person: Subscriber, areas: list[Area]) -> list[Subscriber]:
    """The organisers of the person's areas (an area with none: the administrators); in no area: the administrators."""
    people: dict[int, Subscriber] = {}
    for area_id in [area.id for area in areas] or [None]:
        for found in (organisers_to_tell(session, area_id) if area_id is not None else _admins(session)):
            people.setdefault(found.id, found)
    return [found for found in people.values() if found.id != person.id]


def alert_flood(session: Session, settings: Settings, flooder: Subscriber, count: int, now: datetime,
                minutes: int) -> int:
    """Tell the organisers of the flooding number's areas (or the administrators), once; returns how many."""
    areas = active_areas(session, flooder)
    return sum(1 for person in _looking_after(session, flooder, areas)
               if enqueue_in_their_language(session, settings, person, "flood_alert", OutboxKind.NOTIFY, now=now,
                                            number=mask(flooder.phone), count=count, minutes=minutes, areas=areas))


def alert_urgent(session: Session, settings: Settings, inbound: InboundMessage, sender: Subscriber, now: datetime,
                 *, answered: bool = True) -> int:
    """Text the people who look after the sender about a text that may be an emergency; returns how many.

    At once, in the first lane, whatever the hour (quiet hours do not hold it), as a text to
    each one: the words, the masked number, whether the resident was told to call 999
    (`answered`), and the ref to answer with (`U<id>`, see `handlers.urgent`). At most one
    such alert per sender per URGENT_EVERY; every such text is marked in the inbox all the same.
    """
    alerted = session.scalar(
        select(InboundMessage.id).where(
            InboundMessage.subscriber_id == sender.id, InboundMessage.id != inbound.id,
            InboundMessage.organisers_alerted_at > now - URGENT_EVERY,
        ).limit(1)
    )
    if alerted is not None:
        return 0
    areas = active_areas(session, sender)
    alert = {"ref": f"U{inbound.id}", "number": mask(sender.phone), "name": sender.name, "areas": areas,
             "words": quote(clean_body(inbound.body), URGENT_QUOTE), "answered": answered}
    told = sum(1 for person in _looking_after(session, sender, areas)
               if enqueue_in_their_language(session, settings, person, "urgent_alert", OutboxKind.NOTIFY, urgent=True,
                                            now=now, **alert))
    inbound.organisers_alerted_at = now
    return told



def raise_the_alarm(session: Session, settings: Settings, inbound: InboundMessage, sender: Subscriber, words: Words,
                    now: datetime, *, answered: bool = True) -> bool:
    """If the text may be an emergency: mark it "may be urgent" in the inbox and tell the organisers.

    Whether it may be (so the resident is owed "call 999", when `answered`).
    """
    if not may_be_urgent(words):
        return False
    inbound.urgent = True
    alert_urgent(session, settings, inbound, sender, now, answered=answered)
    return True

def _admins(session: Session) -> list[Subscriber]:
    return list(session.scalars(select(Subscriber).where(Subscriber.is_admin.is_(True)).order_by(Subscriber.id)))
