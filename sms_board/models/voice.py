"""The organisers' voice messages: key 0 on a call records one (docs/voice.md, "What a call says, and the keypad")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sms_board.models.base import Base
from sms_board.plumbing.utc import utcnow


class VoiceMessage(Base):
    """A recording a caller left for the organisers: an item of their inbox.

    The audio stays at Twilio and is known here only by its `recording_sid`: organisers play it
    through the board (`/dashboard/inbox/voice/<id>`), never by a Twilio address. FORGET and
    retention delete it at Twilio (`voice.recordings.delete_due`, a clock job) and stamp
    `deleted_at`; the caller's number goes with it, at once.
    """

    __tablename__ = "voice_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    call_sid: Mapped[str] = mapped_column(String(64))
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"), index=True)
    from_number: Mapped[str | None] = mapped_column(String(20))
    duration: Mapped[int | None] = mapped_column(Integer)  # seconds, from Twilio's recording callback
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dealt_with_at: Mapped[datetime | None]
    # FORGET asked for it to go: the clock deletes it at Twilio (a webhook never calls Twilio's API).
    erase_requested_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
