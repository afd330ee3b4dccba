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
from sms_board.text.phone import normalise
from sms_board.voice import recordings
from sms_board.voice import words as w
from sms_board.voice.keypad import Listener
from sms_board.voice.listing import (
    Listing,
    call_row,
    callable_areas,
    caller_listing,
    public_areas_of,
)
from sms_board.voice.script import (
    Call,
    digest_call,
    goodbye,
    greeting,
    language_for,
    offered_languages,
)
from sms_board.voice.steps import Pressed, press
from sms_board.voice.words import Speaker
from sms_board.web import sessions, settings
from sms_board.web.sms import MAX_WEBHOOK_BYTES, twilio_signed

bp = Blueprint("voice", __name__, url_prefix="/voice")

# What Twilio sends as `From` when the caller withheld their number (or the network did not pass it on).
WITHHELD = frozenset({"anonymous", "restricted", "unknown", "unavailable", "blocked", "private",
                      "+266696687", "+86282452253", "+7378742833", "+2562533"})


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


@bp.post("/call/<int:outbox_id>")
@twilio_signed
def call_script(outbox_id: int) -> Response:
    _voice_on()
    with sessions()() as session:
        call, _ = _digest_call(session, outbox_id)
        return _twiml(greeting(call))


@bp.post("/call/<int:outbox_id>/key")
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
    raw = (request.form.get("From") or "").strip()
    if raw.lower() in WITHHELD:
        return None
    return normalise(raw, settings().default_region)


def _inbound_call(session: Session, phone: str | None) -> Call | None:
    """The call of someone who rang: their public areas' news, or the area they chose; None: choose one."""
    from sms_board.models import Subscriber

    board = settings()
    person = session.query(Subscriber).filter_by(phone=phone).one_or_none() if phone else None
    language = language_for(board, person, request.args.get("lang"))
    offered = offered_languages(board, language)
    area_id = request.args.get("area", type=int)
    if area_id is not None:
        areas = [area for area in callable_areas(session) if area.id == area_id]
        if not areas:
            return None
        member = person is not None and any(a.id == area_id for a in public_areas_of(session, person))
        acting = member and person is not None and not person.opted_out
        return Call("/voice/inbound", language, board, caller_listing(session, areas, utcnow()), may_act=acting,
                    area_id=area_id, may_join=phone is not None and not member, offered=offered)
    mine = public_areas_of(session, person) if person is not None else []
    if not mine:
        return None
    return Call("/voice/inbound", language, board, caller_listing(session, mine, utcnow()),
                may_act=person is not None and not person.opted_out, offered=offered)


def _choose_area(session: Session, language: str, lead: list[str] | None = None) -> Response:
    """An unknown caller (or one in no public area) hears the public areas by number."""
    board = settings()
    say = Speaker(language)
    areas = callable_areas(session)
    call = Call("/voice/inbound", language, board, Listing((), tuple(areas)),
                offered=offered_languages(board, language))
    if not areas:
        return _twiml(goodbye(call, [say(w.NO_AREAS)]))
    response = VoiceResponse()
    many = len(areas) > 9
    gather = response.gather(action=call.url("areas"), method="POST", timeout=8, action_on_empty_result=True,
                             **({"finish_on_key": "#"} if many else {"num_digits": 1}))
    voice, tag = board.voice.voice_for(language)
    for text in [*(lead or []), say(w.GREETING_CALLER, areas=say.listing([a.name for a in areas]))]:
        gather.say(text, voice=voice, language=tag)
    for number, area in enumerate(areas, start=1):
        gather.say(say(w.CHOOSE_AREA_LONG if many else w.CHOOSE_AREA, area=area.name, key=number),
                   voice=voice, language=tag)
    return _twiml(response)


@bp.post("/inbound")
@twilio_signed
def inbound() -> Response:
    board = settings()
    if not board.voice.enabled:
        return _closed()
    with sessions()() as session:
        call = _inbound_call(session, _caller())
        if call is None:
            return _choose_area(session, language_for(board, None, request.args.get("lang")))
        return _twiml(greeting(call))


@bp.post("/inbound/key")
@twilio_signed
def inbound_key() -> Response:
    _voice_on()
    phone = _caller()
    with sessions()() as session:
        pressed = _pressed()
        language = language_for(settings(), None, request.args.get("lang"))
        if pressed.step == "areas":
            return _area_chosen(session, phone, language, pressed)
        call = _inbound_call(session, phone)
        if call is None:
            return _choose_area(session, language)
        return _answer(session, call, Listener(phone, request.form.get("CallSid", "")))


def _area_chosen(session: Session, phone: str | None, language: str, pressed: Pressed) -> Response:
    areas = callable_areas(session)
    say = Speaker(language)
    if not pressed.digits:
        return _choose_area(session, language, [say(w.NOTHING_PRESSED)]) if pressed.tries == 0 else \
            _twiml(goodbye(Call("/voice/inbound", language, settings(), Listing((), ()))))
    number = int(pressed.digits) if pressed.digits.isdigit() else 0
    if not 1 <= number <= len(areas):
        return _choose_area(session, language, [say(w.WRONG_KEY, key=pressed.digits)])
    response = VoiceResponse()
    chosen = Call("/voice/inbound", language, settings(), Listing((), ()), area_id=areas[number - 1].id)
    response.redirect(chosen.url("welcome"), method="POST")
    return _twiml(response)


def _closed() -> Response:
    board = settings()
    language = board.languages[0]
    voice, tag = board.voice.voice_for(language)
    response = VoiceResponse()
    response.say(Speaker(language)(w.TEXTS_ONLY), voice=voice, language=tag)
    response.hangup()
    return _twiml(response)


@bp.post("/recording")
@twilio_signed
def recording_callback() -> Response:
    """Twilio's recording status callback: a kept message's length (200 whatever happens: no retry loop)."""
    with sessions().begin() as session:
        recordings.completed(session, request.form.get("RecordingSid", ""),
                             request.form.get("RecordingDuration", type=int))
    return Response("", status=200, mimetype="text/plain")
