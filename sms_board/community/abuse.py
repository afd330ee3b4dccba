"""Floods and repeats: when one number sends too much, or the same thing over and over.

The inbound pipeline holds a flood (more than `inbound.FLOOD_LIMIT` texts in five minutes)
and asks here whether it has just begun, so that organisers are told once per flood. The
very same text more than IDENTICAL_LIMIT times in IDENTICAL_WINDOW gets one answer, then
silence, and is not routed at all (a sixth identical POST posts nothing).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_board.community.alerts import alert_flood
from sms_board.config import Settings
from sms_board.models import InboundMessage, InboundStatus, Subscriber
from sms_board.sending.outbox import record_replies
from sms_board.texts import render
from sms_board.words import fold

IDENTICAL_WINDOW = timedelta(minutes=5)
# The same text more than this many times in IDENTICAL_WINDOW gets one answer, then none.
IDENTICAL_LIMIT = 5
# Texts that are the same by design: MORE pages through a long digest, and each answer differs.
REPEATABLE = frozenset({"MORE"})


def flood_begins(session: Session, phone: str, inbound_id: int, window: timedelta, now: datetime) -> bool:
    """Whether this held text starts a flood: no other text of the number was held within the window."""
    return session.scalar(
        select(InboundMessage.id).where(
            InboundMessage.from_number == phone, InboundMessage.id != inbound_id,
            InboundMessage.status == InboundStatus.HELD.value, InboundMessage.received_at > now - window,
        ).limit(1)
    ) is None


def identical_before(session: Session, phone: str, body: str, inbound_id: int, now: datetime) -> int:
    """How many times the number sent exactly this text in the last IDENTICAL_WINDOW, before this one.

    Always 0 for a text that is the same by design (MORE).
    """
    if fold(body) in REPEATABLE:
        return 0
    return session.scalar(
        select(func.count()).select_from(InboundMessage).where(
            InboundMessage.from_number == phone, InboundMessage.id != inbound_id, InboundMessage.body == body,
            InboundMessage.received_at > now - IDENTICAL_WINDOW,
        )
    ) or 0


def flood_held(session: Session, settings: Settings, inbound: InboundMessage, flooder: Subscriber, count: int,
               window: timedelta, now: datetime) -> None:
    """A held text of a flood: the organisers hear of it when it is the flood's first."""
    if flood_begins(session, flooder.phone, inbound.id, window, now):
        alert_flood(session, settings, flooder, count, now, int(window.total_seconds() // 60))


def repeated(session: Session, inbound: InboundMessage, sender: Subscriber, now: datetime, *, by_rest: bool,
             earlier: int | None = None) -> bool:
    """Whether this text is one repeat too many (and so not to be routed); the first such is answered once.

    `earlier` is `identical_before`'s count when the caller read it already (with the flood count).
    """
    if earlier is None:
        earlier = identical_before(session, sender.phone, inbound.body, inbound.id, now)
    if earlier < IDENTICAL_LIMIT:
        return False
    inbound.status = InboundStatus.IGNORED.value
    inbound.error = f"the same text {earlier + 1} times in {int(IDENTICAL_WINDOW.total_seconds() // 60)} minutes"
    inbound.handled_at = now
    if earlier == IDENTICAL_LIMIT and not sender.opted_out:
        inbound.in_inbox = True
        inbound.replies_queued = by_rest
        inbound.replies = record_replies(session, sender.phone, sender.id, [render("repeat_noted", count=earlier + 1)],
                                         inbound_id=inbound.id, now=now, by_rest=by_rest)
    return True
