"""Engine and session set-up for SQLite and PostgreSQL.

SQLite is a real target: WAL so readers never wait for the writer, a busy
timeout so writers queue instead of failing, and `BEGIN IMMEDIATE` so a
transaction takes the write lock up front (a read lock upgraded later cannot
wait on the busy timeout and fails with "database is locked").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Engine, Integer, any_, bindparam, create_engine, event, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

log = logging.getLogger(__name__)
T = TypeVar("T")


def make_engine(url: str, **kwargs: object) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _tune_sqlite(engine)
        return engine
    # No round trip to test each connection as it is checked out: a connection PostgreSQL dropped fails
    # its first statement instead, which invalidates the pool, and the caller tries again once (the
    # webhook: `web.sms.inbound`).
    kwargs.setdefault("pool_pre_ping", False)
    engine = create_engine(url, **kwargs)
    if engine.dialect.driver == "psycopg":
        _plan_when_asked(engine)
    return engine


# An execution option: plan this statement for its own parameters every time it runs.
#
# psycopg prepares a statement on the server once a connection has run it five times, and
# PostgreSQL then switches to a generic plan, made without the parameters' values, whenever it
# costs no more than the custom ones. A fan-out chunk runs the same statement hundreds of times
# with `area_id = ANY(:ids)`; planned blind, the filter on thousands of areas looks selective
# and every chunk read the whole of `ix_subscriptions_area_id` (all the target areas'
# subscriptions, not the chunk's) to AND it with the chunk's id range: a cost per chunk that
# grew with the board. Sent unprepared, each statement is planned for its own values, in a
# fraction of a millisecond.
PLAN_EACH_TIME = {"plan_each_time": True}


def _plan_when_asked(engine: Engine) -> None:
    @event.listens_for(engine, "do_execute")
    def _do_execute(cursor, statement, parameters, context) -> bool | None:  # type: ignore[no-untyped-def]
        if not context.execution_options.get("plan_each_time"):
            return None
        cursor.execute(statement, parameters, prepare=False)
        return True


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "sqlite"


def among(session: Session, column: ColumnElement[int], ids: Iterable[int]) -> ColumnElement[bool]:
    """`column IN ids`, sent to PostgreSQL as one array parameter (`= ANY(:ids)`).

    A fan-out statement names the run's areas, campaigns or batches, and there may be
    thousands: as `IN (…)` each would be a parameter of its own, and a statement's text
    (which the driver converts and PostgreSQL parses on every execution) would grow with
    the board. SQLite has no arrays; it takes `IN (…)`.
    """
    if is_sqlite(session):
        return column.in_(list(ids))
    return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def move_status(session: Session, row: Any, to: Any, allowed_from: Iterable[Any], values: dict[str, Any]) -> bool:
    """The conditional UPDATE every status machine shares: `row` (a mapped row with `id` and `status`) moves
    to `to` only if it is still in `allowed_from`, stamping `values`; the in-memory row is kept true to the
    database. False (and `row` re-read) when someone else moved it first."""
    model = type(row)
    moved = session.execute(
        update(model).where(model.id == row.id, model.status.in_(list(allowed_from)))
        .values(status=to, **values).execution_options(synchronize_session=False)
    ).rowcount
    if moved:
        # As the database now has it, without a second UPDATE at the next flush.
        for key, value in {"status": to, **values}.items():
            set_committed_value(row, key, value)
        return True
    session.refresh(row)
    return False


def on_a_live_connection(work: Callable[[], T], attempts: int = 3) -> T:
    """Run `work`; if its database connection turns out dead, run it again on a new one.

    For an engine without `pool_pre_ping` (the sender's: a ping on every checkout is a round
    trip per statement): the first statement on a connection the server dropped fails, SQLAlchemy
    invalidates it and every connection the pool made before it, and the next try connects
    afresh. Only for work that is safe to repeat after a failure (a claim, a check, a booking).
    """
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as exc:
            if not exc.connection_invalidated or attempt == attempts:
                raise
            log.warning("a database connection had dropped; trying again on a new one")
    raise AssertionError("unreachable")
