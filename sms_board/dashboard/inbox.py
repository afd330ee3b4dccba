"""The organisers' inbox: texts the board kept for a person to read, and answering them.

Kept are texts the board did not understand, HELP with more words (it may be a cry for
help), reports, flood holds, texts whose handler failed, and words from opted-out
numbers. An organiser sees those filed to their areas and, among those filed to no area,
the ones from members of their areas or from people in no area at all; an administrator
sees every one (`community.inbox`, which SMS shares). Texts that may be urgent
(`sms_board.text.urgent`) come first, marked in red, until someone deals with them. Numbers are
shown masked; a reply goes from the board's own number through the outbox, signed by the
area's organisers, never with an organiser's number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session, aliased

from sms_board.community.inbox import Refusal, ReplyRefused, answer, kept_text
from sms_board.community.inbox import visible_to as kept_by
from sms_board.dashboard.scope import Viewer
from sms_board.dashboard.voice_messages import waiting
from sms_board.models import (
    Area,
    InboundMessage,
    InboundStatus,
    Outbox,
    OutboxKind,
    OutboxStatus,
    Subscriber,
    VoiceMessage,
)
from sms_board.plumbing.config import Settings
from sms_board.text.phone import mask
from sms_board.text.phrases import phrase

PAGE_SIZE = 50

_WHY_BY_HANDLER = {
    "help": phrase("HELP with more words"),
    "report": phrase("Report"),
    "broadcast": phrase("BROADCAST from someone who is not an organiser"),
    "urgent": phrase("URGENT from someone who is not an organiser"),
    "inbox": phrase("Not understood"),
}
# What became of a reply, in the organiser's words.
STATUS_NAMES = {
    OutboxStatus.HELD: phrase("held"), OutboxStatus.QUEUED: phrase("queued"),
    OutboxStatus.SENDING: phrase("sending"), OutboxStatus.SENT: phrase("sent"),
    OutboxStatus.DELIVERED: phrase("delivered"), OutboxStatus.UNDELIVERED: phrase("undelivered"),
    OutboxStatus.FAILED: phrase("failed"), OutboxStatus.UNKNOWN: phrase("unknown"),
    OutboxStatus.CANCELLED: phrase("cancelled"),
}


@dataclass(frozen=True)
class ReplyShown:
    body: str
    status: str
    at: datetime

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, self.status)  # type: ignore[call-overload]


@dataclass(frozen=True)
class InboxEntry:
    id: int
    received_at: datetime
    sender: str  # masked
    name: str | None
    body: str
    why: str
    area: str | None
    dealt_with_at: datetime | None
    dealt_with_by: str | None
    can_reply: bool
    urgent: bool = False
    replies: tuple[ReplyShown, ...] = ()


@dataclass(frozen=True)
class InboxPage:
    entries: list[InboxEntry]
    open_count: int
    page: int
    more: bool


def why_kept(status: str, handler: str | None, error: str | None, *, urgent: bool = False) -> str:
    if urgent and status == InboundStatus.HANDLED and handler != "help":
        return phrase("May be an emergency: the sender was told to call 999")
    if status == InboundStatus.HELD:
        return phrase("Held: a flood of texts from one number")
    if status == InboundStatus.ERROR:
        return phrase("The board failed to handle this (the sender got an apology)")
    if status == InboundStatus.IGNORED:
        return phrase("From a number that has opted out (not answered)")
    return _WHY_BY_HANDLER.get(handler or "inbox", phrase("Kept by %(handler)s", handler=handler))


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """The inbox rows this viewer may read."""
    return kept_by(viewer.is_admin, viewer.area_ids)


def _open(viewer: Viewer) -> list[ColumnElement[bool]]:
    return [InboundMessage.in_inbox.is_(True), InboundMessage.dealt_with_at.is_(None), visible_to(viewer)]


def urgent_count(session: Session, viewer: Viewer) -> int:
    """Texts that may be urgent, not yet dealt with: the overview says so in red."""
    return session.scalar(
        select(func.count()).select_from(InboundMessage).where(*_open(viewer), InboundMessage.urgent.is_(True))
    ) or 0


def open_count(session: Session, viewer: Viewer) -> int:
    """Texts and voice messages to deal with, in one statement."""
    texts = select(func.count()).select_from(InboundMessage).where(*_open(viewer)).scalar_subquery()
    voice = select(func.count()).select_from(VoiceMessage).where(*waiting(viewer)).scalar_subquery()
    return session.scalar(select(texts + voice)) or 0


def inbox_page(session: Session, viewer: Viewer, *, show_all: bool = False, page: int = 1) -> InboxPage:
    """Texts that may be urgent and wait first (whatever their age), then newest first, `PAGE_SIZE` at a time:
    three statements whatever the page holds."""
    dealer = aliased(Subscriber)
    urgent_first = case((and_(InboundMessage.urgent.is_(True), InboundMessage.dealt_with_at.is_(None)), 1), else_=0)
    query = (
        select(InboundMessage, Subscriber.name, Subscriber.opted_out_at, Area.name, dealer.name)
        .outerjoin(Subscriber, Subscriber.id == InboundMessage.subscriber_id)
        .outerjoin(Area, Area.id == InboundMessage.area_id)
        .outerjoin(dealer, dealer.id == InboundMessage.dealt_with_by_id)
        .where(InboundMessage.in_inbox.is_(True), visible_to(viewer))
        .order_by(urgent_first.desc(), InboundMessage.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    )
    if not show_all:
        query = query.where(InboundMessage.dealt_with_at.is_(None))
    rows = session.execute(query).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    replies: dict[int, list[ReplyShown]] = {}
    ids = [row[0].id for row in rows]
    if ids:
        for inbound_id, body, status, at in session.execute(
            select(Outbox.inbound_id, Outbox.body, Outbox.status, Outbox.created_at)
            .where(Outbox.inbound_id.in_(ids), Outbox.kind == OutboxKind.NOTIFY).order_by(Outbox.id)
        ):
            replies.setdefault(inbound_id, []).append(ReplyShown(body, status, at))
    entries = [
        InboxEntry(
            id=inbound.id, received_at=inbound.received_at, sender=mask(inbound.from_number), name=name,
            body=inbound.body, area=area_name,
            why=why_kept(inbound.status, inbound.handler, inbound.error, urgent=bool(inbound.urgent)),
            dealt_with_at=inbound.dealt_with_at, dealt_with_by=dealer_name,
            can_reply=inbound.subscriber_id is not None and opted_out_at is None, urgent=bool(inbound.urgent),
            replies=tuple(replies.get(inbound.id, ())),
        )
        for inbound, name, opted_out_at, area_name, dealer_name in rows
    ]
    return InboxPage(entries, open_count(session, viewer), page, more)


def _visible(session: Session, viewer: Viewer, inbound_id: int) -> InboundMessage | None:
    return kept_text(session, inbound_id, viewer.is_admin, viewer.area_ids)


def mark_dealt_with(session: Session, viewer: Viewer, inbound_id: int, now: datetime, *, undo: bool = False) -> bool:
    inbound = _visible(session, viewer, inbound_id)
    if inbound is None:
        return False
    inbound.dealt_with_at = None if undo else now
    inbound.dealt_with_by_id = None if undo else viewer.subscriber_id
    return True


def reply(session: Session, settings: Settings, viewer: Viewer, inbound_id: int, text: str, now: datetime) -> Outbox:
    """Text the sender back from the board's number, signed by the organisers; marks the text dealt with."""
    inbound = _visible(session, viewer, inbound_id)
    if inbound is None:
        raise ReplyRefused(Refusal.NOT_IN_INBOX, phrase("That text is not in your inbox."))
    return answer(session, settings, inbound, text, now, by=viewer.subscriber_id, is_admin=viewer.is_admin,
                  area_ids=viewer.area_ids)
