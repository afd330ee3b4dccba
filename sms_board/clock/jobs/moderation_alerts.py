"""Organisers hear what waits for them (held posts, reports, join requests): one text per 15 minutes at most."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from sms_board.clock.jobs import due_job
from sms_board.community.alerts import send_due_notices
from sms_board.plumbing.config import Settings


@due_job("organiser_notices", order=60)
def organiser_notices(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    with factory.begin() as session:
        return send_due_notices(session, settings, now)
