"""`POST /voice/status`, `/voice/machine` and `/voice/bridge/<id>`: Twilio's requests about the calls the board placed.

Signed and checked exactly as `/sms/status` is. Each only stores what Twilio says and hands
it to `sending.calls`, which moves the outbox row through its one owner; the answer is 200
whatever happened (Twilio would otherwise retry a callback that can never succeed). The
machine callback is the one place a webhook talks to Twilio: a machine's greeting has ended,
and the live call is given the short message for a machine (its items are never read to one).
`/voice/bridge/<outbox id>` is a bridged call's TwiML (`community.bridge`): a key, then the requester dialled.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from sms_board.community.bridge import bridge_twiml
from sms_board.plumbing.utc import utcnow
from sms_board.sending.calls import (
    CallReport,
    machine_twiml,
    record_call_status,
    record_machine,
)
from sms_board.sending.transport import TransportError
from sms_board.web import current_board, sessions, settings
from sms_board.web.sms import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("calls", __name__, url_prefix="/voice")


def _done() -> Response:
    return Response("", status=200, mimetype="text/plain")


@bp.post("/status")
@twilio_signed
def call_status() -> Response:
    report = CallReport.from_callback(request.form.to_dict(flat=True))
    with sessions().begin() as session:
        outcome = record_call_status(session, settings(), report, utcnow())
    log.info("call status sid=%s %s: %s", report.call_sid, report.status, outcome)
    return _done()


@bp.post("/bridge/<int:outbox_id>")
@twilio_signed
def bridge(outbox_id: int) -> Response:
    with sessions()() as session:
        twiml = bridge_twiml(session, settings(), outbox_id, key_pressed=bool(request.form.get("Digits")),
                             action=f"/voice/bridge/{outbox_id}")
    return Response(twiml, mimetype="text/xml")


@bp.post("/machine")
@twilio_signed
def machine_detected() -> Response:
    report = CallReport.from_callback(request.form.to_dict(flat=True))
    with sessions().begin() as session:
        machine = record_machine(session, report)
        message = machine_twiml(session, settings(), report.call_sid) if machine and report.call_sid else None
    if message is not None and report.call_sid:
        try:
            current_board().transport.update_call(report.call_sid, message)
        except TransportError as exc:  # the call may have ended meanwhile: nothing is lost
            log.warning("call %s: could not give the machine its message: %s", report.call_sid, exc)
    log.info("call %s answered by %s", report.call_sid, report.answered_by)
    return _done()
