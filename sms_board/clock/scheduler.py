"""The clock process: APScheduler runs `jobs.tick` every minute, one clock at a time.

The scheduler only says *when* to look; the database says what is due and what
was sent, so the clock can be restarted at any moment and loses or repeats
nothing. Its job store is in memory on purpose: nothing in it needs keeping.

Only one clock may run per database: on PostgreSQL it holds a session-level
advisory lock (keyed by the schema, so two boards sharing a database do not
block each other); on SQLite it holds `flock` on a lock file beside the
database file (`sms_board.db.clock.lock`), so a second board on another
DATABASE_URL from the same folder runs its own clock.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from sms_board.clock.jobs import tick
from sms_board.plumbing.config import Settings
from sms_board.plumbing.utc import utcnow

log = logging.getLogger(__name__)

LOCK_NAME = "sms-board clock"
LOCK_SUFFIX = ".clock.lock"
# An in-memory SQLite database belongs to one process; its lock is kept in the instance folder.
MEMORY_LOCK_FILE = "clock.lock"


class ClockLocked(RuntimeError):
    """Another clock holds the lock (or this one lost it)."""


class ClockLock:
    """Held for the clock's lifetime; `check()` fails once the lock is gone."""

    def __init__(self, connection: Connection | None = None, handle: IO[str] | None = None) -> None:
        self.connection = connection
        self.handle = handle

    def check(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.execute(text("SELECT 1"))
            self.connection.commit()
        except Exception as exc:
            # The advisory lock lived in that session: another clock may have it by now.
            raise ClockLocked(f"lost the database connection that held the clock lock ({exc.__class__.__name__})") from exc


def _flock(path: Path) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise ClockLocked(
            f"another clock is already running ({holder} holds {path}); only one clock may run at a time."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle


def sqlite_lock_path(engine: Engine, settings: Settings) -> Path:
    """The clock's lock file for a SQLite database: beside the database file, so it belongs to that database."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return settings.instance_path / MEMORY_LOCK_FILE
    path = Path(database).resolve()
    return path.with_name(path.name + LOCK_SUFFIX)


@contextmanager
def clock_lock(engine: Engine, settings: Settings) -> Iterator[ClockLock]:
    """Take the one-clock lock of this database, or raise `ClockLocked` at once."""
    if engine.dialect.name == "sqlite":
        handle = _flock(sqlite_lock_path(engine, settings))
        try:
            yield ClockLock(handle=handle)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        return
    connection = engine.connect()
    key = text("SELECT hashtext(:name || ':' || current_schema())")
    try:
        lock_key = connection.execute(key, {"name": LOCK_NAME}).scalar_one()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key}).scalar_one()
        connection.commit()
    except BaseException:
        connection.close()
        raise
    if not got:
        connection.close()
        raise ClockLocked(
            "another clock is already running (it holds the PostgreSQL advisory lock); only one clock may run at a time."
        )
    try:
        yield ClockLock(connection=connection)
    finally:
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key})
            connection.commit()
        except Exception:
            log.warning("could not release the clock lock; it ends with the connection")
        connection.close()


def quiet_apscheduler() -> None:
    """APScheduler says "Running job" and "executed successfully" at INFO every minute; the tick's own
    line already says what was done, so at INFO only its warnings (a missed minute) are kept.
    """
    apscheduler = logging.getLogger("apscheduler")
    if apscheduler.getEffectiveLevel() >= logging.INFO:
        apscheduler.setLevel(logging.WARNING)


def build_scheduler(factory: sessionmaker[Session], settings: Settings, lock: ClockLock | None = None) -> BlockingScheduler:
    """A scheduler with one job: `tick` at the start of every minute, and once at start-up."""
    quiet_apscheduler()
    scheduler = BlockingScheduler(timezone=UTC)

    def minute() -> None:
        if lock is not None:
            try:
                lock.check()
            except ClockLocked:
                log.exception("the clock lock is gone; stopping so that a supervisor restarts the clock")
                scheduler.shutdown(wait=False)
                return
        counts = tick(factory, settings, utcnow())
        done = {name: count for name, count in counts.items() if count}
        if done:
            log.info("tick: %s", ", ".join(f"{name} {count}" for name, count in done.items()))

    scheduler.add_job(
        minute, CronTrigger(second=0, timezone=UTC), id="tick", name="sms-board tick",
        # A slow minute must not pile up runs behind it: skip to the next one.
        max_instances=1, coalesce=True, misfire_grace_time=50, next_run_time=datetime.now(UTC),
    )
    return scheduler


def run_clock(factory: sessionmaker[Session], settings: Settings, lock: ClockLock | None = None) -> None:
    """Run until interrupted (Ctrl-C, or SIGTERM from the process manager)."""
    scheduler = build_scheduler(factory, settings, lock)

    def stop(signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler.running:
            # Let a tick in progress finish its transaction rather than cut it short.
            scheduler.shutdown(wait=True)
