"""Due jobs: what the clock runs every minute and `sms-board tick` runs once.

A job is a function `(factory, settings, now) -> int | Mapping[str, int]`
registered with `@due_job(name)`. It opens its own transactions and asks the
database what is due, so running it twice, late, or from two places at once
does no harm: the scheduler only decides *when* to look.

Each feature has one small module in this package whose `@due_job` functions
only open what the job needs and call the feature's own (undecorated) domain
functions, so the features never import the clock. `load_jobs` imports every
module here: adding a module is all it takes.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from sms_board.models import Heartbeat
from sms_board.plumbing.config import Settings
from sms_board.plumbing.db import is_sqlite
from sms_board.plumbing.registry import Registry, defined_in, import_modules_of

log = logging.getLogger(__name__)

JobResult = int | Mapping[str, int]
Job = Callable[[sessionmaker[Session], Settings, datetime], JobResult]

CLOCK = "clock"


@dataclass(frozen=True)
class DueJob:
    name: str
    order: int
    func: Job


DUE_JOBS: Registry[DueJob] = Registry("due job", origin=lambda job: defined_in(job.func))


def due_job(name: str, *, order: int = 50) -> Callable[[Job], Job]:
    """Register a job the clock runs every minute (lower `order` runs first)."""

    def register(func: Job) -> Job:
        DUE_JOBS.add(name, DueJob(name, order, func))
        return func

    return register


def load_jobs() -> list[DueJob]:
    """Every registered job in the order it runs, after importing every job module of this package."""
    import_modules_of(__name__, __path__)
    return sorted(DUE_JOBS.values(), key=lambda job: (job.order, job.name))


def run_due_jobs(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    """Run every registered job once; returns their counts (and `errors`, the jobs that failed).

    One failing job does not stop the others: the next minute tries it again.
    """
    counts: dict[str, int] = {}
    errors = 0
    for job in load_jobs():
        try:
            result = job.func(factory, settings, now)
        except Exception:
            log.exception("due job %s failed", job.name)
            errors += 1
            continue
        if isinstance(result, int):
            counts[job.name] = counts.get(job.name, 0) + result
        else:
            for key, value in result.items():
                counts[key] = counts.get(key, 0) + value
    counts["errors"] = errors
    return counts


def beat(session: Session, name: str, now: datetime, detail: Mapping[str, object] | None = None) -> None:
    """Record that a long-running process is alive (one row per process name)."""
    values = {"name": name, "beat_at": now, "detail": dict(detail or {})}
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    statement = insert(Heartbeat).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[Heartbeat.name],
            set_={"beat_at": statement.excluded.beat_at, "detail": statement.excluded.detail},
        )
    )


def tick(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    """One minute of the clock: every due job, then the heartbeat that `/healthz` reports."""
    counts = run_due_jobs(factory, settings, now)
    with factory.begin() as session:
        beat(session, CLOCK, now, {"host": socket.gethostname(), "pid": os.getpid(), "counts": counts})
    return counts
