"""Raw texts are kept SMS_BOARD_RETENTION_DAYS; after that only the fact of them remains."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from sms_board.clock.jobs import due_job
from sms_board.inbound import forget_old_bodies
from sms_board.plumbing.config import Settings


@due_job("inbound_retention", order=80)
def inbound_retention(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    return forget_old_bodies(factory, settings, now)
