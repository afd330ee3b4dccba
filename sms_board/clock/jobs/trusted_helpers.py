"""A trusted helper's proposal that waits 48 hours unanswered lapses; every 12 months the resident is
asked to confirm, and 14 days unconfirmed it lapses (docs/helpers.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from sms_board.clock.jobs import due_job
from sms_board.community.trusted_helpers import lapse_proposals, reconfirm_helpers
from sms_board.plumbing.config import Settings


@due_job("helper_proposals", order=75)
def helper_proposals(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    with factory.begin() as session:
        return lapse_proposals(session, settings, now)


@due_job("helpers_reconfirmed", order=76)
def helpers_reconfirmed(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    with factory.begin() as session:
        return reconfirm_helpers(session, settings, now)
