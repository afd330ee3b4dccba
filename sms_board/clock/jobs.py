"""Due jobs: what the clock runs every minute and `sms-board tick` runs once.

A job is a function `(factory, settings, now) -> int | Mapping[str, int]`
registered with `@due_job(name)`. It opens its own transactions and asks the
database what is due, so running it twice, late, or from two places at once
does no harm: the scheduler only decides *when* to look.

Features register their own jobs: decorate a function with `@due_job("name",
order=…)` in the feature's module; modules under `sms_board.handlers` are
loaded already, anything else is added to `JOB_MODULES`.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from sms_board.config import Settings
from sms_board.db import is_sqlite
from sms_board.models import Heartbeat

log = logging.getLogger(__name__)

JobResult = int | Mapping[str, int]
Job = Callable[[sessionmaker[Session], Settings, datetime], JobResult]

# Modules whose import registers jobs. The order of jobs is their `order`, not this list.
# Handlers come last so that a feature's jobs can sit beside its keyword handlers.
JOB_MODULES: tuple[str, ...] = (
    "sms_board.broadcast.campaigns",
    "sms_board.broadcast.broadcasts",
    "sms_board.broadcast.digest_runs",
    "sms_board.handlers",
    "sms_board.inbound",
)

CLOCK = "clock"


@dataclass(frozen=True)
class DueJob:
    name: str
    order: int
    func: Job


_JOBS: dict[str, DueJob] = {}


def due_job(name: str, *, order: int = 50) -> Callable[[Job], Job]:
    """Register a job the clock runs every minute (lower `order` runs first)."""

    def register(func: Job) -> Job:
        existing = _JOBS.get(name)
        if existing is not None and existing.func is not func:
            raise ValueError(f"due job {name!r} is registered twice")
        _JOBS[name] = DueJob(name, order, func)
        return func

    return register


def load_jobs() -> list[DueJob]:
    for module in JOB_MODULES:
        importlib.import_module(module)
    return sorted(_JOBS.values(), key=lambda job: (job.order, job.name))


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


@due_job("held_released", order=40)
def _release_held(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    from sms_board.sending.delivery import release_held

    with factory.begin() as session:
        return release_held(session, now)
