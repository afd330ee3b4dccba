"""What became of a send: the sender's own result, and Twilio's status callbacks.

Each outcome is read here and turned into one of the moves `sending.delivery` owns
(`from_sending`, `hand_over`, `move_forward`): a transient error waits and retries with
a growing backoff, a permanent one fails the row (and, for an opt-out or a dead number,
the number stops being texted: `sending.opt_outs.mark_recipient`), an ambiguous one is
`unknown`. A status only ever moves forward once Twilio speaks (`delivery.provider_rank`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sms_board.models import Outbox, OutboxStatus
from sms_board.sending.delivery import (
    from_sending,
    hand_over,
    hand_over_many,
    move_forward,
    provider_rank,
)
from sms_board.sending.opt_outs import OptOutHook, mark_recipient
from sms_board.sending.transport import (
    AmbiguousError,
    ConfigurationError,
    PermanentError,
    ProviderReport,
    TransientError,
)

log = logging.getLogger(__name__)

# Backoff 5 s, 10 s, 20 s … capped at 15 min: ten attempts span about 36 minutes,
# long enough to ride out a short Twilio incident, short enough that a stuck row
# is reported the same evening.
MAX_ATTEMPTS = 10
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=15)


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempts - 1)))


# ── what the sender learned ────────────────────────────────────────────────


@dataclass(frozen=True)
class Recorded:
    status: str
    cancelled: int = 0  # the recipient's other waiting texts, cancelled by an opt-out or dead number


def record_result(session: Session, row_id: int, outcome: Exception | str, now: datetime, *,
                  on_opt_out: OptOutHook | None = None) -> Recorded:
    """Store what happened to one send (`outcome` is the provider's message SID when it went);
    `on_opt_out`: what else ends when Twilio says the number opted out (`opt_outs.mark_recipient`)."""
    if isinstance(outcome, str):
        return Recorded(hand_over(session, row_id, outcome, now))
    found = session.execute(
        select(Outbox.status, Outbox.attempts, Outbox.subscriber_id).where(Outbox.id == row_id).with_for_update()
    ).one_or_none()
    assert found is not None, f"outbox row {row_id} vanished while it was being sent"
    status, attempts, subscriber_id = found
    if status != OutboxStatus.SENDING:
        # A status callback overtook us: Twilio has the message, whatever our side saw.
        log.info("outbox %s: %s after Twilio already reported %s", row_id, outcome.__class__.__name__, status)
        return Recorded(status)
    error = {"error_code": getattr(outcome, "code", None), "error_message": str(outcome)}
    if isinstance(outcome, ConfigurationError):
        # Twilio refused the account, not this text: it waits, uncounted, for the fix.
        from_sending(session, row_id, OutboxStatus.QUEUED, now, attempts=max(0, attempts - 1), **error)
        return Recorded(OutboxStatus.QUEUED)
    if isinstance(outcome, TransientError):
        if attempts >= MAX_ATTEMPTS:
            error["error_message"] = f"gave up after {attempts} attempts: {outcome}"
            from_sending(session, row_id, OutboxStatus.FAILED, now, **error)
            return Recorded(OutboxStatus.FAILED)
        from_sending(session, row_id, OutboxStatus.QUEUED, now, send_after=now + backoff(attempts), **error)
        return Recorded(OutboxStatus.QUEUED)
    if isinstance(outcome, PermanentError):
        from_sending(session, row_id, OutboxStatus.FAILED, now, **error)
        return Recorded(OutboxStatus.FAILED, mark_recipient(session, subscriber_id, outcome.code, now,
                                                            on_opt_out=on_opt_out))
    if not isinstance(outcome, AmbiguousError):
        error["error_message"] = f"unexpected error: {outcome!r}"
    from_sending(session, row_id, OutboxStatus.UNKNOWN, now, **error)
    return Recorded(OutboxStatus.UNKNOWN)


def record_results(session: Session, outcomes: Sequence[tuple[int, Exception | str]], now: datetime, *,
                   on_opt_out: OptOutHook | None = None) -> list[Recorded]:
    """Store what happened to several sends at once, in order: the ones Twilio took in one statement.

    The same moves as `record_result`, row by row, only batched where they are alike.
    """
    handed = hand_over_many(session, [(row_id, outcome) for row_id, outcome in outcomes if isinstance(outcome, str)],
                            now)
    return [Recorded(handed[row_id]) if isinstance(outcome, str)
            else record_result(session, row_id, outcome, now, on_opt_out=on_opt_out)
            for row_id, outcome in outcomes]


def cancel_in_flight(session: Session, row_id: int, reason: str, now: datetime) -> Recorded:
    """A claimed text whose recipient opted out before it could go: it never leaves."""
    from_sending(session, row_id, OutboxStatus.CANCELLED, now, attempts=Outbox.attempts - 1, error_message=reason)
    return Recorded(OutboxStatus.CANCELLED)


# ── Twilio's status callbacks ──────────────────────────────────────────────


def record_callback(session: Session, report: ProviderReport, now: datetime, *,
                    on_opt_out: OptOutHook | None = None) -> str:
    """Apply one delivery report to its outbox row; returns what was done, for the log. `on_opt_out`: what
    else ends when it says the number opted out (`opt_outs.mark_recipient`)."""
    if report.status is None:
        return f"ignored: status {report.raw_status!r} means nothing to the outbox"
    row = _reported_row(session, report)
    if row is None:
        log.warning("status callback for an unknown text (outbox=%s, sid=%s): ignored",
                    report.outbox_id, report.message_sid)
        return "ignored: no such text"
    row_id, previous, known_sid, subscriber_id = row
    if not known_sid and report.message_sid:
        session.execute(
            update(Outbox).where(Outbox.id == row_id).values(provider_sid=report.message_sid, sent_at=now)
            .execution_options(synchronize_session=False)
        )
    if provider_rank(report.status) <= provider_rank(previous):
        return f"kept {previous}"
    values: dict[str, Any] = {}
    if report.status == OutboxStatus.DELIVERED:
        values.update(delivered_at=now, error_code=None, error_message=None)
    if report.status in (OutboxStatus.UNDELIVERED, OutboxStatus.FAILED) or report.error_code:
        values.update(error_code=report.error_code, error_message=f"Twilio: {report.raw_status}"
                      + (f" ({report.error_code})" if report.error_code else ""))
    move_forward(session, row_id, report.status, now, **values)
    mark_recipient(session, subscriber_id, report.error_code, now, on_opt_out=on_opt_out)
    return f"{previous} → {report.status}"


def _reported_row(session: Session, report: ProviderReport) -> tuple[int, OutboxStatus, str | None, int | None] | None:
    """(id, status, provider sid, subscriber) of the row, by outbox id checked against the SID, else by SID."""
    columns = (Outbox.id, Outbox.status, Outbox.provider_sid, Outbox.subscriber_id)
    by_sid = session.execute(
        select(*columns).where(Outbox.provider_sid == report.message_sid).with_for_update()
    ).one_or_none() if report.message_sid else None
    if report.outbox_id is None:
        return tuple(by_sid) if by_sid else None  # type: ignore[return-value]
    row = session.execute(select(*columns).where(Outbox.id == report.outbox_id).with_for_update()).one_or_none()
    if row is None:
        return None
    if by_sid is not None and by_sid.id != row.id:
        log.warning("status callback: sid %s belongs to outbox %s, not %s: ignored",
                    report.message_sid, by_sid.id, row.id)
        return None
    if row.provider_sid and report.message_sid and row.provider_sid != report.message_sid:
        log.warning("status callback: outbox %s has sid %s, not %s: ignored",
                    row.id, row.provider_sid, report.message_sid)
        return None
    return tuple(row)  # type: ignore[return-value]
