"""The organisers' inbox, as SMS and the dashboard share it: who may read a kept text, and answering it.

An organiser may read the texts filed to their areas and, among those filed to no area, the
ones from members of their areas or from people in no area at all; an administrator reads
every one. An answer goes from the board's own number through the outbox, signed by the
area's organisers, never with an organiser's number, and marks the text dealt with. An
answer to a text that may be urgent is not held by quiet hours (it goes like a relay).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, exists, or_, select, true
from sqlalchemy.orm import Session

from sms_board.community.languages import enqueue_in_their_language
from sms_board.community.subscriptions import active_areas
from sms_board.models import Area, InboundMessage, Outbox, OutboxKind, Subscriber, Subscription
from sms_board.plumbing.config import Settings
from sms_board.text.phrases import phrase

MAX_REPLY_CHARACTERS = 480


def visible_to(is_admin: bool, area_ids: Sequence[int]) -> ColumnElement[bool]:
    """The inbox rows someone who organises `area_ids` (or an administrator) may read."""
    if is_admin:
        return true()
    mine = list(area_ids)
    member_of_mine = exists().where(
        Subscription.subscriber_id == InboundMessage.subscriber_id, Subscription.area_id.in_(mine))
    member_anywhere = exists().where(Subscription.subscriber_id == InboundMessage.subscriber_id)
    return or_(
        InboundMessage.area_id.in_(mine),
        and_(InboundMessage.area_id.is_(None), or_(member_of_mine, ~member_anywhere)),
    )


def kept_text(session: Session, inbound_id: int, is_admin: bool, area_ids: Sequence[int], *,
              urgent_only: bool = False) -> InboundMessage | None:
    """The inbox text `inbound_id`, if this reader may see it (and, with `urgent_only`, it may be urgent)."""
    query = select(InboundMessage).where(
        InboundMessage.id == inbound_id, InboundMessage.in_inbox.is_(True), visible_to(is_admin, area_ids))
    if urgent_only:
        query = query.where(InboundMessage.urgent.is_(True))
    return session.scalar(query)


class Refusal(StrEnum):
    """Why an answer was not sent: a code, so a text can word it in the organiser's language."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    UNREACHABLE = "unreachable"
    NOT_IN_INBOX = "not_in_inbox"
    OPTED_OUT = "opted_out"


class ReplyRefused(Exception):
    """The answer cannot be sent; `reason` says why (`urgent_answer_refused` words it), the message too, for pages."""

    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def signed_by(session: Session, inbound: InboundMessage, person: Subscriber, *, is_admin: bool,
              area_ids: Sequence[int]) -> list[Area]:
    """The areas whose organisers sign an answer, so a resident in several knows who is writing.

    The area the text was filed to (what the resident wrote about); else the resident's areas
    the one answering looks after (every one of them, for an administrator); else, for a
    resident in no area, the organiser's own. None when an administrator answers a resident in
    no area: "Your neighbourhood board organisers".
    """
    if inbound.area_id is not None:
        filed = session.get(Area, inbound.area_id)
        if filed is not None:
            return [filed]
    theirs = active_areas(session, person)
    looked_after = set(area_ids)
    shared = [area for area in theirs if area.id in looked_after]
    if shared or theirs or is_admin:
        return shared or theirs
    return list(session.scalars(select(Area).where(Area.id.in_(list(area_ids))).order_by(Area.name)))


def answer(session: Session, settings: Settings, inbound: InboundMessage, text: str, now: datetime, *,
           by: int, is_admin: bool, area_ids: Sequence[int]) -> Outbox:
    """Text the sender of `inbound` back from the board, signed by the organisers of their area (`signed_by`)."""
    words = " ".join(text.split())
    if not words:
        raise ReplyRefused(Refusal.EMPTY, phrase("Write a reply first."))
    if len(words) > MAX_REPLY_CHARACTERS:
        raise ReplyRefused(Refusal.TOO_LONG, phrase("Keep a reply under %(most)s characters (a few texts).",
                                                    most=MAX_REPLY_CHARACTERS))
    person = session.get(Subscriber, inbound.subscriber_id) if inbound.subscriber_id else None
    if person is None:
        raise ReplyRefused(Refusal.UNREACHABLE,
                           phrase("The board cannot text this sender back (not a phone number, or erased)."))
    areas = signed_by(session, inbound, person, is_admin=is_admin, area_ids=area_ids)
    rows = enqueue_in_their_language(session, settings, person, "organiser_reply", OutboxKind.NOTIFY,
                                     urgent=bool(inbound.urgent), zone_name=areas[0].timezone if areas else None,
                                     now=now, to_helpers=True, text=words, areas=areas)
    if not rows:
        raise ReplyRefused(Refusal.OPTED_OUT,
                           phrase("They have opted out (STOP) or their number cannot take texts: nothing was sent."))
    for row in rows:
        row.inbound_id = inbound.id
    inbound.dealt_with_at = now
    inbound.dealt_with_by_id = by
    return rows[0]
