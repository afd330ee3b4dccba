"""Writing texts to the outbox. Handlers and digests call this; only the sender sends."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from sms_board.clock import utcnow
from sms_board.config import Settings
from sms_board.models import Outbox as OutboxRow
from sms_board.models import OutboxKind, OutboxStatus, Subscriber
from sms_board.quiet import held_until
from sms_board.segments import analyse, smart_encode

# Relays are a conversation in progress; everything else waits for quiet hours to end.
_SENT_IN_QUIET_HOURS = {OutboxKind.RELAY}


def prepare(body: str) -> tuple[str, int, str]:
    """Smart-encode a body and measure it: (text as sent, segments, encoding)."""
    text = smart_encode(body)
    info = analyse(text)
    return text, info.segments, info.encoding


def enqueue(
    session: Session,
    settings: Settings,
    recipient: Subscriber,
    body: str,
    kind: OutboxKind,
    *,
    zone_name: str | None = None,
    urgent: bool = False,
    item_id: int | None = None,
    now: datetime | None = None,
) -> OutboxRow | None:
    """Queue one text to a subscriber, or hold it for quiet hours. Nothing goes to an opted-out number."""
    if recipient.opted_out_at is not None or recipient.undeliverable_at is not None:
        return None
    now = now or utcnow()
    held = held_until(now, settings, zone_name or settings.timezone, urgent=urgent or kind in _SENT_IN_QUIET_HOURS)
    text, segments, encoding = prepare(body)
    row = OutboxRow(
        to_number=recipient.phone,
        subscriber_id=recipient.id,
        body=text,
        kind=kind.value,
        status=(OutboxStatus.HELD if held else OutboxStatus.QUEUED).value,
        segments=segments,
        encoding=encoding,
        item_id=item_id,
        created_at=now,
        send_after=held,
    )
    session.add(row)
    return row
