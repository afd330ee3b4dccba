"""The send rate, shared by every sender process through one `sender_state` row.

The row holds the start of the next free slot. Taking a slot locks the row
(`SELECT … FOR UPDATE` on PostgreSQL; on SQLite every transaction already
begins with `BEGIN IMMEDIATE`), moves it on by the slot's length and commits,
so senders in any number of processes and threads queue behind one another
and together never go faster than the configured rate. A limiter books a block
of slots at a time, one for each of its threads asking for a slot at that moment
(at most `BOOKING_SECONDS` of them), and shares them out among those threads, so
the row is booked once for all the threads that came while the last booking was
made, not once a text, and no slot is booked for a thread that may never come.

Time comes from an injected `now` and `sleep`, so tests run the limiter on a
fake clock and never wait for real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, Interval, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from sms_board.models import SenderState, UTCDateTime
from sms_board.plumbing.db import is_sqlite, on_a_live_connection
from sms_board.plumbing.utc import utcnow

SHARED_RATE = "send_rate"
CALL_RATE = "call_rate"  # calls: a row of their own, at SMS_BOARD_CALLS_PER_SECOND
# The most send time one booking in the shared row covers (at least one slot).
BOOKING_SECONDS = 0.05
# A slot booked for a waiting thread is still handed to it this long after it began: the thread
# was asking when it was booked but got to run a little late (the GIL, a busy machine), and then
# sends at once, as a thread waking late from its sleep does. Free time older than this is dropped.
LATE_SECONDS = 0.02


_state = SenderState.__table__.c
# Booking is the limiter's one frequent statement (once for each group of threads asking): built
# once, so a booking costs its round trip and not the building of the statement again.
_BOOK = (
    update(SenderState.__table__)
    .where(_state.name == bindparam("rate_name"))
    .values(next_slot_at=func.greatest(_state.next_slot_at, bindparam("now", type_=UTCDateTime()))
            + bindparam("length", type_=Interval()),
            updated_at=bindparam("now"))
    .returning(_state.next_slot_at)
)


class SlotLimiter:
    """Hands out send slots at `rate` units (messages or segments) per second.

    Slots are booked from the shared row in blocks, one slot for each thread then asking (at
    most `BOOKING_SECONDS` of them, at least the slot asked for), and handed out to those
    threads from a local list of free time: the threads that came while one booking was made
    share the next. A block sized to the rate instead (as before) left slots no thread of this
    process came for in time, and on a busy machine a tenth to a third of what two processes
    sharing the row booked expired, the other waiting behind it (bench/RESULTS.md). Every slot handed out
    lies inside time this limiter booked in the row, and no two overlap, so the rate still
    holds across processes; a slot may be handed out up to `LATE_SECONDS` after it began (its
    text then goes at once), never later. What the list still holds when a drain ends goes
    back to the row (`give_back_unused`) if nobody has booked after it; otherwise it is lost.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        rate: float,
        *,
        name: str = SHARED_RATE,
        now: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        booking_seconds: float = BOOKING_SECONDS,
        late_seconds: float = LATE_SECONDS,
    ) -> None:
        self.factory = factory
        self.rate = rate
        self.name = name
        self.now = now
        self.sleep = sleep
        self.slots_per_booking = max(1, int(rate * booking_seconds + 1e-9))
        self._free: list[tuple[datetime, datetime]] = []  # booked, not handed out: sorted, never touching
        self.late = timedelta(seconds=late_seconds)
        self._free_lock = threading.Lock()
        self._asking = 0  # threads inside `take`: the next booking is one slot for each
        # With one slot to a booking every thread books its own, as it would without blocks;
        # with more, one thread books while the others wait for what it brings.
        self._booking_lock = threading.Lock() if self.slots_per_booking > 1 else None

    def _length(self, units: float) -> timedelta:
        return timedelta(seconds=units / self.rate)

    def take(self, units: float = 1) -> datetime:
        """Book the next free slot for `units` and return when it starts (maybe now, maybe later)."""
        step = self._length(units)
        with self._free_lock:
            self._asking += 1
        try:
            start = self._take_free(step, self.now())
            if start is not None:
                return start
            if self._booking_lock is None:
                return self._book_block(step)
            with self._booking_lock:
                start = self._take_free(step, self.now())  # another thread may have booked while this one waited
                return start if start is not None else self._book_block(step)
        finally:
            with self._free_lock:
                self._asking -= 1

    def _take_free(self, step: timedelta, moment: datetime) -> datetime | None:
        """The earliest free time from `moment` (less `late`) on that fits `step`, now handed out; None if there is none."""
        with self._free_lock:
            return self._take_free_locked(step, moment)

    def _take_free_locked(self, step: timedelta, moment: datetime) -> datetime | None:
        # Time past by more than `late` was never used: a slot never starts longer ago than that.
        moment -= self.late
        self._free = [(max(start, moment), end) for start, end in self._free if end > moment]
        for index, (start, end) in enumerate(self._free):
            if start + step <= end:
                if start + step == end:
                    del self._free[index]
                else:
                    self._free[index] = (start + step, end)
                return start
        return None

    def _book_block(self, step: timedelta) -> datetime:
        """Book one block in the row and hand out `step` of it, the rest staying on the free list.

        The block is a slot for each thread asking (this one, those waiting for this booking and
        any on their way in), at most `slots_per_booking`, and at least `step`.

        The block joins any free time it follows, so a text of several segments that did not
        fit the end of the last block starts there rather than leaving it unused. Adding the
        block and taking from it is one step under the lock: a thread on `take`'s fast path
        cannot take the booker's slot in between.
        """
        moment = self.now()
        with self._free_lock:
            asking = min(self.slots_per_booking, max(1, self._asking))
        block = max(step, self._length(asking))
        start = self._book(block)  # never before `moment`
        with self._free_lock:
            self._add_free_locked(start, start + block)
            handed_out = self._take_free_locked(step, moment)
        assert handed_out is not None
        return handed_out

    def _book(self, length: timedelta) -> datetime:
        return on_a_live_connection(lambda: self._book_once(length))

    def _book_once(self, length: timedelta) -> datetime:
        engine = self.factory.kw["bind"]
        if not is_sqlite(engine):
            booked = self._book_in_one_statement(engine, length)
            if booked is not None:
                return booked
        with self.factory.begin() as session:
            state = self._locked_state(session)
            moment = self.now()
            start = max(state.next_slot_at, moment)
            state.next_slot_at = start + length
            state.updated_at = moment
        return start

    def _add_free(self, start: datetime, end: datetime) -> None:
        with self._free_lock:
            self._add_free_locked(start, end)

    def _add_free_locked(self, start: datetime, end: datetime) -> None:
        merged: list[tuple[datetime, datetime]] = []
        for span_start, span_end in sorted([*self._free, (start, end)]):
            if merged and span_start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], span_end))
            else:
                merged.append((span_start, span_end))
        self._free = merged

    def _book_in_one_statement(self, engine: Engine, step: timedelta) -> datetime | None:
        """PostgreSQL: move the slot on in one autocommitted UPDATE … RETURNING.

        The row lock then lasts the statement alone: it is released by the database when the
        statement ends, never held while a Python thread waits for the GIL to send COMMIT.
        With many sender threads that wait, not the database, is what made slots go unused
        at 100 texts a second. None: the row does not exist yet (the first send ever).
        """
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            end = connection.scalar(_BOOK, {"rate_name": self.name, "now": self.now(), "length": step})
        return None if end is None else end - step

    def give_back(self, start: datetime, units: float = 1) -> None:
        """Return a slot nobody used to this process's free list; the next `take` may hand it out.

        A sender finding nothing to send after booking gives its slot back, so an idle
        sender never pushes the next text's slot into the future (`give_back_unused`
        then returns the lot to the shared row).
        """
        self._add_free(start, start + self._length(units))

    def give_back_unused(self) -> None:
        """Return the free time at the end of this limiter's bookings to the row, if it is still the last booked.

        Called when a drain ends. If another process has booked after it, the time is simply
        lost: slots cannot be cut out of the middle of the row's single "next free" moment.
        """
        with self._free_lock:
            if not self._free:
                return
            start, end = self._free.pop()
            self._free.clear()  # earlier gaps have someone's slots after them: they cannot go back
        with self.factory.begin() as session:
            session.execute(
                update(SenderState)
                .where(SenderState.name == self.name, SenderState.next_slot_at == end)
                .values(next_slot_at=start)
            )

    def wait(self, units: float = 1) -> datetime:
        """Book a slot, sleep until it starts, and return its start (for `give_back`)."""
        start = self.take(units)
        delay = (start - self.now()).total_seconds()
        if delay > 0:
            self.sleep(delay)
        return start

    def hold_off(self, seconds: float) -> None:
        """Nobody sends for `seconds` (Twilio said 429: the account is over its limit)."""
        with self._free_lock:
            self._free.clear()  # what this process had booked would otherwise still go out
        on_a_live_connection(lambda: self._push_back(seconds))

    def _push_back(self, seconds: float) -> None:
        with self.factory.begin() as session:
            state = self._locked_state(session)
            moment = self.now()
            state.next_slot_at = max(state.next_slot_at, moment + timedelta(seconds=seconds))
            state.updated_at = moment

    def _locked_state(self, session: Session) -> SenderState:
        query = select(SenderState).where(SenderState.name == self.name).with_for_update()
        state = session.scalar(query)
        if state is None:
            self._create_state(session)
            state = session.scalar(query)
        assert state is not None
        return state

    def _create_state(self, session: Session) -> None:
        # Two processes may start at once: whoever comes second finds the row made.
        dialect = sqlite if is_sqlite(session) else postgresql
        moment = self.now()
        session.execute(
            dialect.insert(SenderState)
            .values(name=self.name, next_slot_at=moment, updated_at=moment)
            .on_conflict_do_nothing(index_elements=["name"])
        )
