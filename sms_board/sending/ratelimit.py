"""The send rate, shared by every sender process through one `sender_state` row.

The row holds the start of the next free slot. Taking a slot locks the row
(`SELECT … FOR UPDATE` on PostgreSQL; on SQLite every transaction already
begins with `BEGIN IMMEDIATE`), moves it on by the slot's length and commits,
so senders in any number of processes and threads queue behind one another
and together never go faster than the configured rate.

Time comes from an injected `now` and `sleep`, so tests run the limiter on a
fake clock and never wait for real.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from sms_board.db import is_sqlite
from sms_board.models import SenderState, UTCDateTime
from sms_board.utc import utcnow

SHARED_RATE = "send_rate"


class SlotLimiter:
    """Hands out send slots at `rate` units (messages or segments) per second."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        rate: float,
        *,
        name: str = SHARED_RATE,
        now: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.factory = factory
        self.rate = rate
        self.name = name
        self.now = now
        self.sleep = sleep

    def take(self, units: float = 1) -> datetime:
        """Book the next free slot for `units` and return when it starts (maybe now, maybe later)."""
        step = timedelta(seconds=units / self.rate)
        engine = self.factory.kw["bind"]
        if not is_sqlite(engine):
            booked = self._book_in_one_statement(engine, step)
            if booked is not None:
                return booked
        with self.factory.begin() as session:
            state = self._locked_state(session)
            moment = self.now()
            start = max(state.next_slot_at, moment)
            state.next_slot_at = start + step
            state.updated_at = moment
        return start

    def _book_in_one_statement(self, engine: Engine, step: timedelta) -> datetime | None:
        """PostgreSQL: move the slot on in one autocommitted UPDATE … RETURNING.

        The row lock then lasts the statement alone: it is released by the database when the
        statement ends, never held while a Python thread waits for the GIL to send COMMIT.
        With many sender threads that wait, not the database, is what made slots go unused
        at 100 texts a second. None: the row does not exist yet (the first send ever).
        """
        moment = self.now()
        now_param = bindparam("now", moment, type_=UTCDateTime())
        state = SenderState.__table__.c
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            end = connection.scalar(
                update(SenderState.__table__)
                .where(state.name == self.name)
                .values(next_slot_at=func.greatest(state.next_slot_at, now_param) + step, updated_at=moment)
                .returning(state.next_slot_at)
            )
        return None if end is None else end - step

    def give_back(self, start: datetime, units: float = 1) -> None:
        """Return a slot nobody used, when it is still the last one booked (else it is simply lost).

        A sender finding nothing to send after booking gives its slot back, so an idle
        sender never pushes the next text's slot into the future.
        """
        end = start + timedelta(seconds=units / self.rate)
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
