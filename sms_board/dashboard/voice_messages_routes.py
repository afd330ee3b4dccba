"""`/dashboard/inbox/voice/<id>.mp3`: a voice message's audio, fetched from Twilio by the board; and marking one
dealt with (`voice_messages.py`)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from sms_board.dashboard.dashboard_routes import bp
from sms_board.dashboard.signin_routes import local_path, viewer
from sms_board.dashboard.voice_messages import mark_voice_dealt_with, voice_message
from sms_board.plumbing.utc import utcnow
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


@bp.post("/inbox/voice/<id:message_id>/dealt-with")
def voice_dealt_with(message_id: int) -> Response:
    undo = request.form.get("undo") == "1"
    with sessions().begin() as db:
        if not mark_voice_dealt_with(db, viewer(), message_id, utcnow(), undo=undo):
            abort(404)
    flash(_("Moved back to the inbox.") if undo else _("Marked as dealt with."))
    return redirect(local_path(request.form.get("back")) or url_for("dashboard.inbox"))
