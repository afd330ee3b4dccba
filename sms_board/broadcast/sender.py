"""The sender: drains the outbox through a transport.

A row is claimed (`queued` → `sending`) and committed *before* the HTTP call, so
a crash mid-send leaves evidence (`sending`, later `unknown`) rather than a
silent duplicate. Transient failures go back to `queued` with exponential
backoff; permanent ones fail the row and, for opt-outs and dead numbers, mark
the subscriber; an ambiguous send becomes `unknown` and is never retried by itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from sms_board.broadcast.transport import (
    AmbiguousError,
    PermanentError,
    TransientError,
    Transport,
)
from sms_board.clock import utcnow
from sms_board.config import Settings
from sms_board.db import is_sqlite
from sms_board.models import Outbox, OutboxStatus, Subscriber
from sms_board.phone import mask

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(seconds=2)
BACKOFF_CAP = timedelta(minutes=10)


@dataclass
class DrainReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.unknown


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempts - 1)))


def status_callback_url(settings: Settings, outbox_id: int) -> str | None:
    if not settings.public_url:
        return None
    return f"{settings.public_url}/sms/status?outbox_id={outbox_id}"


def release_held(session: Session, now: datetime) -> int:
    """Held texts whose quiet hours are over join the queue."""
    result = session.execute(
        update(Outbox)
        .where(Outbox.status == OutboxStatus.HELD.value, Outbox.send_after <= now)
        .values(status=OutboxStatus.QUEUED.value, updated_at=now)
    )
    return result.rowcount or 0


def cancel_for_unreachable(session: Session, now: datetime) -> int:
    """Nothing more goes to a number that opted out or cannot receive texts."""
    unreachable = select(Subscriber.id).where(
        or_(Subscriber.opted_out_at.is_not(None), Subscriber.undeliverable_at.is_not(None))
    )
    result = session.execute(
        update(Outbox)
        .where(
            Outbox.status.in_([OutboxStatus.QUEUED.value, OutboxStatus.HELD.value]),
            Outbox.subscriber_id.in_(unreachable),
        )
        .values(status=OutboxStatus.CANCELLED.value, error_message="recipient opted out", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def claim(session: Session, now: datetime, limit: int) -> list[Outbox]:
    """Mark up to `limit` due rows `sending` and return them; two senders never claim the same row."""
    query = (
        select(Outbox.id)
        .where(
            Outbox.status == OutboxStatus.QUEUED.value,
            or_(Outbox.send_after.is_(None), Outbox.send_after <= now),
        )
        .order_by(Outbox.id)
        .limit(limit)
    )
    if not is_sqlite(session):
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if not ids:
        return []
    session.execute(
        update(Outbox)
        .where(Outbox.id.in_(ids), Outbox.status == OutboxStatus.QUEUED.value)
        .values(status=OutboxStatus.SENDING.value, attempts=Outbox.attempts + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return list(session.scalars(select(Outbox).where(Outbox.id.in_(ids)).order_by(Outbox.id)))


def record_result(session: Session, row_id: int, outcome: Exception | str, now: datetime) -> str:
    """Store what happened to one send; returns the row's new status."""
    row = session.get(Outbox, row_id)
    assert row is not None
    row.updated_at = now
    if isinstance(outcome, str):
        row.status = OutboxStatus.SENT.value
        row.provider_sid = outcome
        row.sent_at = now
    elif isinstance(outcome, TransientError):
        row.error_code = outcome.code
        row.error_message = str(outcome)
        if row.attempts >= MAX_ATTEMPTS:
            row.status = OutboxStatus.FAILED.value
            row.error_message = f"gave up after {row.attempts} attempts: {outcome}"
        else:
            row.status = OutboxStatus.QUEUED.value
            row.send_after = now + backoff(row.attempts)
    elif isinstance(outcome, PermanentError):
        row.status = OutboxStatus.FAILED.value
        row.error_code = outcome.code
        row.error_message = str(outcome)
        subscriber = session.get(Subscriber, row.subscriber_id) if row.subscriber_id else None
        if subscriber is not None and outcome.opted_out and subscriber.opted_out_at is None:
            subscriber.opted_out_at = now
        if subscriber is not None and outcome.undeliverable and subscriber.undeliverable_at is None:
            subscriber.undeliverable_at = now
    elif isinstance(outcome, AmbiguousError):
        row.status = OutboxStatus.UNKNOWN.value
        row.error_message = str(outcome)
    else:
        row.status = OutboxStatus.UNKNOWN.value
        row.error_message = f"unexpected error: {outcome!r}"
    return row.status


def drain(
    factory: sessionmaker[Session],
    transport: Transport,
    settings: Settings,
    *,
    batch: int = 50,
    max_rows: int | None = None,
    now: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[DrainReport], None] | None = None,
) -> DrainReport:
    """Send every due row once, at `settings.rate` per second, and return what happened."""
    report = DrainReport()
    interval = 1.0 / settings.rate
    next_slot = time.monotonic()
    while max_rows is None or report.handled < max_rows:
        with factory.begin() as session:
            moment = now()
            release_held(session, moment)
            report.cancelled += cancel_for_unreachable(session, moment)
            size = batch if max_rows is None else min(batch, max_rows - report.handled)
            rows = [(r.id, r.to_number, r.body, r.segments) for r in claim(session, moment, size)]
        if not rows:
            break
        for row_id, to, body, segments in rows:
            wait = next_slot - time.monotonic()
            if wait > 0:
                sleep(wait)
            cost = segments if settings.rate_unit == "segment" else 1
            next_slot = max(next_slot, time.monotonic()) + interval * max(1, cost)
            outcome: Exception | str
            try:
                outcome = transport.send(to, body, status_callback_url(settings, row_id)).provider_sid
            except (TransientError, PermanentError, AmbiguousError) as exc:
                outcome = exc
                log.warning("send %s to %s: %s %s", row_id, mask(to), exc.__class__.__name__, exc)
            except Exception as exc:  # a transport bug must not lose track of the row
                outcome = exc
                log.exception("send %s to %s failed unexpectedly", row_id, mask(to))
            with factory.begin() as session:
                status = record_result(session, row_id, outcome, now())
            if status == OutboxStatus.SENT.value:
                report.sent += 1
            elif status == OutboxStatus.QUEUED.value:
                report.retried += 1
            elif status == OutboxStatus.UNKNOWN.value:
                report.unknown += 1
            else:
                report.failed += 1
            if progress:
                progress(report)
    return report


def mark_stale_sending_unknown(session: Session, older_than: datetime) -> int:
    """Rows left `sending` by a process that died: we cannot know if they went, so say so."""
    result = session.execute(
        update(Outbox)
        .where(Outbox.status == OutboxStatus.SENDING.value, Outbox.updated_at < older_than)
        .values(status=OutboxStatus.UNKNOWN.value, error_message="sender stopped during the send")
    )
    return result.rowcount or 0
