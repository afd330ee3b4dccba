"""Texts left `received` by a process that died are routed by the clock (their replies go by REST)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from sms_board.clock.jobs import due_job
from sms_board.inbound import take_over_stranded
from sms_board.plumbing.config import Settings


@due_job("inbound_taken_over", order=5)
def inbound_taken_over(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    return take_over_stranded(factory, settings, now)
