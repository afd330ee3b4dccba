"""`/simulator`: text the board from a phone-shaped page, without Twilio (development only).

It runs the very same pipeline as the webhook (`sms_board.inbound.receive`). Its landline
(`/simulator/landline`) rings the board, or answers a digest call waiting for the number, through the
voice routes themselves (`sms_board.voice`), as Twilio would: read the script, press keys.
Outbox texts to the simulated number (notifications, relays, sign-in codes) appear in
the thread too, so a tester sees what the phone would receive (`dashboard.simulator_thread`). A From that is not a
phone number, and an empty message, are refused with a message: nothing is stored.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from sms_board.dashboard.simulator_thread import demo_phones, thread
from sms_board.inbound import new_message_sid, receive
from sms_board.text.phone import DEMO_BOARD_NUMBER, mask, normalise, not_a_number
from sms_board.voice.heard import Heard
from sms_board.voice.listing import latest_call_to
from sms_board.web import sessions, settings
from sms_board.web.language import translated
from sms_board.web.security import no_store

bp = Blueprint("simulator", __name__)
# Its threads hold residents' texts and sign-in codes.
bp.after_request(no_store)

DEMO_NUMBERS = ["+447700900123", "+447700900456", "+447700900789", "+447700900001"]
# Texts to the board come to its number; a development board without one uses the drama range's first.
FALLBACK_BOARD_NUMBER = DEMO_BOARD_NUMBER


def _page(raw: str, phone: str | None, error: str | None = None, body: str = "", status: int = 200) -> tuple[str, int]:
    with sessions()() as session:
        phones = demo_phones(session, DEMO_NUMBERS)
        bubbles = thread(session, phone) if phone else []
    return render_template(
        "simulator.html", raw=raw, phone=phone, masked=mask(phone) if phone else None, phones=phones,
        thread=bubbles, error=error, body=body,
    ), status


def _not_a_number(raw: str) -> str:
    return _("%(refusal)s (or pick a demo phone).", refusal=translated(not_a_number(raw)))


@bp.get("/simulator")
def page() -> tuple[str, int]:
    raw = request.args.get("from")
    if raw is None:
        return _page(DEMO_NUMBERS[0], DEMO_NUMBERS[0])
    phone = normalise(raw, settings().default_region)
    if phone is None:
        return _page(raw, None, _not_a_number(raw), status=400)
    return _page(phone, phone)


@bp.post("/simulator")
def send() -> Response | tuple[str, int]:
    raw = request.form.get("from", "")
    body = request.form.get("body", "")
    phone = normalise(raw, settings().default_region)
    if phone is None:
        return _page(raw, None, _not_a_number(raw), body=body, status=400)
    if not body.strip():
        return _page(phone, phone, _("Type a message first: an empty text is not sent."), status=400)
    receive(sessions(), settings(), {
        "MessageSid": new_message_sid(), "From": phone, "To": settings().board_number or FALLBACK_BOARD_NUMBER,
        "Body": body, "NumMedia": "0", "SmsStatus": "received",
    })
    return redirect(url_for("simulator.page", **{"from": phone}) + "#end")



# ── the landline: calls through the voice routes, as Twilio makes them ───────

LANDLINE = "+442920180123"  # Ofcom's drama range for Cardiff


def _call_waiting(phone: str) -> int | None:
    with sessions()() as session:
        row = latest_call_to(session, phone)
        return row.id if row is not None else None


def _dial(address: str, phone: str, sid: str, outbound: bool, digits: str | None) -> Heard:
    """One request to the voice routes as Twilio would make it (a development board checks no signature)."""
    board = settings().board_number or FALLBACK_BOARD_NUMBER
    params = {"CallSid": sid, "From": board if outbound else phone, "To": phone if outbound else board,
              "Direction": "outbound-api" if outbound else "inbound", "CallStatus": "in-progress"}
    if digits is not None:
        params["Digits"] = digits
    for _hop in range(5):
        answer = current_app.test_client().post(address, data=params)
        heard = Heard.of(answer.data) if answer.mimetype == "text/xml" else Heard((), None, False, False, None, None, True)
        if heard.redirect is None:
            return heard
        address = heard.redirect.removeprefix(settings().public_url or "")
        params = {k: v for k, v in params.items() if k != "Digits"}
    return heard


def _landline(phone: str | None, raw: str, heard: Heard | None = None, sid: str = "", outbound: bool = False,
              error: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "simulator_landline.html", raw=raw, phone=phone, heard=heard, sid=sid, outbound=outbound, error=error,
        waiting=_call_waiting(phone) if phone else None, voice_on=settings().voice.enabled,
    ), status


@bp.get("/simulator/landline")
def landline() -> tuple[str, int]:
    raw = request.args.get("from") or LANDLINE
    phone = normalise(raw, settings().default_region)
    if phone is None:
        return _landline(None, raw, error=_not_a_number(raw), status=400)
    return _landline(phone, phone)


@bp.post("/simulator/landline")
def landline_key() -> tuple[str, int]:
    raw = request.form.get("from", "")
    phone = normalise(raw, settings().default_region)
    if phone is None:
        return _landline(None, raw, error=_not_a_number(raw), status=400)
    outbound = request.form.get("outbound") == "1"
    sid = request.form.get("sid") or "CAlocal" + uuid.uuid4().hex[:26]
    address = (request.form.get("action") or "/voice/inbound").removeprefix(settings().public_url or "")
    if not address.startswith("/voice/"):
        return _landline(phone, phone, error=_("That is not a step of a call."), status=400)
    digits = request.form.get("digits")
    return _landline(phone, phone, _dial(address, phone, sid, outbound, digits), sid, outbound)
