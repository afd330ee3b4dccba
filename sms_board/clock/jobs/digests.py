"""Each area's scheduled digest run starts once it is due, then fans out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from sms_board.broadcast.digest_runs import run_due_digests
from sms_board.clock.jobs import due_job
from sms_board.plumbing.config import Settings


@due_job("digests", order=30)
def digests(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    return run_due_digests(factory, settings, now)
