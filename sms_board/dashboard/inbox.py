"""The organisers' inbox: texts the board kept for a person to read, and answering them.

Kept are texts the board did not understand, HELP with more words (it may be a cry for
help), reports, flood holds, texts whose handler failed, and words from opted-out
numbers. An organiser sees those filed to their areas and, among those filed to no area,
the ones from members of their areas or from people in no area at all; an administrator
sees every one. Numbers are shown masked; a reply goes from the board's own number
through the outbox, signed by the area's organisers, never with an organiser's number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from sms_board.community.subscriptions import active_areas
from sms_board.config import Settings
from sms_board.dashboard.scope import Viewer
from sms_board.models import (
    Area,
    InboundMessage,
    InboundStatus,
    Outbox,
    OutboxKind,
    Subscriber,
    Subscription,
)
from sms_board.phone import mask
from sms_board.sending.outbox import enqueue
from sms_board.texts import render

PAGE_SIZE = 50
MAX_REPLY_CHARACTERS = 480

_WHY_BY_HANDLER = {
    "help": "HELP with more words",
    "report": "Report",
    "broadcast": "BROADCAST from someone who is not an organiser",
    "urgent": "URGENT from someone who is not an organiser",
    "inbox": "Not understood",
}


@dataclass(frozen=True)
class ReplyShown:
    body: str
    status: str
    at: datetime


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
    replies: tuple[ReplyShown, ...] = ()


@dataclass(frozen=True)
class InboxPage:
    entries: list[InboxEntry]
    open_count: int
    page: int
    more: bool


def why_kept(status: str, handler: str | None, error: str | None) -> str:
    if status == InboundStatus.HELD.value:
        return "Held: a flood of texts from one number"
    if status == InboundStatus.ERROR.value:
        return "The board failed to handle this (the sender got an apology)"
    if status == InboundStatus.IGNORED.value:
        return "From a number that has opted out (not answered)"
    return _WHY_BY_HANDLER.get(handler or "inbox", f"Kept by {handler}")


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """The inbox rows this viewer may read."""
    if viewer.is_admin:
        return true()
    mine = viewer.area_ids
    member_of_mine = exists().where(
        Subscription.subscriber_id == InboundMessage.subscriber_id, Subscription.area_id.in_(mine))
    member_anywhere = exists().where(Subscription.subscriber_id == InboundMessage.subscriber_id)
    return or_(
        InboundMessage.area_id.in_(mine),
        and_(InboundMessage.area_id.is_(None), or_(member_of_mine, ~member_anywhere)),
    )


def open_count(session: Session, viewer: Viewer) -> int:
    return session.scalar(
        select(func.count()).select_from(InboundMessage).where(
            InboundMessage.in_inbox.is_(True), InboundMessage.dealt_with_at.is_(None), visible_to(viewer))
    ) or 0


def inbox_page(session: Session, viewer: Viewer, *, show_all: bool = False, page: int = 1) -> InboxPage:
    """Newest first, `PAGE_SIZE` at a time: three statements whatever the page holds."""
    dealer = aliased(Subscriber)
    query = (
        select(InboundMessage, Subscriber.name, Subscriber.opted_out_at, Area.name, dealer.name)
        .outerjoin(Subscriber, Subscriber.id == InboundMessage.subscriber_id)
        .outerjoin(Area, Area.id == InboundMessage.area_id)
        .outerjoin(dealer, dealer.id == InboundMessage.dealt_with_by_id)
        .where(InboundMessage.in_inbox.is_(True), visible_to(viewer))
        .order_by(InboundMessage.id.desc())
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
            .where(Outbox.inbound_id.in_(ids), Outbox.kind == OutboxKind.NOTIFY.value).order_by(Outbox.id)
        ):
            replies.setdefault(inbound_id, []).append(ReplyShown(body, status, at))
    entries = [
        InboxEntry(
            id=inbound.id, received_at=inbound.received_at, sender=mask(inbound.from_number), name=name,
            body=inbound.body, why=why_kept(inbound.status, inbound.handler, inbound.error), area=area_name,
            dealt_with_at=inbound.dealt_with_at, dealt_with_by=dealer_name,
            can_reply=inbound.subscriber_id is not None and opted_out_at is None,
            replies=tuple(replies.get(inbound.id, ())),
        )
        for inbound, name, opted_out_at, area_name, dealer_name in rows
    ]
    return InboxPage(entries, open_count(session, viewer), page, more)


def _visible(session: Session, viewer: Viewer, inbound_id: int) -> InboundMessage | None:
    return session.scalar(select(InboundMessage).where(
        InboundMessage.id == inbound_id, InboundMessage.in_inbox.is_(True), visible_to(viewer)))


def mark_dealt_with(session: Session, viewer: Viewer, inbound_id: int, now: datetime, *, undo: bool = False) -> bool:
    inbound = _visible(session, viewer, inbound_id)
    if inbound is None:
        return False
    inbound.dealt_with_at = None if undo else now
    inbound.dealt_with_by_id = None if undo else viewer.subscriber_id
    return True


class ReplyRefused(Exception):
    """The reply cannot be sent; the message says why, for the organiser."""


def _signed_by(session: Session, viewer: Viewer, inbound: InboundMessage, person: Subscriber) -> list[Area]:
    """The areas whose organisers sign a reply, so a resident in several knows who is writing.

    The area the text was filed to (what the resident wrote about); else the resident's areas
    the viewer looks after (every one of them, for an administrator); else, for a resident in
    no area, the organiser's own. None when an administrator answers a resident in no area:
    "Your neighbourhood board organisers".
    """
    if inbound.area_id is not None:
        filed = session.get(Area, inbound.area_id)
        if filed is not None:
            return [filed]
    theirs = active_areas(session, person)
    looked_after = set(viewer.area_ids)
    shared = [area for area in theirs if area.id in looked_after]
    if shared or theirs or viewer.is_admin:
        return shared or theirs
    return [area for area in (session.get(Area, ref.id) for ref in viewer.areas) if area is not None]


def reply(session: Session, settings: Settings, viewer: Viewer, inbound_id: int, text: str, now: datetime) -> Outbox:
    """Text the sender back from the board's number, signed by the organisers; marks the text dealt with."""
    words = " ".join(text.split())
    if not words:
        raise ReplyRefused("Write a reply first.")
    if len(words) > MAX_REPLY_CHARACTERS:
        raise ReplyRefused(f"Keep a reply under {MAX_REPLY_CHARACTERS} characters (a few texts).")
    inbound = _visible(session, viewer, inbound_id)
    if inbound is None:
        raise ReplyRefused("That text is not in your inbox.")
    person = session.get(Subscriber, inbound.subscriber_id) if inbound.subscriber_id else None
    if person is None:
        raise ReplyRefused("The board cannot text this sender back (not a phone number, or erased).")
    areas = _signed_by(session, viewer, inbound, person)
    body = render("organiser_reply", text=words, areas=areas)
    row = enqueue(session, settings, person, body, OutboxKind.NOTIFY,
                  zone_name=areas[0].timezone if areas else None, now=now)
    if row is None:
        raise ReplyRefused("They have opted out (STOP) or their number cannot take texts: nothing was sent.")
    row.inbound_id = inbound.id
    inbound.dealt_with_at = now
    inbound.dealt_with_by_id = viewer.subscriber_id
    return row
