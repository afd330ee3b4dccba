"""The send rate, shared by every sender process through one `sender_state` row.

The row holds the start of the next free slot. Taking a slot locks the row
(`SELECT … FOR UPDATE` on PostgreSQL; on SQLite every transaction already
begins with `BEGIN IMMEDIATE`), moves it on by the slot's length and commits,
so senders in any number of processes and threads queue behind one another
and together never go faster than the configured rate. A limiter books a block
of slots at a time and shares it out among its threads. While it has the row to
itself it books a whole block (`BOOKING_SECONDS` of slots), so the row is booked
a few times a second, not once a text; once another process books in the row it
books one slot for each of its threads asking at that moment, so no slot is
booked for a thread that may never come while the other process waits behind it.

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
# A limiter that found another's booking in the row books one slot per thread asking for this
# long after (measured from the last such booking), then whole blocks again.
SHARED_SECONDS = 1.0


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

    Slots are booked from the shared row in blocks and handed out to this process's threads
    from a local list of free time. How big a block is depends on who else books in the row:

    - **alone** (this limiter's last booking that had to queue in the row queued right behind
      its own booking before, and no other booker has been seen for `SHARED_SECONDS`): a whole
      block, `BOOKING_SECONDS` of slots (10 at 200 texts a second). One booking serves ten
      texts, and a slot no thread came for in time costs nobody else anything;
    - **sharing** (another process's booking lay between two of this limiter's, or it has not
      yet seen its own bookings follow one another): one slot for each thread then asking (the
      booker, those waiting behind it for the booking, any on their way in), at most a whole
      block. A block sized to the rate left slots no thread of this process came for in time,
      and on a busy machine a tenth to a third of what two processes sharing the row booked
      expired, the other waiting behind it (bench/RESULTS.md).

    Every slot handed out lies inside time this limiter booked in the row, and no two overlap,
    so the rate still holds across processes; a slot may be handed out up to `LATE_SECONDS`
    after it began (its text then goes at once), never later. What the list still holds when a
    drain ends goes back to the row (`give_back_unused`) if nobody has booked after it;
    otherwise it is lost.
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
        shared_seconds: float = SHARED_SECONDS,
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
        self._asking = 0  # threads inside `take`: while sharing, the next booking is one slot for each
        self._booked_until: datetime | None = None  # the end of this limiter's last booking
        self._alone = False  # its last booking that queued in the row queued behind its own
        self.shared_for = timedelta(seconds=shared_seconds)
        self._shared_until: datetime | None = None  # another's booking was seen: sharing until then
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

        The block is a whole block (`slots_per_booking`) while this limiter has the row to
        itself, else a slot for each thread asking (this one, those waiting for this booking
        and any on their way in), at most a whole block; at least `step` either way.

        The block joins any free time it follows, so a text of several segments that did not
        fit the end of the last block starts there rather than leaving it unused. Adding the
        block and taking from it is one step under the lock: a thread on `take`'s fast path
        cannot take the booker's slot in between.
        """
        moment = self.now()
        with self._free_lock:
            slots = self.slots_per_booking if self._has_the_row(moment) else min(self.slots_per_booking,
                                                                                max(1, self._asking))
        block = max(step, self._length(slots))
        start = self._book(block)  # never before `moment`
        with self._free_lock:
            self._add_free_locked(start, start + block)
            handed_out = self._take_free_locked(step, moment)
        assert handed_out is not None
        return handed_out

    def _has_the_row(self, moment: datetime) -> bool:
        return self._alone and (self._shared_until is None or moment >= self._shared_until)

    def _booked(self, start: datetime, end: datetime, moment: datetime) -> None:
        """Note a booking from `start` to `end` made at `moment`: does another process book in the row?

        A booking that had to queue (the row's next free slot was after `moment`) and does not
        start where this limiter's last booking ended queued behind someone else's. One that
        did not queue says nothing: the rate was not all taken.
        """
        with self._free_lock:
            if start > moment:
                if start == self._booked_until:
                    self._alone = True
                else:
                    self._alone = False
                    self._shared_until = moment + self.shared_for
            self._booked_until = end

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
        self._booked(start, start + length, moment)
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
        moment = self.now()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            end = connection.scalar(_BOOK, {"rate_name": self.name, "now": moment, "length": step})
        if end is None:
            return None
        self._booked(end - step, end, moment)
        return end - step

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
