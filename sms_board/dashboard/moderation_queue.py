"""The moderation queue: held posts, posts hidden after reports, reported posts; and deciding on them.

The decisions are `community.moderation.approve`, `reject` and `hide`, the same functions
APPROVE and REJECT call by SMS: the author is told the same way and the audit log gets the
same row (channel `web`). The queue is read in two statements whatever it holds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from sms_board.community.exchange import display_name
from sms_board.community.item_lifecycle import AWAITING_DECISION
from sms_board.community.languages import enqueue_in_their_language
from sms_board.community.moderation import MODERATED_KINDS, Outcome, approve, hide, reject
from sms_board.dashboard.scope import Viewer
from sms_board.models import Area, Item, ItemKind, ItemStatus, OutboxKind, Report, Subscriber
from sms_board.plumbing.config import Settings
from sms_board.text.languages import SOURCE_LANGUAGE
from sms_board.text.phone import mask
from sms_board.text.phrases import nphrase, phrase
from sms_board.text.templates import NEIGHBOUR, render

MAX_REASON = 160  # as REJECT's reason by SMS
MAX_SHOWN = 200
# What a post is, as the queue names it.
KIND_NAMES = {ItemKind.NOTICE: phrase("notice"), ItemKind.REQUEST: phrase("request"), ItemKind.OFFER: phrase("offer")}



class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    HIDE = "hide"


@dataclass(frozen=True)
class QueueEntry:
    id: int
    ref: str
    kind: str
    status: str  # pending, unnamed, hidden or published (reported)
    body: str
    area: str
    author: str | None  # the NAME the post is signed with
    number: str  # masked
    created_at: datetime
    reports: int  # unresolved

    @property
    def why(self) -> str:
        if self.status == ItemStatus.UNNAMED:
            return phrase("Held: waits for its author's NAME")
        if self.status == ItemStatus.PENDING:
            return phrase("Held for an organiser")
        if self.status == ItemStatus.HIDDEN:
            return nphrase("Hidden after %(num)s report", "Hidden after %(num)s reports", self.reports)
        return nphrase("Reported %(num)s time, still up", "Reported %(num)s times, still up", self.reports)

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, self.kind)

    @property
    def may_approve(self) -> bool:
        return self.status != ItemStatus.UNNAMED

    @property
    def may_hide(self) -> bool:
        return self.status == ItemStatus.PUBLISHED


def _in_scope(viewer: Viewer):  # type: ignore[no-untyped-def]
    return [] if viewer.is_admin else [Item.area_id.in_(viewer.area_ids)]


def moderation_queue(session: Session, viewer: Viewer) -> list[QueueEntry]:
    """What waits for the viewer's decision, newest first."""
    open_reports = exists().where(Report.item_id == Item.id, Report.resolved_at.is_(None))
    rows = session.execute(
        select(Item, Area.name, Subscriber.phone)
        .join(Area, Area.id == Item.area_id)
        .outerjoin(Subscriber, Subscriber.id == Item.author_id)
        .where(Item.kind.in_(sorted(MODERATED_KINDS)), *_in_scope(viewer),
               or_(Item.status.in_(AWAITING_DECISION), (Item.status == ItemStatus.PUBLISHED) & open_reports))
        .order_by(Item.created_at.desc(), Item.id.desc()).limit(MAX_SHOWN)
    ).all()
    counts: dict[int, int] = {}
    ids = [item.id for item, _area, _phone in rows]
    if ids:
        counts = dict(session.execute(  # type: ignore[arg-type]
            select(Report.item_id, func.count()).where(Report.item_id.in_(ids), Report.resolved_at.is_(None))
            .group_by(Report.item_id)
        ).all())
    return [
        QueueEntry(item.id, item.ref, item.kind, item.status, item.body, area_name,
                   item.author_name, mask(phone) if phone else phrase("(forgotten)"), item.created_at,
                   counts.get(item.id, 0))
        for item, area_name, phone in rows
    ]


class NotInQueue(Exception):
    """The item is not one the viewer may decide on (another area's, or not a post)."""


def decide(
    session: Session, settings: Settings, viewer: Viewer, item_id: int, decision: Decision, reason: str,
    now: datetime,
) -> tuple[Outcome, Item]:
    """Approve, reject (with a reason) or hide, exactly as APPROVE and REJECT by SMS do it."""
    item = session.get(Item, item_id)
    if item is None or item.kind not in MODERATED_KINDS or not (viewer.is_admin or item.area_id in viewer.area_ids):
        raise NotInQueue
    moderator = session.get(Subscriber, viewer.subscriber_id)
    assert moderator is not None
    if decision == Decision.APPROVE:
        return approve(session, settings, item, moderator, now, channel="web"), item
    if decision == Decision.HIDE:
        return hide(session, settings, item, moderator, now, channel="web"), item
    outcome, ended = reject(session, settings, item, moderator, " ".join(reason.split())[:MAX_REASON], now,
                            channel="web")
    for person in ended:  # as REJECT by SMS: the other side of a connection on it is told it ended
        enqueue_in_their_language(session, settings, person, "connection_ended", OutboxKind.NOTIFY, about=item, now=now,
                                  ref=item.ref)
    return outcome, item


def told(outcome: Outcome, item: Item, language: str = SOURCE_LANGUAGE) -> str:
    """What the organiser is told on the page, in its language: the SMS reply's words."""
    author = display_name(item.author)
    if outcome == Outcome.HIDDEN:
        return phrase("#%(ref)s is hidden until you decide; %(author)s has been told.", ref=item.ref,
                      author=phrase("a neighbour") if author == NEIGHBOUR else author)
    return " ".join(render("moderation_done", language, outcome=outcome.value, item=item, author=author,
                           reason=item.moderation_note or "").split())
