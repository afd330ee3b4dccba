"""Voice messages FORGET or SMS_BOARD_RETENTION_DAYS want gone are deleted at Twilio (`voice.recordings`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from sms_board.clock.jobs import due_job
from sms_board.plumbing.config import Settings
from sms_board.voice.recordings import delete_due


@due_job("voice_message_deletion", order=81)
def voice_message_deletion(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    return delete_due(factory, settings, now)
