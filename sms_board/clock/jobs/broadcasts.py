"""Confirmed broadcasts fan out within a minute of YES (and a fan-out cut short resumes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from sms_board.broadcast.broadcasts import fan_out_confirmed
from sms_board.clock.jobs import due_job
from sms_board.plumbing.config import Settings


@due_job("broadcasts", order=20)
def broadcasts(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    return fan_out_confirmed(factory, settings, now)
