"""Twilio webhooks: `POST /sms/inbound` and `POST /sms/status`.

Signatures are checked with the twilio library's `RequestValidator` against the
URL Twilio called: `SMS_BOARD_PUBLIC_URL` + path + query when set (behind a
proxy the request URL is not what Twilio signed), else the request URL.
"""

from __future__ import annotations

import logging
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.exc import DBAPIError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from sms_board.inbound import receive
from sms_board.web import sessions, settings

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/sms")

# Twilio's webhooks are a few KB at most; anything near this is not Twilio, and is refused
# before a byte of it is parsed (or checked for a signature).
MAX_WEBHOOK_BYTES = 64 * 1024
# Twilio's requests arrive under these: texts, and the calls the board places.
WEBHOOK_PREFIXES = ("/sms/", "/voice/")


@bp.before_app_request
def _limit_webhook_size() -> None:
    if not request.path.startswith(WEBHOOK_PREFIXES):
        return
    request.max_content_length = MAX_WEBHOOK_BYTES
    if request.content_length is not None and request.content_length > MAX_WEBHOOK_BYTES:
        abort(413)


def signed_url() -> str:
    public = settings().public_url
    if not public:
        return request.url
    query = request.query_string.decode()
    return public + request.path + (f"?{query}" if query else "")


def twilio_signed(view: Any) -> Any:
    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        token = settings().twilio_auth_token
        if not token:
            if not current_app.extensions.get("sms_board.unsigned_warned"):
                current_app.extensions["sms_board.unsigned_warned"] = True
                log.warning("TWILIO_AUTH_TOKEN is not set: accepting unsigned webhooks (development only)")
            return view(*args, **kwargs)
        signature = request.headers.get("X-Twilio-Signature", "")
        params = request.form.to_dict(flat=True) if request.form else {}
        if not signature or not RequestValidator(token).validate(signed_url(), params, signature):
            log.warning("rejected a webhook to %s with a %s signature", request.path,
                        "wrong" if signature else "missing")
            return unsigned_refusal(bool(signature))
        return view(*args, **kwargs)

    return checked


def unsigned_refusal(signed: bool) -> Response:
    """A short plain-text 403 for whoever reads Twilio's debugger (not the dashboard's HTML page).

    It says what was wrong and, for a wrong signature, the URL it was checked against: the
    usual mistake is a proxy in front of the board with SMS_BOARD_PUBLIC_URL unset. Nothing
    that would help forge a signature (the token, the signature expected) is ever in it.
    """
    if not signed:
        reason = "no X-Twilio-Signature header: this address answers only webhooks Twilio signs."
    elif settings().public_url:
        reason = (f"X-Twilio-Signature does not match: checked against {signed_url()} (SMS_BOARD_PUBLIC_URL) "
                  "with this board's TWILIO_AUTH_TOKEN.")
    else:
        reason = (f"X-Twilio-Signature does not match: checked against {signed_url()}, the address this request "
                  "reached, since SMS_BOARD_PUBLIC_URL is not set (behind a proxy, set it to the address Twilio "
                  "calls), with this board's TWILIO_AUTH_TOKEN.")
    return Response(f"Forbidden: {reason}\n", status=403, mimetype="text/plain")


def twiml(replies: list[str]) -> Response:
    response = MessagingResponse()
    for text in replies:
        response.message(text)
    return Response(str(response), mimetype="text/xml")


@bp.post("/inbound")
@twilio_signed
def inbound() -> Response:
    params = request.form.to_dict(flat=True)
    try:
        result = receive(sessions(), settings(), params)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        # A pooled connection PostgreSQL had dropped (connections are not tested as they are checked
        # out): the pool is renewed. Storing is idempotent by MessageSid and routing all or nothing, so
        # the text is received again from the start.
        log.warning("webhook: the database connection was lost; receiving the text again")
        result = receive(sessions(), settings(), params)
    return twiml(result.replies)
