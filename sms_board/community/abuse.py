"""Floods and repeats: when one number sends too much, or the same thing over and over.

A flood (more than `inbound.FLOOD_LIMIT` texts in five minutes) is held by the inbound
pipeline; here is how the board knows a flood has just begun (so organisers are told
once per flood) and how many times a number has sent the very same text lately.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_board.models import InboundMessage, InboundStatus
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
