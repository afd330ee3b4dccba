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
never retried by itself. Every status change is `sending.delivery`'s.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from sms_board.models import OutboxKind, OutboxStatus
from sms_board.plumbing.config import Settings
from sms_board.plumbing.utc import utcnow
from sms_board.sending.call_hours import call_opens
from sms_board.sending.calls import call_request, record_placed
from sms_board.sending.delivery import (
    Claimed,
    anything_due,
    cancel_for_unreachable,
    claim,
    claim_call,
    mark_stale_sending_unknown,
    release_held,
)
from sms_board.sending.opt_outs import OptOutHook
from sms_board.sending.outcomes import Recorded, cancel_in_flight, record_result
from sms_board.sending.ratelimit import CALL_RATE, SlotLimiter
from sms_board.sending.reachability import LANDLINE, recipient_on_the_wire, takes_texts
from sms_board.sending.transport import (
    AmbiguousError,
    ConfigurationError,
    PermanentError,
    TransientError,
    Transport,
)
from sms_board.text.phone import mask, mask_numbers

log = logging.getLogger(__name__)

# A 429 means the whole account is over Twilio's limit, not this one row.
RATE_LIMITED_PAUSE_SECONDS = 1.0
# A dropped database connection: how often recording a finished send is tried, and how long
# the worker waits before draining again.
RECORD_ATTEMPTS = 3
DATABASE_RETRY_SECONDS = 2.0
# A live sender holds a row `sending` for one HTTP call (seconds); older ones are orphans.
STALE_SENDING_AFTER = timedelta(minutes=5)
# After Twilio refuses the account, look again this often: someone may be fixing the settings.
CONFIGURATION_RETRY_SECONDS = 60.0


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
        if status in {OutboxStatus.SENT, OutboxStatus.DELIVERED}:
            self.sent += 1
        elif status == OutboxStatus.QUEUED:
            self.retried += 1
        elif status == OutboxStatus.UNKNOWN:
            self.unknown += 1
        elif status == OutboxStatus.CANCELLED:
            self.cancelled += 1
        else:
            self.failed += 1
        self.cancelled += cancelled


def status_callback_url(settings: Settings, outbox_id: int) -> str | None:
    if not settings.public_url:
        return None
    return f"{settings.public_url}/sms/status?outbox_id={outbox_id}"


# ── the worker process ─────────────────────────────────────────────────────


def run_forever(
    factory: sessionmaker[Session],
    transport: Transport,
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    poll: float = 1.0,
    report_to: Callable[[DrainReport], None] | None = None,
    retry_after: float = CONFIGURATION_RETRY_SECONDS,
    on_opt_out: OptOutHook | None = None,
) -> None:
    """Drain the outbox, wait `poll` seconds, drain again, until `stop` is set (the Procfile worker).

    Run in the main thread, SIGTERM (a deploy) sets `stop`: the sends in flight
    finish, then this returns. Every drain that handled or cancelled texts, or that
    Twilio refused the account for, goes to `report_to`; after a refusal the next
    try waits `retry_after` seconds instead of `poll`. Needs no Flask app. `on_opt_out`: as `drain`'s.
    """
    stop = stop if stop is not None else threading.Event()
    with _stopped_by_sigterm(stop):
        while not stop.is_set():
            try:
                report = drain(factory, transport, settings, stop=stop, on_opt_out=on_opt_out)
            except OperationalError as exc:
                # The database went away (a restart, a failover, a killed connection): what was
                # claimed stays `sending` and becomes `unknown`, never resent; the rest waits.
                log.warning("the database connection failed (%s); trying again in %.0f s",
                            exc.orig.__class__.__name__ if exc.orig else exc.__class__.__name__, DATABASE_RETRY_SECONDS)
                stop.wait(DATABASE_RETRY_SECONDS)
                continue
            if report_to is not None and (report.stopped_because or report.handled or report.cancelled):
                report_to(report)
            stop.wait(retry_after if report.stopped_because else poll)


@contextmanager
def _stopped_by_sigterm(stop: threading.Event) -> Iterator[None]:
    """SIGTERM sets `stop` while inside; only the main thread can take signals, elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


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
    call_limiter: SlotLimiter | None = None,
    on_opt_out: OptOutHook | None = None,
) -> DrainReport:
    """Send every due row once at `settings.rate`, `settings.sender_concurrency` at a time.

    Calls (with voice on) are placed beside them by a worker of their own at
    `settings.voice.calls_per_second`, from a shared row of their own: a call waiting for
    its slot never holds up a text. Returns when nothing is due (rows waiting for a retry
    stay queued for the next drain), when `stop` is set, or when Twilio refuses the account itself.
    `on_opt_out`: what else ends when Twilio refuses a number as opted out (`opt_outs.mark_recipient`).
    """
    report = DrainReport()
    with factory.begin() as session:
        moment = now()
        orphans = mark_stale_sending_unknown(session, moment - STALE_SENDING_AFTER, moment)
        release_held(session, moment)
        report.cancelled += cancel_for_unreachable(session, moment)
        texts_due = anything_due(session, moment)
        calls_due = settings.voice.enabled and anything_due(session, moment, calls=True)
    if orphans:
        log.warning("%d texts were left mid-send by a sender that stopped: now `unknown`", orphans)
        report.unknown += orphans
    stop = stop or threading.Event()
    workers: list[tuple[_Worker, int]] = []
    if texts_due:
        limiter = limiter or SlotLimiter(factory, settings.rate, now=now, sleep=sleep)
        workers.append((_Worker(factory, transport, settings, limiter, now, report, progress, stop, on_opt_out),
                        settings.sender_concurrency))
    if calls_due:
        call_limiter = call_limiter or SlotLimiter(factory, settings.voice.calls_per_second, name=CALL_RATE, now=now,
                                                   sleep=sleep)
        workers.append((_CallWorker(factory, transport, settings, call_limiter, now, report, progress, stop,
                                    on_opt_out), 1))
    if workers:
        _run_workers(workers)
    return report


def _run_workers(workers: list[tuple[_Worker, int]]) -> None:
    """Each worker run in `threads` threads side by side, until none has anything left."""
    with ThreadPoolExecutor(max_workers=sum(threads for _, threads in workers), thread_name_prefix="sender") as pool:
        futures = [pool.submit(worker.run) for worker, threads in workers for _ in range(threads)]
        try:
            for future in futures:
                future.result()
        except BaseException:
            for worker, _ in workers:
                worker.halt.set()  # Ctrl-C or a worker's crash: the others finish their send and stop
            raise
    # Booked but unused (at most one block): back to the shared row, so the next drain or
    # another sender process does not wait for it.
    for worker, _ in workers:
        worker.limiter.give_back_unused()


_OPTED_OUT = "recipient opted out before the send"


def _refusal(row: Claimed, reachable: bool) -> str | None:
    """Why a claimed row must not go after all (it is cancelled with this reason), or None."""
    if not reachable:
        return _OPTED_OUT
    if row.kind != OutboxKind.CALL and not takes_texts(row.to):
        return LANDLINE
    return None


class _Worker:
    """What each sender thread runs; everything it shares is thread-safe (factory, limiter, report lock)."""

    def __init__(
        self, factory: sessionmaker[Session], transport: Transport, settings: Settings, limiter: SlotLimiter,
        now: Callable[[], datetime], report: DrainReport, progress: Callable[[DrainReport], None] | None,
        stop: threading.Event, on_opt_out: OptOutHook | None = None,
    ) -> None:
        self.on_opt_out = on_opt_out
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
            row = self.claim_one(session)
        if row is None:
            self.limiter.give_back(slot)
            return False
        if self.settings.rate_unit == "segment" and row.segments > 1:
            self.limiter.take(row.segments - 1)  # the first segment had its slot; the rest are owed
        with recipient_on_the_wire(self.factory, row.subscriber_id) as reachable:
            refused = _refusal(row, reachable)
            outcome = self.hand_over(row) if refused is None else None
        self.after(outcome, self.record(row, outcome, refused))
        return True

    def record(self, row: Claimed, outcome: Exception | str | None, refused: str | None = None) -> Recorded:
        """Store what happened; a dropped database connection is retried on a new one.

        The text has gone (or not) whatever the database says: losing the record would leave
        the row `sending`, later `unknown`, though we know how it ended.
        """
        for attempt in range(1, RECORD_ATTEMPTS + 1):
            try:
                with self.factory.begin() as session:
                    if outcome is None:
                        return cancel_in_flight(session, row.id, refused or _OPTED_OUT, self.now())
                    return self.record_in(session, row, outcome)
            except OperationalError:
                if attempt == RECORD_ATTEMPTS:
                    raise
                log.warning("outbox %s: the database connection dropped while recording the send; trying again",
                            row.id)
                time.sleep(0.2 * attempt)
        raise AssertionError("unreachable")

    def claim_one(self, session: Session) -> Claimed | None:
        claimed = claim(session, self.now(), limit=1)
        return claimed[0] if claimed else None

    def handed(self, row: Claimed) -> str:
        """Give the row to the transport; returns the provider's sid."""
        return self.transport.send(row.to, row.body, status_callback_url(self.settings, row.id)).provider_sid

    def record_in(self, session: Session, row: Claimed, outcome: Exception | str) -> Recorded:
        return record_result(session, row.id, outcome, self.now(), on_opt_out=self.on_opt_out)

    def hand_over(self, row: Claimed) -> Exception | str:
        try:
            return self.handed(row)
        except (TransientError, PermanentError, AmbiguousError, ConfigurationError) as exc:
            # Twilio names the number in some refusals ("The 'To' number +44… is not valid").
            log.warning("outbox %s to %s: %s %s", row.id, mask(row.to), exc.__class__.__name__, mask_numbers(str(exc)))
            return exc
        except Exception as exc:  # a transport bug must not lose track of the row
            log.exception("outbox %s to %s failed unexpectedly", row.id, mask(row.to))
            return exc

    def after(self, outcome: Exception | str | None, recorded: Recorded) -> None:
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



class _CallWorker(_Worker):
    """The call lane: claims only calls (inside their hours), places them, and stores each call Twilio took."""

    def claim_one(self, session: Session) -> Claimed | None:
        return claim_call(session, self.now(), lambda moment, zone: call_opens(moment, self.settings, zone))

    def handed(self, row: Claimed) -> str:
        request = call_request(self.settings, row.id, bridge=row.match_id is not None)
        return self.transport.place_call(row.to, request).provider_sid

    def record_in(self, session: Session, row: Claimed, outcome: Exception | str) -> Recorded:
        recorded = record_result(session, row.id, outcome, self.now(), on_opt_out=self.on_opt_out)
        if isinstance(outcome, str):
            record_placed(session, row.id, outcome, self.now())
        return recorded
