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
from sms_board.models import Area, Item, ItemStatus, OutboxKind, Report, Subscriber
from sms_board.plumbing.config import Settings
from sms_board.text.phone import mask
from sms_board.text.templates import in_sentence, render

MAX_REASON = 160  # as REJECT's reason by SMS
MAX_SHOWN = 200



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
            return "Held: waits for its author's NAME"
        if self.status == ItemStatus.PENDING:
            return "Held for an organiser"
        if self.status == ItemStatus.HIDDEN:
            return f"Hidden after {self.reports} report{'s' if self.reports != 1 else ''}"
        return f"Reported {self.reports} time{'s' if self.reports != 1 else ''}, still up"

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
                   item.author_name, mask(phone) if phone else "(forgotten)", item.created_at, counts.get(item.id, 0))
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


def told(outcome: Outcome, item: Item) -> str:
    """What the organiser is told on the page: the SMS reply's words."""
    if outcome == Outcome.HIDDEN:
        return f"#{item.ref} is hidden until you decide; {in_sentence(display_name(item.author))} has been told."
    return " ".join(render("moderation_done", outcome=outcome.value, item=item, author=display_name(item.author),
                           reason=item.moderation_note or "").split())
