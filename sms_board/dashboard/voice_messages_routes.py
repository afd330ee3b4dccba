"""`/dashboard/inbox/voice/<id>.mp3`: a voice message's audio, fetched from Twilio by the board (`voice_messages.py`)."""

from __future__ import annotations

from flask import Response, abort

from sms_board.dashboard.dashboard_routes import bp
from sms_board.dashboard.signin_routes import viewer
from sms_board.dashboard.voice_messages import voice_message
from sms_board.voice.recordings import audio
from sms_board.web import sessions, settings


@bp.get("/inbox/voice/<id:message_id>.mp3")
def voice_audio(message_id: int) -> Response:
    with sessions()() as db:
        message = voice_message(db, viewer(), message_id)
        if message is None:
            abort(404)
        sound = audio(settings(), message)
    if sound is None:
        abort(404)
    return Response(sound, mimetype="audio/mpeg", headers={"Cache-Control": "no-store"})
