"""Used and expired dashboard sign-in codes are blanked in the outbox; old requests are forgotten."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from sms_board.clock.jobs import due_job
from sms_board.dashboard.signin import redact_spent_codes
from sms_board.plumbing.config import Settings


@due_job("login_codes_redacted", order=85)
def login_codes_redacted(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    return redact_spent_codes(factory, settings, now)
