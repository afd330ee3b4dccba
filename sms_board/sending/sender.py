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
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from sms_board.models import OutboxKind, OutboxStatus
from sms_board.plumbing.config import Settings
from sms_board.plumbing.db import on_a_live_connection
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
    release_unsent,
)
from sms_board.sending.opt_outs import OptOutHook
from sms_board.sending.outcomes import Recorded, cancel_in_flight, record_results
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

    def look() -> tuple[int, int, bool, bool]:
        with factory.begin() as session:
            moment = now()
            orphans = mark_stale_sending_unknown(session, moment - STALE_SENDING_AFTER, moment)
            release_held(session, moment)
            cancelled = cancel_for_unreachable(session, moment)
            return (orphans, cancelled, anything_due(session, moment),
                    settings.voice.enabled and anything_due(session, moment, calls=True))

    orphans, cancelled, texts_due, calls_due = on_a_live_connection(look)
    report.cancelled += cancelled
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
    try:
        with ThreadPoolExecutor(max_workers=sum(threads for _, threads in workers), thread_name_prefix="sender") as pool:
            futures = [pool.submit(worker.run) for worker, threads in workers for _ in range(threads)]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                for worker, _ in workers:
                    worker.halt.set()  # Ctrl-C or a worker's crash: the others finish their send and stop
                raise
    finally:
        for worker, _ in workers:
            _release_unsent(worker)
    # Booked but unused (at most one block): back to the shared row, so the next drain or
    # another sender process does not wait for it.
    for worker, _ in workers:
        worker.limiter.give_back_unused()


def _release_unsent(worker: _Worker) -> None:
    """Rows claimed for threads that stopped before taking them go back to the queue (never handed over)."""
    ids = worker.claims.left_over()
    if not ids:
        return
    try:
        with worker.factory.begin() as session:
            release_unsent(session, ids, worker.now())
    except OperationalError:
        # Left `sending`, they become `unknown` in five minutes: never sent twice, and said so.
        log.warning("%d claimed texts could not go back to the queue: the database connection failed", len(ids))


_OPTED_OUT = "recipient opted out before the send"


def _refusal(row: Claimed, reachable: bool) -> str | None:
    """Why a claimed row must not go after all (it is cancelled with this reason), or None."""
    if not reachable:
        return _OPTED_OUT
    if row.kind != OutboxKind.CALL and not takes_texts(row.to):
        return LANDLINE
    return None


class _Claims:
    """Rows claimed for this process's text threads: a batch per statement, each row for one thread.

    A thread that has its slot takes a row from here; when none is left, it claims as many as
    there are threads asking for a row at that moment with nothing of theirs still unrecorded
    (itself included), at most one block of slots (`SlotLimiter.slots_per_booking`: 10 at 200
    texts a second, 1 up to 20). So a thread never has more than one row out (claimed, on the
    wire or not yet recorded), and a sender that dies leaves at most one row a thread
    `sending` (later `unknown`), as when each thread claimed its own.
    """

    def __init__(self, claim_batch: Callable[[int], list[Claimed]], most: int,
                 recorded_through: Callable[[], int]) -> None:
        self.claim_batch = claim_batch
        self.most = max(1, most)
        self.recorded_through = recorded_through
        self.rows: deque[Claimed] = deque()
        # Threads between asking for their slot and getting their row, with the ticket of their
        # last result not yet known recorded when they asked (None: nothing outstanding).
        self.asking: dict[int, int | None] = {}
        self.empty = False  # a claim found nothing due: every thread's drain is over
        self._lock = threading.Lock()
        self._asking_lock = threading.Lock()

    def want(self, unrecorded: int | None) -> None:
        with self._asking_lock:
            self.asking[threading.get_ident()] = unrecorded

    def unwant(self) -> None:
        with self._asking_lock:
            self.asking.pop(threading.get_ident(), None)

    def _free_hands(self) -> int:
        """How many threads asking for a row have no other row out."""
        stored = self.recorded_through()
        with self._asking_lock:
            return sum(1 for ticket in self.asking.values() if ticket is None or ticket <= stored)

    def take(self) -> Claimed | None:
        """A row for the calling thread (it called `want` first, and its last row is recorded), or None."""
        try:
            with self._lock:
                if self.rows:
                    return self.rows.popleft()
                if self.empty:
                    return None
                rows = self.claim_batch(max(1, min(self.most, self._free_hands())))
                if not rows:
                    self.empty = True
                    return None
                self.rows.extend(rows[1:])
                return rows[0]
        finally:
            self.unwant()

    def left_over(self) -> list[int]:
        """The ids of rows claimed and never taken (the drain stopped first); forgotten here."""
        with self._lock:
            ids = [row.id for row in self.rows]
            self.rows.clear()
            return ids


@dataclass
class _Result:
    row: Claimed
    outcome: Exception | str | None  # None: refused before the send (`refused` says why)
    refused: str | None
    ticket: int = 0


class _Records:
    """What this process's text threads sent, stored in batches: one transaction for all that wait.

    A thread hands in its result and goes on to wait for its next slot; before it takes its
    next row it makes sure the last one is stored (`settle`). The first thread to need that
    writes everything handed in so far, in one transaction (the texts Twilio took in one
    statement); the others find theirs written. So a thread never has two rows unrecorded,
    and the batches grow with the rate without making anybody wait for a timer.
    """

    def __init__(self, write: Callable[[list[_Result]], list[Recorded]],
                 written: Callable[[list[_Result], list[Recorded]], None]) -> None:
        self.write = write
        self.written = written
        self.pending: list[_Result] = []
        self.handed_in = 0
        self.stored_through = 0
        self.writing = False
        self.error: BaseException | None = None
        self._changed = threading.Condition()

    def hand_in(self, result: _Result) -> int:
        with self._changed:
            self.handed_in += 1
            result.ticket = self.handed_in
            self.pending.append(result)
            return result.ticket

    def settle(self, ticket: int | None) -> None:
        """Return once the result with `ticket` is stored (maybe storing it, and all waiting, here)."""
        if ticket is None:
            return
        with self._changed:
            while True:
                if ticket <= self.stored_through:
                    return
                if self.error is not None:
                    raise self.error
                if not self.writing:
                    break
                self._changed.wait()
            self.writing = True
            batch, self.pending = self.pending, []
        try:
            recorded = self.write(batch)
        except BaseException as exc:
            with self._changed:
                self.error, self.writing = exc, False
                self._changed.notify_all()
            raise
        with self._changed:
            self.stored_through = batch[-1].ticket
            self.writing = False
            self._changed.notify_all()
        self.written(batch, recorded)


class _Worker:
    """What each text thread runs; everything it shares is thread-safe (factory, limiter, claims, records)."""

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
        self.records = _Records(self.write, self.count)
        self.claims = _Claims(self.claim_batch, limiter.slots_per_booking, lambda: self.records.stored_through)
        self._last = threading.local()  # each thread's last result handed in, not yet known stored

    def stopping(self) -> bool:
        return self.stop.is_set() or self.halt.is_set()

    def run(self) -> None:
        try:
            while not self.stopping() and self.send_next():
                pass
        except BaseException:
            self.halt.set()
            raise
        finally:
            self.records.settle(getattr(self._last, "ticket", None))

    def send_next(self) -> bool:
        """Send one row; False when there is nothing left to send."""
        # The slot comes before the row, so a sender stopped while it waits leaves no row
        # half-sent; a slot that finds nothing to send is given back.
        self.claims.want(getattr(self._last, "ticket", None))
        try:
            slot = self.limiter.wait(1)
            self.records.settle(getattr(self._last, "ticket", None))  # at most one row of ours unrecorded
            self._last.ticket = None
        except BaseException:
            self.claims.unwant()
            raise
        if self.stopping():
            self.claims.unwant()
            self.limiter.give_back(slot)
            return False
        row = self.claims.take()
        if row is None:
            self.limiter.give_back(slot)
            return False
        if self.settings.rate_unit == "segment" and row.segments > 1:
            self.limiter.take(row.segments - 1)  # the first segment had its slot; the rest are owed
        with recipient_on_the_wire(self.factory, row.subscriber_id) as reachable:
            refused = _refusal(row, reachable)
            outcome = self.hand_over(row) if refused is None else None
        self.at_once(outcome)
        self._last.ticket = self.records.hand_in(_Result(row, outcome, refused))
        return True

    def claim_batch(self, limit: int) -> list[Claimed]:
        def claiming() -> list[Claimed]:
            with self.factory.begin() as session:
                return claim(session, self.now(), limit=limit)

        return on_a_live_connection(claiming)

    def write(self, batch: list[_Result]) -> list[Recorded]:
        """Store what happened to a batch of sends; a dropped database connection is retried on a new one.

        The texts have gone (or not) whatever the database says: losing the record would leave
        the rows `sending`, later `unknown`, though we know how they ended.
        """
        for attempt in range(1, RECORD_ATTEMPTS + 1):
            try:
                with self.factory.begin() as session:
                    return self.store(session, batch, self.now())
            except OperationalError:
                if attempt == RECORD_ATTEMPTS:
                    raise
                log.warning("outbox %s: the database connection dropped while recording the send; trying again",
                            ", ".join(str(r.row.id) for r in batch))
                time.sleep(0.2 * attempt)
        raise AssertionError("unreachable")

    def store(self, session: Session, batch: list[_Result], now: datetime) -> list[Recorded]:
        sent = iter(record_results(session, [(r.row.id, r.outcome) for r in batch if r.outcome is not None], now,
                                   on_opt_out=self.on_opt_out))
        return [next(sent) if r.outcome is not None else cancel_in_flight(session, r.row.id, r.refused or _OPTED_OUT, now)
                for r in batch]

    def handed(self, row: Claimed) -> str:
        """Give the row to the transport; returns the provider's sid."""
        return self.transport.send(row.to, row.body, status_callback_url(self.settings, row.id)).provider_sid

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

    def at_once(self, outcome: Exception | str | None) -> None:
        """What an outcome changes before it is stored: a 429 pauses every sender, a refused account stops."""
        if isinstance(outcome, TransientError) and outcome.status == 429:
            self.limiter.hold_off(RATE_LIMITED_PAUSE_SECONDS)
        if isinstance(outcome, ConfigurationError):
            with self.report._lock:
                self.report.stopped_because = str(outcome)
                self.report.errors.append(str(outcome))
            self.halt.set()

    def count(self, batch: list[_Result], recorded: list[Recorded]) -> None:
        with self.report._lock:
            for result, stored in zip(batch, recorded, strict=True):
                if isinstance(result.outcome, ConfigurationError):
                    continue  # counted as the reason the drain stopped
                self.report.count(stored.status, stored.cancelled)
                if isinstance(result.outcome, Exception):
                    self.report.errors.append(f"{result.outcome.__class__.__name__}: {result.outcome}")
            if self.progress:
                self.progress(self.report)


class _CallWorker(_Worker):
    """The call lane: claims one call (inside its hours) at a time, places it, and stores each call Twilio took."""

    def send_next(self) -> bool:
        slot = self.limiter.wait(1)
        if self.stopping():
            self.limiter.give_back(slot)
            return False
        row = on_a_live_connection(self.claim_call)
        if row is None:
            self.limiter.give_back(slot)
            return False
        with recipient_on_the_wire(self.factory, row.subscriber_id) as reachable:
            refused = _refusal(row, reachable)
            outcome = self.hand_over(row) if refused is None else None
        self.at_once(outcome)
        result = _Result(row, outcome, refused)
        self.count([result], self.write([result]))
        return True

    def claim_call(self) -> Claimed | None:
        with self.factory.begin() as session:
            return claim_call(session, self.now(), lambda moment, zone: call_opens(moment, self.settings, zone))

    def handed(self, row: Claimed) -> str:
        request = call_request(self.settings, row.id, bridge=row.match_id is not None)
        return self.transport.place_call(row.to, request).provider_sid

    def store(self, session: Session, batch: list[_Result], now: datetime) -> list[Recorded]:
        recorded = super().store(session, batch, now)
        for result in batch:
            if isinstance(result.outcome, str):
                record_placed(session, result.row.id, result.outcome, now)
        return recorded
