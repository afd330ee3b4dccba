"""The campaign life cycle shared by digests and broadcasts: lapse, hold for quiet hours, finish."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from sms_board.broadcast import campaigns
from sms_board.clock.jobs import due_job
from sms_board.plumbing.config import Settings


@due_job("drafts_lapsed", order=10)
def lapse_drafts(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    return campaigns.lapse_drafts(factory, settings, now)


@due_job("quiet_hours_held", order=35)
def hold_for_quiet_hours(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    return campaigns.hold_for_quiet_hours(factory, settings, now)


@due_job("campaigns_done", order=90)
def finish_campaigns(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    return campaigns.finish_campaigns(factory, settings, now)
