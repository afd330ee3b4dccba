"""The sender: drains the outbox through a transport.

Each send is: take a rate slot → claim one row (`queued` → `sending`, committed)
→ hand it to the transport → record what happened. The row is committed as
`sending` *before* the HTTP call, so a crash mid-send leaves evidence (`sending`,
later `unknown`) rather than a silent duplicate; the slot is taken *before* the
claim, so a sender that dies while waiting for its slot leaves nothing behind.

`SMS_BOARD_SENDER_CONCURRENCY` workers (threads) do this side by side, each
with its own sessions. Rate slots come from one shared database row
(`ratelimit.SlotLimiter`), so any number of senders together keep to
`SMS_BOARD_RATE`. Transient failures go back to `queued` with exponential
backoff up to a retry cap; permanent ones fail the row and, for opt-outs and
dead numbers, mark the subscriber; an ambiguous send becomes `unknown` and is
never retried by itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from sms_board.broadcast.ratelimit import SlotLimiter
from sms_board.broadcast.transport import (
    OPTED_OUT_CODES,
    UNDELIVERABLE_CODES,
    AmbiguousError,
    ConfigurationError,
    PermanentError,
    TransientError,
    Transport,
)
from sms_board.clock import utcnow
from sms_board.config import Settings
from sms_board.db import is_sqlite
from sms_board.models import Outbox, OutboxStatus, Subscriber
from sms_board.phone import mask
from sms_board.subscriptions import opt_out

log = logging.getLogger(__name__)

# Backoff 5 s, 10 s, 20 s … capped at 15 min: ten attempts span about 36 minutes,
# long enough to ride out a short Twilio incident, short enough that a stuck row
# is reported the same evening.
MAX_ATTEMPTS = 10
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=15)
# A 429 means the whole account is over Twilio's limit, not this one row.
RATE_LIMITED_PAUSE_SECONDS = 1.0
# A live sender holds a row `sending` for one HTTP call (seconds); older ones are orphans.
STALE_SENDING_AFTER = timedelta(minutes=5)

# A status only ever moves forward: a late or repeated callback cannot undo a later one.
# Our own pre-hand-over states (queued, sending, unknown, …) rank 0, so any word from
# Twilio about a row beats our guess; delivery is the strongest evidence of all.
_DELIVERY_RANK = {
    OutboxStatus.SENT.value: 1,
    OutboxStatus.UNDELIVERED.value: 2,
    OutboxStatus.FAILED.value: 2,
    OutboxStatus.DELIVERED.value: 3,
}
_WAITING = [OutboxStatus.QUEUED.value, OutboxStatus.HELD.value]


@dataclass
class DrainReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)
    stopped_because: str | None = None  # the account or sender is misconfigured
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.unknown

    def count(self, status: str, cancelled: int = 0) -> None:
        if status in {OutboxStatus.SENT.value, OutboxStatus.DELIVERED.value}:
            self.sent += 1
        elif status == OutboxStatus.QUEUED.value:
            self.retried += 1
        elif status == OutboxStatus.UNKNOWN.value:
            self.unknown += 1
        else:
            self.failed += 1
        self.cancelled += cancelled


@dataclass(frozen=True)
class Claimed:
    id: int
    to: str
    body: str
    segments: int


@dataclass(frozen=True)
class Recorded:
    status: str
    cancelled: int = 0  # the recipient's other waiting texts, cancelled by an opt-out or dead number


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempts - 1)))


def delivery_rank(status: str) -> int:
    return _DELIVERY_RANK.get(status, 0)


def status_callback_url(settings: Settings, outbox_id: int) -> str | None:
    if not settings.public_url:
        return None
    return f"{settings.public_url}/sms/status?outbox_id={outbox_id}"


# ── housekeeping ───────────────────────────────────────────────────────────


def release_held(session: Session, now: datetime) -> int:
    """Held texts whose quiet hours are over join the queue."""
    result = session.execute(
        update(Outbox)
        .where(Outbox.status == OutboxStatus.HELD.value, Outbox.send_after <= now)
        .values(status=OutboxStatus.QUEUED.value, updated_at=now, status_updated_at=now)
    )
    return result.rowcount or 0


def cancel_for_unreachable(session: Session, now: datetime) -> int:
    """Nothing more goes to a number that opted out or cannot receive texts."""
    result = session.execute(
        update(Outbox)
        .where(Outbox.status.in_(_WAITING), _recipient_unreachable())
        .values(
            status=OutboxStatus.CANCELLED.value, error_message="recipient opted out or unreachable",
            updated_at=now, status_updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def mark_stale_sending_unknown(session: Session, older_than: datetime, now: datetime | None = None) -> int:
    """Rows left `sending` by a process that died: we cannot know if they went, so say so."""
    now = now or utcnow()
    result = session.execute(
        update(Outbox)
        .where(
            Outbox.status == OutboxStatus.SENDING.value,
            or_(Outbox.updated_at.is_(None), Outbox.updated_at < older_than),
        )
        .values(
            status=OutboxStatus.UNKNOWN.value, error_message="sender stopped during the send",
            updated_at=now, status_updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _recipient_unreachable():  # type: ignore[no-untyped-def]
    return exists().where(
        Subscriber.id == Outbox.subscriber_id,
        or_(Subscriber.opted_out_at.is_not(None), Subscriber.undeliverable_at.is_not(None)),
    )


# ── claiming ───────────────────────────────────────────────────────────────


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return and_(
        Outbox.status == OutboxStatus.QUEUED.value,
        or_(Outbox.send_after.is_(None), Outbox.send_after <= now),
        ~_recipient_unreachable(),
    )


def anything_due(session: Session, now: datetime) -> bool:
    return session.scalar(select(Outbox.id).where(_due(now)).limit(1)) is not None


def claim(session: Session, now: datetime, limit: int = 1) -> list[Claimed]:
    """Mark up to `limit` due rows `sending`; two senders never claim the same row."""
    query = select(Outbox.id).where(_due(now)).order_by(Outbox.id).limit(limit)
    if not is_sqlite(session):  # SQLite's BEGIN IMMEDIATE already lets one claimer in at a time
        query = query.with_for_update(skip_locked=True, of=Outbox)
    ids = list(session.scalars(query))
    if not ids:
        return []
    rows = session.execute(
        update(Outbox)
        .where(Outbox.id.in_(ids), Outbox.status == OutboxStatus.QUEUED.value)
        .values(
            status=OutboxStatus.SENDING.value, attempts=Outbox.attempts + 1, updated_at=now,
            status_updated_at=now,
        )
        .returning(Outbox.id, Outbox.to_number, Outbox.body, Outbox.segments)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)


# ── recording ──────────────────────────────────────────────────────────────


def record_result(session: Session, row_id: int, outcome: Exception | str, now: datetime) -> Recorded:
    """Store what happened to one send (`outcome` is the provider's message SID when it went)."""
    if isinstance(outcome, str) and _record_sent_in_one_statement(session, row_id, outcome, now):
        return Recorded(OutboxStatus.SENT.value)
    row = session.scalar(select(Outbox).where(Outbox.id == row_id).with_for_update())
    assert row is not None, f"outbox row {row_id} vanished while it was being sent"
    if isinstance(outcome, str):
        return _record_handed_over(row, outcome, now)
    if row.status != OutboxStatus.SENDING.value:
        # A status callback overtook us: Twilio has the message, whatever our side saw.
        log.info("outbox %s: %s after Twilio already reported %s", row.id, outcome.__class__.__name__, row.status)
        return Recorded(row.status)
    row.error_code = getattr(outcome, "code", None)
    row.error_message = str(outcome)
    if isinstance(outcome, ConfigurationError):
        return _record_not_attempted(row, now)
    if isinstance(outcome, TransientError):
        return _record_transient(row, now)
    if isinstance(outcome, PermanentError):
        set_status(row, OutboxStatus.FAILED, now)
        return Recorded(row.status, mark_recipient(session, row.subscriber_id, outcome.code, now))
    if not isinstance(outcome, AmbiguousError):
        row.error_message = f"unexpected error: {outcome!r}"
    set_status(row, OutboxStatus.UNKNOWN, now)
    return Recorded(row.status)


def _record_sent_in_one_statement(session: Session, row_id: int, provider_sid: str, now: datetime) -> bool:
    """The common case, with no callback yet: `sending` → `sent` without loading the row."""
    result = session.execute(
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.status == OutboxStatus.SENDING.value)
        .values(
            status=OutboxStatus.SENT.value, provider_sid=provider_sid, sent_at=now, error_code=None,
            error_message=None, updated_at=now, status_updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _record_handed_over(row: Outbox, provider_sid: str, now: datetime) -> Recorded:
    row.provider_sid = row.provider_sid or provider_sid
    row.sent_at = row.sent_at or now
    row.error_code = row.error_message = None
    if delivery_rank(row.status) < delivery_rank(OutboxStatus.SENT.value):
        set_status(row, OutboxStatus.SENT, now)
    row.updated_at = now
    return Recorded(row.status)


def _record_not_attempted(row: Outbox, now: datetime) -> Recorded:
    # Twilio refused the account, not this text: it waits, uncounted, for the fix.
    row.attempts = max(0, row.attempts - 1)
    set_status(row, OutboxStatus.QUEUED, now)
    return Recorded(row.status)


def _record_transient(row: Outbox, now: datetime) -> Recorded:
    if row.attempts >= MAX_ATTEMPTS:
        row.error_message = f"gave up after {row.attempts} attempts: {row.error_message}"
        set_status(row, OutboxStatus.FAILED, now)
    else:
        row.send_after = now + backoff(row.attempts)
        set_status(row, OutboxStatus.QUEUED, now)
    return Recorded(row.status)


def set_status(row: Outbox, status: OutboxStatus, now: datetime) -> None:
    row.status = status.value
    row.status_updated_at = now
    row.updated_at = now


def mark_recipient(session: Session, subscriber_id: int | None, error_code: str | None, now: datetime) -> int:
    """Twilio says the number opted out (21610) or cannot take texts (21211, 21614).

    Marks the subscriber and cancels their other waiting texts; returns how many.
    """
    subscriber = session.get(Subscriber, subscriber_id) if subscriber_id else None
    if subscriber is None:
        return 0
    if error_code in OPTED_OUT_CODES and subscriber.opted_out_at is None:
        cancelled = cancel_waiting(session, subscriber.id, f"recipient opted out (Twilio {error_code})", now)
        opt_out(session, subscriber, words=f"Twilio error {error_code}", channel="carrier", now=now)
        log.warning("%s opted out at the carrier (Twilio %s)", mask(subscriber.phone), error_code)
        return cancelled
    if error_code in UNDELIVERABLE_CODES and subscriber.undeliverable_at is None:
        subscriber.undeliverable_at = now
        log.warning("%s cannot receive texts (Twilio %s)", mask(subscriber.phone), error_code)
        return cancel_waiting(session, subscriber.id, f"number cannot receive texts (Twilio {error_code})", now)
    return 0


def cancel_waiting(session: Session, subscriber_id: int, reason: str, now: datetime) -> int:
    result = session.execute(
        update(Outbox)
        .where(Outbox.subscriber_id == subscriber_id, Outbox.status.in_(_WAITING))
        .values(status=OutboxStatus.CANCELLED.value, error_message=reason, updated_at=now, status_updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# ── draining ───────────────────────────────────────────────────────────────


def drain(
    factory: sessionmaker[Session],
    transport: Transport,
    settings: Settings,
    *,
    now: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[DrainReport], None] | None = None,
    stop: threading.Event | None = None,
    limiter: SlotLimiter | None = None,
) -> DrainReport:
    """Send every due row once at `settings.rate`, `settings.sender_concurrency` at a time.

    Returns when nothing is due (rows waiting for a retry stay queued for the next
    drain), when `stop` is set, or when Twilio refuses the account itself.
    """
    report = DrainReport()
    with factory.begin() as session:
        moment = now()
        orphans = mark_stale_sending_unknown(session, moment - STALE_SENDING_AFTER, moment)
        release_held(session, moment)
        report.cancelled += cancel_for_unreachable(session, moment)
        due = anything_due(session, moment)
    if orphans:
        log.warning("%d texts were left mid-send by a sender that stopped: now `unknown`", orphans)
        report.unknown += orphans
    if not due:
        return report
    worker = _Worker(
        factory, transport, settings, limiter or SlotLimiter(factory, settings.rate, now=now, sleep=sleep),
        now, report, progress, stop or threading.Event(),
    )
    with ThreadPoolExecutor(max_workers=settings.sender_concurrency, thread_name_prefix="sender") as pool:
        futures = [pool.submit(worker.run) for _ in range(settings.sender_concurrency)]
        try:
            for future in futures:
                future.result()
        except BaseException:
            worker.halt.set()  # Ctrl-C or a worker's crash: the others finish their send and stop
            raise
    return report


class _Worker:
    """What each sender thread runs; everything it shares is thread-safe (factory, limiter, report lock)."""

    def __init__(
        self, factory: sessionmaker[Session], transport: Transport, settings: Settings, limiter: SlotLimiter,
        now: Callable[[], datetime], report: DrainReport, progress: Callable[[DrainReport], None] | None,
        stop: threading.Event,
    ) -> None:
        self.factory = factory
        self.transport = transport
        self.settings = settings
        self.limiter = limiter
        self.now = now
        self.report = report
        self.progress = progress
        self.stop = stop
        self.halt = threading.Event()

    def stopping(self) -> bool:
        return self.stop.is_set() or self.halt.is_set()

    def run(self) -> None:
        try:
            while not self.stopping() and self.send_next():
                pass
        except BaseException:
            self.halt.set()
            raise

    def send_next(self) -> bool:
        """Send one row; False when there is nothing left to send."""
        # The slot comes before the claim, so a sender stopped while it waits leaves no row
        # half-sent; a slot that finds nothing to claim is given back.
        slot = self.limiter.wait(1)
        if self.stopping():
            self.limiter.give_back(slot)
            return False
        with self.factory.begin() as session:
            claimed = claim(session, self.now(), limit=1)
        if not claimed:
            self.limiter.give_back(slot)
            return False
        row = claimed[0]
        if self.settings.rate_unit == "segment" and row.segments > 1:
            self.limiter.take(row.segments - 1)  # the first segment had its slot; the rest are owed
        outcome = self.hand_over(row)
        with self.factory.begin() as session:
            recorded = record_result(session, row.id, outcome, self.now())
        self.after(outcome, recorded)
        return True

    def hand_over(self, row: Claimed) -> Exception | str:
        try:
            return self.transport.send(row.to, row.body, status_callback_url(self.settings, row.id)).provider_sid
        except (TransientError, PermanentError, AmbiguousError, ConfigurationError) as exc:
            log.warning("outbox %s to %s: %s %s", row.id, mask(row.to), exc.__class__.__name__, exc)
            return exc
        except Exception as exc:  # a transport bug must not lose track of the row
            log.exception("outbox %s to %s failed unexpectedly", row.id, mask(row.to))
            return exc

    def after(self, outcome: Exception | str, recorded: Recorded) -> None:
        if isinstance(outcome, TransientError) and outcome.status == 429:
            self.limiter.hold_off(RATE_LIMITED_PAUSE_SECONDS)
        with self.report._lock:
            if isinstance(outcome, ConfigurationError):
                self.report.stopped_because = str(outcome)
                self.report.errors.append(str(outcome))
                self.halt.set()
            else:
                self.report.count(recorded.status, recorded.cancelled)
                if isinstance(outcome, Exception):
                    self.report.errors.append(f"{outcome.__class__.__name__}: {outcome}")
            if self.progress:
                self.progress(self.report)

