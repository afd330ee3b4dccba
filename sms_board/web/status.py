"""`POST /sms/status`: Twilio's delivery status callbacks.

The callback URL carries the outbox id (`?outbox_id=N`, see
`sender.status_callback_url`); the `MessageSid` must agree with the SID the
sender stored, or fills it in when the callback beats the sender's own record.
Callbacks come late, twice and out of order, so a status only moves forward
(`sender.delivery_rank`). Whatever happens the answer is 200: Twilio would
otherwise retry a callback that can never succeed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_board.broadcast.sender import delivery_rank, mark_recipient, set_status
from sms_board.clock import utcnow
from sms_board.models import Outbox, OutboxStatus
from sms_board.web import sessions
from sms_board.web.sms import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("status", __name__, url_prefix="/sms")

# Twilio's message statuses, in our words. Twilio's `queued` means "Twilio has it":
# that is our `sent`, never our `queued` (which would make the sender send it again).
PROVIDER_STATUSES = {
    "accepted": OutboxStatus.SENT,
    "scheduled": OutboxStatus.SENT,
    "queued": OutboxStatus.SENT,
    "sending": OutboxStatus.SENT,
    "sent": OutboxStatus.SENT,
    "delivered": OutboxStatus.DELIVERED,
    "read": OutboxStatus.DELIVERED,
    "undelivered": OutboxStatus.UNDELIVERED,
    "failed": OutboxStatus.FAILED,
}


@dataclass(frozen=True)
class StatusCallback:
    outbox_id: str | None
    message_sid: str | None
    status: str
    error_code: str | None

    @classmethod
    def from_request(cls, args: dict[str, str], form: dict[str, str]) -> StatusCallback:
        return cls(
            outbox_id=args.get("outbox_id") or None,
            message_sid=form.get("MessageSid") or form.get("SmsSid") or None,
            status=(form.get("MessageStatus") or form.get("SmsStatus") or "").lower(),
            error_code=form.get("ErrorCode") or None,
        )


@bp.post("/status")
@twilio_signed
def status_callback() -> Response:
    callback = StatusCallback.from_request(request.args.to_dict(), request.form.to_dict(flat=True))
    with sessions().begin() as session:
        outcome = record_status(session, callback, utcnow())
    log.info("status callback outbox=%s sid=%s %s: %s", callback.outbox_id, callback.message_sid,
             callback.status, outcome)
    return Response("", status=200, mimetype="text/plain")


def record_status(session: Session, callback: StatusCallback, now: datetime) -> str:
    """Apply one callback to its outbox row; returns what was done, for the log."""
    new_status = PROVIDER_STATUSES.get(callback.status)
    if new_status is None:
        return f"ignored: status {callback.status!r} means nothing to the outbox"
    row = find_row(session, callback)
    if row is None:
        log.warning("status callback for an unknown text (outbox=%s, sid=%s): ignored",
                    callback.outbox_id, callback.message_sid)
        return "ignored: no such text"
    if not row.provider_sid and callback.message_sid:
        row.provider_sid = callback.message_sid
        row.sent_at = row.sent_at or now
    if delivery_rank(new_status.value) <= delivery_rank(row.status):
        return f"kept {row.status}"
    previous = row.status
    set_status(row, new_status, now)
    if new_status == OutboxStatus.DELIVERED:
        row.delivered_at = now
    if new_status in {OutboxStatus.UNDELIVERED, OutboxStatus.FAILED} or callback.error_code:
        row.error_code = callback.error_code
        row.error_message = f"Twilio: {callback.status}" + (f" ({callback.error_code})" if callback.error_code else "")
    elif new_status == OutboxStatus.DELIVERED:
        row.error_code = row.error_message = None
    mark_recipient(session, row.subscriber_id, callback.error_code, now)
    return f"{previous} → {row.status}"


def find_row(session: Session, callback: StatusCallback) -> Outbox | None:
    """The row by outbox id, checked against the SID; else by SID alone. None when they disagree."""
    by_sid = (
        session.scalar(select(Outbox).where(Outbox.provider_sid == callback.message_sid).with_for_update())
        if callback.message_sid else None
    )
    outbox_id = _int(callback.outbox_id)
    if outbox_id is None:
        return by_sid
    row = session.scalar(select(Outbox).where(Outbox.id == outbox_id).with_for_update())
    if row is None:
        return None
    if by_sid is not None and by_sid.id != row.id:
        log.warning("status callback: sid %s belongs to outbox %s, not %s: ignored",
                    callback.message_sid, by_sid.id, row.id)
        return None
    if row.provider_sid and callback.message_sid and row.provider_sid != callback.message_sid:
        log.warning("status callback: outbox %s has sid %s, not %s: ignored",
                    row.id, row.provider_sid, callback.message_sid)
        return None
    return row


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None
