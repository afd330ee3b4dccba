"""Texts held for quiet hours (or a retry) go back to the queue when their time comes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from sms_board.clock.jobs import due_job
from sms_board.plumbing.config import Settings
from sms_board.sending.delivery import release_held


@due_job("held_released", order=40)
def held_released(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    with factory.begin() as session:
        return release_held(session, now)
