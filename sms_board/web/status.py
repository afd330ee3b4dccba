"""`POST /sms/status`: Twilio's delivery status callbacks.

The callback URL carries the outbox id (`?outbox_id=N`); Twilio's words are read
by the Twilio transport (`ProviderReport`) and applied by the delivery module,
which only ever moves a status forward: callbacks come late, twice and out of
order. Whatever happens the answer is 200: Twilio would otherwise retry a
callback that can never succeed.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from sms_board.community.trusted_helpers import on_opt_out
from sms_board.plumbing.utc import utcnow
from sms_board.sending.outcomes import record_callback
from sms_board.sending.transport import ProviderReport
from sms_board.web import sessions, settings
from sms_board.web.sms import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("status", __name__, url_prefix="/sms")


@bp.post("/status")
@twilio_signed
def status_callback() -> Response:
    report = ProviderReport.from_callback(request.args.to_dict(), request.form.to_dict(flat=True))
    with sessions().begin() as session:
        outcome = record_callback(session, report, utcnow(), on_opt_out=on_opt_out(settings()))
    log.info("status callback outbox=%s sid=%s %s: %s", report.outbox_id, report.message_sid,
             report.raw_status, outcome)
    return Response("", status=200, mimetype="text/plain")
