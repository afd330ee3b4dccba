"""`/simulator`: text the board from a phone-shaped page, without Twilio (development only).

It runs the very same pipeline as the webhook (`sms_board.inbound.receive`).
Outbox texts to the simulated number (notifications, relays) appear in the
thread too, so a tester sees what the phone would receive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from sms_board.inbound import new_message_sid, receive
from sms_board.models import InboundMessage, Outbox
from sms_board.phone import mask, normalise
from sms_board.web import sessions, settings

bp = Blueprint("simulator", __name__)

DEMO_NUMBERS = ["+447700900123", "+447700900456", "+447700900789", "+447700900001"]


@dataclass(frozen=True)
class Bubble:
    at: datetime
    order: int  # within one moment: the text sent, then its replies, then queued texts
    text: str
    incoming: bool  # sent by the board to the phone
    note: str = ""


def _thread(phone: str) -> list[Bubble]:
    bubbles: list[Bubble] = []
    with sessions()() as session:
        for row in session.scalars(
            select(InboundMessage).where(InboundMessage.from_number == phone).order_by(InboundMessage.id.desc()).limit(40)
        ):
            bubbles.append(Bubble(row.received_at, 0, row.body, incoming=False))
            bubbles.extend(Bubble(row.received_at, 1, reply, incoming=True) for reply in row.replies)
        for out in session.scalars(
            select(Outbox).where(Outbox.to_number == phone).order_by(Outbox.id.desc()).limit(40)
        ):
            bubbles.append(Bubble(out.created_at, 2, out.body, incoming=True, note=f"{out.kind} · {out.status}"))
    bubbles.sort(key=lambda b: (b.at, b.order))
    return bubbles[-60:]


@bp.get("/simulator")
def page() -> str:
    phone = normalise(request.args.get("from", DEMO_NUMBERS[0]), settings().default_region) or DEMO_NUMBERS[0]
    return render_template(
        "simulator.html", phone=phone, masked=mask(phone), numbers=DEMO_NUMBERS, thread=_thread(phone),
        error=request.args.get("error"),
    )


@bp.post("/simulator")
def send() -> Response:
    raw = request.form.get("from", "")
    phone = normalise(raw, settings().default_region)
    if phone is None:
        return redirect(url_for("simulator.page", error=f"{raw!r} is not a phone number"))
    body = request.form.get("body", "")
    receive(sessions(), settings(), {
        "MessageSid": new_message_sid(), "From": phone, "To": settings().board_number or "+447700900000",
        "Body": body, "NumMedia": "0", "SmsStatus": "received",
    })
    return redirect(url_for("simulator.page", **{"from": phone}) + "#end")
