"""Key 0: a voice message for the organisers, recorded by Twilio and kept as an item of their inbox.

`<Record maxLength="60">` records it; its action (signed, like every request of a call) stores the
recording's sid with who left it, once (`RecordingSid` is unique). Twilio keeps the audio: the board
stores no Twilio address, and organisers play it through the board (`audio`, with the account's
credentials). FORGET and retention delete it at Twilio (`delete_at_twilio`) and stamp the row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import requests
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker
from twilio.twiml.voice_response import VoiceResponse

from sms_board.models import Subscriber, VoiceMessage
from sms_board.plumbing.config import Settings
from sms_board.plumbing.db import is_sqlite
from sms_board.voice import words as w
from sms_board.voice.script import Call, webhook_url

MAX_SECONDS = 60
TWILIO_API = "https://api.twilio.com"


def record_prompt(call: Call) -> VoiceResponse:
    response = VoiceResponse()
    voice, tag = call.settings.voice.voice_for(call.language)
    response.say(call.say(w.RECORD_PROMPT), voice=voice, language=tag)
    response.record(max_length=MAX_SECONDS, finish_on_key="#", play_beep=True, method="POST",
                    action=call.url("recorded"), recording_status_callback=webhook_url(call.settings, "/voice/recording"),
                    recording_status_callback_method="POST")
    return response


def keep(session: Session, *, recording_sid: str, call_sid: str, phone: str | None, now: datetime) -> None:
    """Store a recording left for the organisers (nothing, when Twilio retried and it is stored already)."""
    person_id = session.scalar(select(Subscriber.id).where(Subscriber.phone == phone)) if phone else None
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    session.execute(insert(VoiceMessage).values(
        recording_sid=recording_sid[:64], call_sid=call_sid[:64], subscriber_id=person_id, from_number=phone,
        created_at=now,
    ).on_conflict_do_nothing(index_elements=["recording_sid"]))


def completed(session: Session, recording_sid: str, duration: int | None) -> bool:
    """Twilio's recording callback: how long the message is. False for a recording the board did not keep."""
    message = session.scalar(select(VoiceMessage).where(VoiceMessage.recording_sid == recording_sid))
    if message is None:
        return False
    message.duration = duration
    return True


def _api(settings: Settings) -> str:
    return (settings.twilio_api_url or TWILIO_API).rstrip("/")


def audio(settings: Settings, message: VoiceMessage, timeout: float = 10.0) -> bytes | None:
    """The recording's MP3, fetched from Twilio with the account's credentials (None: gone, or refused)."""
    url = f"{_api(settings)}/2010-04-01/Accounts/{settings.twilio_account_sid}/Recordings/{message.recording_sid}.mp3"
    answer = requests.get(url, auth=(settings.twilio_account_sid or "", settings.twilio_auth_token or ""),
                          timeout=timeout)
    return answer.content if answer.status_code == 200 else None


def delete_at_twilio(settings: Settings, recording_sid: str) -> None:
    """Delete a recording at Twilio through the twilio client (one already gone is fine)."""
    from twilio.base.exceptions import TwilioRestException

    from sms_board.sending.twilio_account import make_client

    if not settings.twilio_account_sid or not settings.twilio_auth_token:
        return  # a development board places no call: nothing of it is at Twilio
    try:
        make_client(settings).api.v2010.accounts(settings.twilio_account_sid).recordings(recording_sid).delete()
    except TwilioRestException as exc:
        if exc.status != 404:
            raise


def due_for_deletion(now: datetime, retention_days: int) -> ColumnElement[bool]:
    """Messages to delete at Twilio: FORGET asked, or older than SMS_BOARD_RETENTION_DAYS."""
    return and_(VoiceMessage.deleted_at.is_(None),
                or_(VoiceMessage.erase_requested_at.is_not(None),
                    VoiceMessage.created_at < now - timedelta(days=retention_days)))


def delete_due(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """Delete at Twilio every message FORGET or retention wants gone, one transaction each; how many went."""
    with factory() as session:
        due = list(session.scalars(select(VoiceMessage.id).where(due_for_deletion(now, settings.retention_days))))
    deleted = 0
    for message_id in due:
        with factory.begin() as session:
            message = session.get(VoiceMessage, message_id, with_for_update=True)
            if message is None or message.deleted_at is not None:
                continue
            delete_at_twilio(settings, message.recording_sid)
            message.deleted_at, message.from_number, message.subscriber_id = now, None, None
            deleted += 1
    return deleted
