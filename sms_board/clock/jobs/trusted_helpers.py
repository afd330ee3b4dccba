"""A trusted helper's proposal that waits 48 hours unanswered lapses (docs/helpers.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from sms_board.clock.jobs import due_job
from sms_board.community.trusted_helpers import lapse_proposals
from sms_board.plumbing.config import Settings


@due_job("helper_proposals", order=75)
def helper_proposals(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    with factory.begin() as session:
        return lapse_proposals(session, settings, now)
