"""What became of a call: the call Twilio placed, its status callbacks, redials, a machine answering.

A call is an outbox row of kind `call`: claimed, handed over and made `unknown` exactly as
a text (`sending.sender`, `sending.delivery`). What is a call's own is here. Each call Twilio
takes is a `Call` row (its `CA…` sid); Twilio's status callbacks (`/voice/status`) fill in
how it ended, who answered and for how long. The outbox row then moves through
`sending.delivery`: `completed` → delivered; `busy` / `no-answer` (Twilio knows these for
certain: nobody heard a word) → the same row held for a redial at least `REDIAL_AFTER` later
and inside call hours, at most `MAX_REDIALS` times, then undelivered (the news waits for the
next digest); `failed` / `canceled` → failed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from sms_board.models import Area, Call, Campaign, Outbox, OutboxStatus
from sms_board.plumbing.config import Settings
from sms_board.sending.call_hours import call_opens
from sms_board.sending.delivery import move_forward, redial
from sms_board.sending.transport import CallRequest

log = logging.getLogger(__name__)

MAX_REDIALS = 2  # after the first call: three rings at most for one digest
REDIAL_AFTER = timedelta(hours=1)

# Twilio's call statuses (https://www.twilio.com/docs/voice/api/call-resource#call-status-values).
NOT_ANSWERED = ("busy", "no-answer")
CALL_ENDED = ("completed", "busy", "no-answer", "failed", "canceled")
_OUTBOX_STATUS = {"completed": OutboxStatus.DELIVERED, "failed": OutboxStatus.FAILED,
                  "canceled": OutboxStatus.FAILED}
# With `DetectMessageEnd`, Twilio says a machine answered once its greeting has ended.
MACHINE_ANSWERS = ("machine_end_beep", "machine_end_silence", "machine_end_other", "machine_start", "fax")


def call_cost_segments(settings: Settings, seconds: float) -> int:
    """A call of `seconds` in text segments (what the monthly cap counts): Twilio bills each started minute."""
    if not settings.price_per_segment or seconds <= 0:
        return 0
    minutes = math.ceil(seconds / 60)
    return math.ceil(minutes * settings.voice.price_per_minute / settings.price_per_segment - 1e-9)


def call_request(settings: Settings, outbox_id: int, *, bridge: bool = False) -> CallRequest:
    """The URLs Twilio is given for one call (the board's public address; a path alone without one).

    A bridged call asks for no machine detection: its helper presses a key before anyone is dialled.
    """
    base = settings.public_url or ""
    return CallRequest(
        url=f"{base}/voice/{'bridge' if bridge else 'call'}/{outbox_id}",
        status_callback=f"{base}/voice/status?outbox_id={outbox_id}" if base else None,
        machine_callback=f"{base}/voice/machine?outbox_id={outbox_id}" if base and not bridge else None,
        machine_detection=not bridge,
    )


def record_placed(session: Session, outbox_id: int, call_sid: str, now: datetime) -> None:
    """Twilio took the call: it is stored, to be followed by its status callbacks."""
    session.add(Call(outbox_id=outbox_id, call_sid=call_sid, status="queued", placed_at=now))


@dataclass(frozen=True)
class CallReport:
    """One of Twilio's call status (or answering-machine) callbacks, read."""

    call_sid: str | None
    status: str  # Twilio's word, lower case; empty in a machine-detection callback
    answered_by: str | None
    duration_seconds: int | None

    @classmethod
    def from_callback(cls, form: Mapping[str, str]) -> CallReport:
        duration = form.get("CallDuration") or ""
        return cls(
            call_sid=form.get("CallSid") or None,
            status=(form.get("CallStatus") or "").lower(),
            answered_by=form.get("AnsweredBy") or None,
            duration_seconds=int(duration) if duration.isascii() and duration.isdigit() else None,
        )

    @property
    def by_machine(self) -> bool:
        return self.answered_by in MACHINE_ANSWERS


def record_call_status(session: Session, settings: Settings, report: CallReport, now: datetime) -> str:
    """Store how a call went and move its outbox row on; returns what was done, for the log."""
    call = session.scalar(select(Call).where(Call.call_sid == report.call_sid).with_for_update()) \
        if report.call_sid else None
    if call is None:
        return "ignored: no such call"
    _store(call, report, now)
    if report.status in CALL_ENDED:
        call.segments = call_cost_segments(settings, call.duration_seconds or 0)
    if report.status not in CALL_ENDED:
        return f"call {report.status}"
    current = session.scalar(select(Outbox.provider_sid).where(Outbox.id == call.outbox_id))
    if current != call.call_sid:
        return f"kept: call {report.status} was an earlier try"
    if report.status in NOT_ANSWERED:
        return _redial_or_give_up(session, settings, call.outbox_id, report.status, now)
    to = _OUTBOX_STATUS[report.status]
    values = {"delivered_at": now} if to == OutboxStatus.DELIVERED else {"error_message": f"Twilio: {report.status}"}
    moved = move_forward(session, call.outbox_id, to, now, **values)
    return f"→ {to}" if moved else "kept"


def record_machine(session: Session, report: CallReport) -> bool:
    """Asynchronous answering-machine detection's verdict, stored; True when a machine answered."""
    if report.call_sid and report.answered_by:
        session.execute(update(Call).where(Call.call_sid == report.call_sid).values(answered_by=report.answered_by))
    return report.by_machine


def _store(call: Call, report: CallReport, now: datetime) -> None:
    if report.status:
        call.status = report.status[:16]
    if report.answered_by:
        call.answered_by = report.answered_by[:24]
    if report.duration_seconds is not None:
        call.duration_seconds = report.duration_seconds
    if report.status in CALL_ENDED and call.ended_at is None:
        call.ended_at = now


def _redial_or_give_up(session: Session, settings: Settings, outbox_id: int, status: str, now: datetime) -> str:
    tries = session.scalar(select(func.count()).select_from(Call).where(Call.outbox_id == outbox_id)) or 0
    if tries > MAX_REDIALS:
        move_forward(session, outbox_id, OutboxStatus.UNDELIVERED, now,
                     error_message=f"Twilio: {status} ({tries} calls); the news waits for the next digest")
        return f"{status}: gave up after {tries} calls"
    earliest = now + REDIAL_AFTER
    until = call_opens(earliest, settings, _zone_of(session, outbox_id)) or earliest
    redial(session, outbox_id, until, now)
    return f"{status}: redial {tries} held until {until:%Y-%m-%d %H:%M} UTC"


def _zone_of(session: Session, outbox_id: int) -> str | None:
    """The clock a call keeps: its digest's area's (none for a call of no campaign)."""
    return session.scalar(
        select(Area.timezone).join(Campaign, Campaign.area_id == Area.id).join(Outbox, Outbox.campaign_id == Campaign.id)
        .where(Outbox.id == outbox_id)
    )


def machine_twiml(session: Session, settings: Settings, call_sid: str) -> str | None:
    """What a machine is told once its greeting ends (`voice.script.machine_message`): the areas of the
    call and the number to ring, in the listener's language; None for a call the board does not know."""
    from sms_board.voice.script import machine_message_for

    row = session.scalar(select(Outbox).join(Call, Call.outbox_id == Outbox.id).where(Call.call_sid == call_sid))
    return machine_message_for(session, settings, row) if row is not None else None
