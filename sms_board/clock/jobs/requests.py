"""Quiet help requests are asked about once, then expire."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from sms_board.clock.jobs import due_job
from sms_board.community.ageing import age_quiet_requests
from sms_board.plumbing.config import Settings


@due_job("quiet_requests", order=70)
def quiet_requests(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    with factory.begin() as session:
        return age_quiet_requests(session, settings, now)
