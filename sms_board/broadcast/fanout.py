"""Set-based fan-out: one `INSERT … SELECT` writes a whole group's outbox rows.

No Python object is made per recipient: the database copies phone numbers from
`subscribers` into `outbox`, with the body and everything else the same for the
group bound once as parameters. `ON CONFLICT DO NOTHING` on the unique
(campaign, subscriber) pair makes every write safe to repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Integer, Select, String, Text, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sms_board.broadcast.outbox import prepare
from sms_board.config import Settings
from sms_board.db import is_sqlite
from sms_board.models import Outbox, OutboxKind, OutboxStatus, Subscriber, UTCDateTime

_OUTBOX_COLUMNS = (
    "to_number", "subscriber_id", "body", "kind", "status", "segments", "encoding", "attempts",
    "campaign_id", "batch_id", "created_at", "send_after",
)
# Rows that cost nothing: never sent, or refused before reaching a handset.
_NOT_BILLED = (OutboxStatus.CANCELLED.value, OutboxStatus.FAILED.value)


@dataclass(frozen=True)
class Body:
    """A text as it will be sent: smart-encoded, with its segments and encoding."""

    text: str
    segments: int
    encoding: str

    @classmethod
    def of(cls, text: str) -> Body:
        return cls(*prepare(text))


def reachable() -> list:  # type: ignore[type-arg]
    """Conditions on `Subscriber` for a number the board may text."""
    return [Subscriber.opted_out_at.is_(None), Subscriber.undeliverable_at.is_(None)]


def write_outbox(
    session: Session,
    recipients: Select,  # type: ignore[type-arg]
    body: Body,
    *,
    kind: OutboxKind,
    campaign_id: int,
    now: datetime,
    send_after: datetime | None,
    batch_id: int | None = None,
) -> int:
    """Insert one outbox row per recipient; returns how many were new.

    `recipients` selects `(Subscriber.phone, Subscriber.id)` and may carry its own
    WHERE, ORDER BY and LIMIT. Rows already written for this campaign are skipped.
    """
    status = OutboxStatus.HELD if send_after is not None else OutboxStatus.QUEUED
    rows = recipients.add_columns(
        literal(body.text, Text()),
        literal(kind.value, String()),
        literal(status.value, String()),
        literal(body.segments, Integer()),
        literal(body.encoding, String()),
        literal(0, Integer()),
        literal(campaign_id, Integer()),
        literal(batch_id, Integer()),
        literal(now, UTCDateTime()),
        literal(send_after, UTCDateTime()),
    )
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    statement = insert(Outbox).from_select(list(_OUTBOX_COLUMNS), rows).on_conflict_do_nothing(
        index_elements=["campaign_id", "subscriber_id"]
    )
    # Core execution (no ORM bookkeeping per statement); SQLAlchemy keeps an INSERT's row
    # count only when asked to.
    result = session.connection().execute(statement, execution_options={"preserve_rowcount": True})
    return max(result.rowcount, 0)


def month_start(now: datetime, settings: Settings) -> datetime:
    """The start of the board's calendar month (in its time zone), in UTC."""
    local = now.astimezone(settings.zone)
    return datetime(local.year, local.month, 1, tzinfo=settings.zone).astimezone(UTC)


def segments_this_month(session: Session, settings: Settings, now: datetime) -> int:
    return session.scalar(
        select(func.coalesce(func.sum(Outbox.segments), 0)).where(
            Outbox.created_at >= month_start(now, settings), Outbox.status.not_in(_NOT_BILLED)
        )
    ) or 0


def cap_room(session: Session, settings: Settings, now: datetime) -> int | None:
    """Segments left under SMS_BOARD_MONTHLY_SEGMENT_CAP this month, or None when there is no cap."""
    if settings.monthly_segment_cap is None:
        return None
    return settings.monthly_segment_cap - segments_this_month(session, settings, now)
