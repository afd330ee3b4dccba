"""The voice webhooks: `POST /voice/call/<id>` (a digest call's script), `POST /voice/inbound` (the board's
number rung), their keypads' actions (`…/key`), and the voice messages' callback (`/voice/recording`).

Every request is Twilio's, signed, and checked exactly as `/sms/inbound`'s (`web.sms.twilio_signed`:
the real `RequestValidator`; a missing or wrong signature is a 403). With SMS_BOARD_VOICE off, a digest
call's address is a 404 (no call was placed) and the board's number answers a caller politely
that it takes texts, then hangs up.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from sms_board.plumbing.utc import utcnow
from sms_board.voice import recordings, ringing
from sms_board.voice import words as w
from sms_board.voice.keypad import Listener
from sms_board.voice.listing import call_row
from sms_board.voice.script import (
    Call,
    digest_call,
    goodbye,
    greeting,
    language_for,
)
from sms_board.voice.steps import Pressed, press
from sms_board.web import sessions, settings
from sms_board.web.sms import MAX_WEBHOOK_BYTES, twilio_signed

bp = Blueprint("voice", __name__, url_prefix="/voice")


@bp.before_request
def _limit_size() -> None:
    request.max_content_length = MAX_WEBHOOK_BYTES
    if request.content_length is not None and request.content_length > MAX_WEBHOOK_BYTES:
        abort(413)


def _twiml(document: str | VoiceResponse) -> Response:
    return Response(str(document), mimetype="text/xml")


def _voice_on() -> None:
    if not settings().voice.enabled:
        abort(404)


def _pressed() -> Pressed:
    at = request.args.get("at", type=int)
    return Pressed(request.args.get("step", "greeting"), (request.form.get("Digits") or "").strip(), at,
                   request.args.get("tries", 0, type=int))


# ── a digest call ───────────────────────────────────────────────────────────


def _digest_call(session: Session, outbox_id: int) -> tuple[Call, Listener]:
    row = call_row(session, outbox_id)
    if row is None:
        abort(404)
    call = digest_call(session, settings(), row, request.args.get("lang"))
    return call, Listener(row.to_number, request.form.get("CallSid", ""))


@bp.post("/call/<id:outbox_id>")
@twilio_signed
def call_script(outbox_id: int) -> Response:
    _voice_on()
    with sessions()() as session:
        call, _ = _digest_call(session, outbox_id)
        return _twiml(greeting(call))


@bp.post("/call/<id:outbox_id>/key")
@twilio_signed
def call_key(outbox_id: int) -> Response:
    _voice_on()
    with sessions()() as session:
        call, listener = _digest_call(session, outbox_id)
        return _answer(session, call, listener)


def _answer(session: Session, call: Call, listener: Listener) -> Response:
    pressed = _pressed()
    if pressed.step == "recorded":
        return _recorded(session, call, listener)
    return _twiml(press(sessions(), session, settings(), call, listener, pressed))


def _recorded(session: Session, call: Call, listener: Listener) -> Response:
    sid = request.form.get("RecordingSid")
    if sid and listener.phone:
        recordings.keep(session, recording_sid=sid, call_sid=listener.call_sid, phone=listener.phone, now=utcnow())
        session.commit()
    return _twiml(goodbye(call, [call.say(w.RECORDED)] if sid else []))


# ── someone rings the board ─────────────────────────────────────────────────


def _caller() -> str | None:
    return ringing.caller_number(request.form.get("From") or "", settings())


@bp.post("/inbound")
@twilio_signed
def inbound() -> Response:
    board = settings()
    if not board.voice.enabled:
        return _twiml(ringing.closed(board))
    with sessions()() as session:
        return _twiml(ringing.answer(session, board, _caller()))


@bp.post("/inbound/key")
@twilio_signed
def inbound_key() -> Response:
    _voice_on()
    board, phone, pressed = settings(), _caller(), _pressed()
    with sessions()() as session:
        if pressed.step == "areas":
            language = language_for(board, None, request.args.get("lang"))
            return _twiml(ringing.area_chosen(session, board, language, pressed.digits, pressed.tries))
        call = ringing.inbound_call(session, board, phone, language=request.args.get("lang"),
                                    area_id=request.args.get("area", type=int))
        if call is None:
            return _twiml(ringing.choose_area(session, board, language_for(board, None, request.args.get("lang"))))
        return _answer(session, call, Listener(phone, request.form.get("CallSid", "")))


@bp.post("/recording")
@twilio_signed
def recording_callback() -> Response:
    """Twilio's recording status callback: a kept message's length (200 whatever happens: no retry loop)."""
    with sessions().begin() as session:
        recordings.completed(session, request.form.get("RecordingSid", ""),
                             request.form.get("RecordingDuration", type=int))
    return Response("", status=200, mimetype="text/plain")
