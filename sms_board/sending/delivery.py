"""The outbox life cycle: every status change of every text goes through this module.

    held ──release──▶ queued ──claim──▶ sending ──handed over──▶ sent ──▶ delivered
      ▲                 │  ▲              │  │                      └──▶ undelivered / failed
      └─quiet hours─────┘  └──transient───┘  ├──permanent──▶ failed
    held / queued ──STOP, FORGET, dead number──▶ cancelled      └──ambiguous, or died──▶ unknown
    held / queued ──what it is about withdrawn──▶ cancelled

A row moves only through `transition()`: one conditional `UPDATE … WHERE status IN
(…)` that names the states it may leave and always stamps `status_updated_at`,
so two processes can never both move the same row, and a late or repeated event
cannot move it back. The database refuses any status not named here (a CHECK
constraint). Twilio's own words are translated in `sending.transport`.

A text to one person may be about an item, a response (an offer, an ask) or a connection
(`Outbox.item_id`, `response_id`, `match_id`): when that is withdrawn, declined, closed or
ended before the text goes, the text is cancelled (`cancel_about`), so "Sam can help with
#R8" never reaches Priya at 08:00 after Sam took the offer back at 23:00.

Who may be texted is decided here too: a number that opted out (STOP, Twilio's
21610) or cannot take texts (21211, 21614) gets nothing more, and the sender's
claim refuses rows of such numbers in the claim statement itself.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    Update,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from sms_board.db import is_sqlite
from sms_board.models import (
    ConsentEvent,
    Outbox,
    OutboxKind,
    OutboxStatus,
    Subscriber,
    UTCDateTime,
)
from sms_board.phone import mask
from sms_board.sending.subscription_status import stop_all
from sms_board.sending.transport import (
    AmbiguousError,
    ConfigurationError,
    PermanentError,
    ProviderReport,
    TransientError,
    opted_out_code,
    undeliverable_code,
)

log = logging.getLogger(__name__)

# ── the status groups every other module speaks in ─────────────────────────

WAITING = (OutboxStatus.HELD, OutboxStatus.QUEUED)  # not yet handed to anyone: may still be cancelled
IN_FLIGHT = (OutboxStatus.SENDING,)  # claimed by a sender, the HTTP call under way
UNFINISHED = WAITING + IN_FLIGHT  # a campaign is done when none of its rows is in these
WITH_PROVIDER = (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.UNDELIVERED)  # Twilio has (or had) the text
# The sender never acts on these again.
FINAL = (OutboxStatus.DELIVERED, OutboxStatus.UNDELIVERED, OutboxStatus.FAILED, OutboxStatus.UNKNOWN,
         OutboxStatus.CANCELLED)
NOT_BILLED = (OutboxStatus.CANCELLED, OutboxStatus.FAILED)  # never sent, or refused before reaching a handset
BILLABLE = tuple(s for s in OutboxStatus if s not in NOT_BILLED)  # what counts toward the monthly cap
# A digest in these was never read: MORE cannot page it.
NOT_RECEIVED = (OutboxStatus.HELD, OutboxStatus.CANCELLED, OutboxStatus.FAILED)
LEFT_THE_BOARD = (*IN_FLIGHT, *WITH_PROVIDER, OutboxStatus.UNKNOWN)  # handed over, or being handed over

# A claim whose every candidate turns out unreachable looks again, this many times at most.
_CLAIM_ROUNDS = 3

# Backoff 5 s, 10 s, 20 s … capped at 15 min: ten attempts span about 36 minutes,
# long enough to ride out a short Twilio incident, short enough that a stuck row
# is reported the same evening.
MAX_ATTEMPTS = 10
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=15)

# A status only ever moves forward once Twilio speaks: a late or repeated callback cannot
# undo a later one. Our own states rank 0, so any word from Twilio beats our guess
# (`unknown` becomes `sent` when Twilio says it has the text); delivery is the strongest.
_PROVIDER_RANK = {OutboxStatus.SENT: 1, OutboxStatus.UNDELIVERED: 2, OutboxStatus.FAILED: 2, OutboxStatus.DELIVERED: 3}


def provider_rank(status: str | OutboxStatus) -> int:
    return _PROVIDER_RANK.get(OutboxStatus(status), 0)


def _below(status: OutboxStatus) -> tuple[OutboxStatus, ...]:
    return tuple(s for s in OutboxStatus if provider_rank(s) < provider_rank(status))


def initial_status(send_after: datetime | None) -> OutboxStatus:
    """A new row waits for quiet hours to end (`held`) or joins the queue."""
    return OutboxStatus.HELD if send_after is not None else OutboxStatus.QUEUED


# A reply leaves in the webhook's own answer: Twilio has it as soon as the board answers.
REPLY_STATUS = OutboxStatus.SENT


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempts - 1)))


# ── who may be texted ──────────────────────────────────────────────────────


def reachable() -> list[ColumnElement[bool]]:
    """Conditions on `Subscriber` for a number the board may text."""
    return [Subscriber.opted_out_at.is_(None), Subscriber.undeliverable_at.is_(None)]


def unreachable_recipient() -> ColumnElement[bool]:
    """True for an outbox row whose recipient may no longer be texted."""
    return exists().where(
        Subscriber.id == Outbox.subscriber_id,
        or_(Subscriber.opted_out_at.is_not(None), Subscriber.undeliverable_at.is_not(None)),
    )


def opt_out(
    session: Session, subscriber: Subscriber, *, words: str, channel: str, now: datetime,
    inbound_id: int | None = None, wording: str | None = None,
) -> bool:
    """Global opt-out: every subscription ends and nothing waiting goes out. False if already out.

    The one place a number is opted out, whether by STOP, FORGET's erasure or the carrier.
    """
    if subscriber.opted_out_at is not None:
        return False
    subscriber.opted_out_at = now
    stop_all(session, subscriber.id, now)
    cancel_waiting(session, subscriber.id, "recipient opted out", now)
    session.add(
        ConsentEvent(
            subscriber_id=subscriber.id, area_id=None, action="opt_out", channel=channel,
            words=words, wording=wording, inbound_id=inbound_id, created_at=now,
        )
    )
    return True


def lock_recipient(session: Session, subscriber_id: int) -> None:
    """Wait for any send to this number that is already on the wire, and keep new ones off it.

    A STOP takes this lock (PostgreSQL `FOR UPDATE`) before it is stamped as stored;
    `recipient_on_the_wire` holds a `FOR KEY SHARE` lock on the same row for the length of
    each send. Ordinary updates of the row (a NAME, a hint) wait for neither.
    """
    if not is_sqlite(session):
        session.execute(select(Subscriber.id).where(Subscriber.id == subscriber_id).with_for_update())


@functools.cache
def _recipient_check(sqlite: bool) -> Select[Any]:
    """`recipient_on_the_wire`'s query, built once: the sender runs it for every text."""
    query = select(*reachable()).select_from(Subscriber).where(Subscriber.id == bindparam("subscriber_id"))
    return query if sqlite else query.with_for_update(read=True, key_share=True)


@contextmanager
def recipient_on_the_wire(factory: sessionmaker[Session], subscriber_id: int | None) -> Iterator[bool]:
    """Whether the number may still be texted, checked at the last moment and held for the send.

    On PostgreSQL the check holds a key-share lock on the subscriber's row (in a transaction
    of its own) until the send is over, so a STOP is stored either after the text reached
    Twilio or before the check, which then sees it. SQLite (one sender, a development
    database) must never hold its write lock over an HTTP call: there the check is released
    at once, and a STOP in that instant can still meet the text it crossed.
    """
    if subscriber_id is None:
        yield True
        return
    with factory() as session:
        sqlite = is_sqlite(session)
        found = session.execute(_recipient_check(sqlite), {"subscriber_id": subscriber_id}).one_or_none()
        if sqlite:
            session.commit()
        try:
            yield found is None or all(found)
        finally:
            try:
                session.commit()
            except OperationalError:
                # The connection died during the send: its lock went with it, and the send's
                # outcome must still be recorded (on another connection).
                log.warning("the recipient check's database connection dropped during a send")


# ── the one way a status changes ───────────────────────────────────────────


def transition(
    session: Session,
    which: ColumnElement[bool],
    to: OutboxStatus,
    *,
    allowed_from: Iterable[OutboxStatus],
    now: datetime,
    **values: Any,
) -> int:
    """Move the rows `which` selects to `to`, but only those now in `allowed_from`; returns how many moved."""
    return session.execute(_moving(which, to, allowed_from, now, values)).rowcount or 0


def _moving(which: ColumnElement[bool], to: OutboxStatus, allowed_from: Iterable[OutboxStatus], now: datetime,
            values: dict[str, Any]) -> Update:
    """`transition`'s statement (also for a caller that needs `RETURNING`)."""
    # On the table, not the mapped class: the ORM's bulk-update machinery costs the sender's
    # GIL about 0.3 ms a statement and nothing here needs it (no objects are synchronised).
    return (
        update(Outbox.__table__)
        .where(which, Outbox.status.in_([s.value for s in allowed_from]))
        .values(status=to.value, status_updated_at=now, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )


def _one(row_id: int) -> ColumnElement[bool]:
    return Outbox.id == row_id


# ── waiting rows ───────────────────────────────────────────────────────────


def release_held(session: Session, now: datetime) -> int:
    """Held texts whose quiet hours are over join the queue."""
    return transition(session, Outbox.send_after <= now, OutboxStatus.QUEUED, allowed_from=(OutboxStatus.HELD,),
                      now=now)


def hold(session: Session, which: ColumnElement[bool], until: datetime, now: datetime) -> int:
    """Queued texts go back to `held` until `until` (a campaign still running when quiet hours begin)."""
    return transition(session, which, OutboxStatus.HELD, allowed_from=(OutboxStatus.QUEUED,), now=now, send_after=until)


def cancel_waiting(session: Session, subscriber_id: int, reason: str, now: datetime) -> int:
    """Nothing still waiting goes to this subscriber (STOP, FORGET, a number that cannot take texts)."""
    return transition(session, Outbox.subscriber_id == subscriber_id, OutboxStatus.CANCELLED, allowed_from=WAITING,
                      now=now, error_message=reason)


# Texts to one person may be about something; digests and broadcasts never are.
_ABOUT_KINDS = (OutboxKind.NOTIFY.value, OutboxKind.RELAY.value)


def about(*, item_id: int | None = None, response_id: int | None = None,
          match_id: int | None = None) -> ColumnElement[bool]:
    """The texts to one person about this item, response (offer, ask) or connection."""
    column, value = ((Outbox.item_id, item_id) if item_id is not None else
                     (Outbox.response_id, response_id) if response_id is not None else (Outbox.match_id, match_id))
    assert value is not None, "about() needs what the texts are about"
    return and_(column == value, Outbox.kind.in_(_ABOUT_KINDS))


def cancel_about(session: Session, which: ColumnElement[bool], reason: str, now: datetime) -> set[int]:
    """Waiting texts about something withdrawn, declined, closed or ended never go (`which`: `about(…)`).

    Returns whose texts were cancelled: a neighbour who never heard of a connection is not
    told it ended. A text already handed over (or being handed over) is left alone.
    """
    cancelled = session.execute(
        _moving(which, OutboxStatus.CANCELLED, WAITING, now, {"error_message": reason}).returning(Outbox.subscriber_id)
    ).scalars()
    return {subscriber_id for subscriber_id in cancelled if subscriber_id is not None}


def told_about(session: Session, which: ColumnElement[bool]) -> set[int]:
    """Who has had (or is being sent) a text about it (`which`: `about(…)`)."""
    return set(session.scalars(
        select(Outbox.subscriber_id).where(which, in_statuses(LEFT_THE_BOARD), Outbox.subscriber_id.is_not(None))
        .distinct()
    ))


def cancel_for_unreachable(session: Session, now: datetime) -> int:
    """Waiting texts to numbers that opted out or cannot receive texts are cancelled."""
    return transition(session, unreachable_recipient(), OutboxStatus.CANCELLED, allowed_from=WAITING, now=now,
                      error_message="recipient opted out or unreachable")


def mark_stale_sending_unknown(session: Session, older_than: datetime, now: datetime) -> int:
    """Rows left `sending` by a process that died: we cannot know if they went, so say so."""
    return transition(
        session, or_(Outbox.updated_at.is_(None), Outbox.updated_at < older_than), OutboxStatus.UNKNOWN,
        allowed_from=IN_FLIGHT, now=now, error_message="sender stopped during the send",
    )


# ── claiming ───────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Claimed:
    id: int
    to: str
    body: str
    segments: int
    subscriber_id: int | None


def due(now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    """Queued and its time come. Exactly the claim index's condition, so the search reads that index."""
    return and_(Outbox.status == OutboxStatus.QUEUED.value, or_(Outbox.send_after.is_(None), Outbox.send_after <= now))


def anything_due(session: Session, now: datetime) -> bool:
    return session.scalar(select(Outbox.id).where(due(now)).limit(1)) is not None


def _next_due(now: datetime | BindParameter[datetime], limit: int) -> Select[tuple[int]]:
    # The recipient check is not part of this search on purpose: PostgreSQL would answer a
    # NOT EXISTS with a hash anti-join over every waiting row (a million at a big digest);
    # here it reads the (lane, id) index and stops at the first rows, which the claim's
    # UPDATE then checks one by one.
    return select(Outbox.id).where(due(now)).order_by(Outbox.lane, Outbox.id).limit(limit)


@functools.cache
def _claim_statements(sqlite: bool, limit: int) -> tuple[Select[tuple[int]], Update]:
    """The claim's search and UPDATE, built once (with `now` and the ids as parameters).

    Building them for every text cost the sender about 1 ms of its GIL a claim.
    """
    now = bindparam("now", type_=UTCDateTime())
    search = _next_due(now, limit)
    if not sqlite:  # SQLite's BEGIN IMMEDIATE already lets one claimer in at a time
        search = search.with_for_update(skip_locked=True, of=Outbox)
    take = (
        update(Outbox.__table__)
        .where(Outbox.id.in_(bindparam("ids", expanding=True)), Outbox.status == OutboxStatus.QUEUED.value,
               ~unreachable_recipient())
        .values(status=OutboxStatus.SENDING.value, attempts=Outbox.attempts + 1, updated_at=now, status_updated_at=now)
        .returning(Outbox.id, Outbox.to_number, Outbox.body, Outbox.segments, Outbox.subscriber_id)
    )
    return search, take


def claim(session: Session, now: datetime, limit: int = 1) -> list[Claimed]:
    """Mark up to `limit` due rows `sending`, most urgent lane first; two senders never claim one row.

    The claim statement itself refuses rows whose recipient may no longer be texted; those
    are cancelled, and the next rows looked at.
    """
    search, take = _claim_statements(is_sqlite(session), limit)
    for _ in range(_CLAIM_ROUNDS):
        ids = list(session.scalars(search, {"now": now}))
        if not ids:
            return []
        rows = session.execute(take, {"now": now, "ids": ids}).all()
        if len(rows) < len(ids):
            transition(session, and_(Outbox.id.in_(ids), unreachable_recipient()), OutboxStatus.CANCELLED,
                       allowed_from=(OutboxStatus.QUEUED,), now=now, error_message="recipient opted out or unreachable")
        if rows:
            order = {row_id: position for position, row_id in enumerate(ids)}
            return sorted((Claimed(*row) for row in rows), key=lambda c: order[c.id])
    return []


def claim_plan(session: Session, now: datetime) -> str:
    """PostgreSQL's plan for the claim's row search (docs and the lane benchmark show it)."""
    query = _next_due(now, 1).with_for_update(skip_locked=True, of=Outbox)
    compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    rows = session.connection().exec_driver_sql(f"EXPLAIN {compiled}").all()
    return "\n".join(row[0] for row in rows)


# ── what the sender learned ────────────────────────────────────────────────


@dataclass(frozen=True)
class Recorded:
    status: str
    cancelled: int = 0  # the recipient's other waiting texts, cancelled by an opt-out or dead number


def record_result(session: Session, row_id: int, outcome: Exception | str, now: datetime) -> Recorded:
    """Store what happened to one send (`outcome` is the provider's message SID when it went)."""
    if isinstance(outcome, str):
        return _record_handed_over(session, row_id, outcome, now)
    found = session.execute(
        select(Outbox.status, Outbox.attempts, Outbox.subscriber_id).where(_one(row_id)).with_for_update()
    ).one_or_none()
    assert found is not None, f"outbox row {row_id} vanished while it was being sent"
    status, attempts, subscriber_id = found
    if status != OutboxStatus.SENDING.value:
        # A status callback overtook us: Twilio has the message, whatever our side saw.
        log.info("outbox %s: %s after Twilio already reported %s", row_id, outcome.__class__.__name__, status)
        return Recorded(status)
    error = {"error_code": getattr(outcome, "code", None), "error_message": str(outcome)}
    if isinstance(outcome, ConfigurationError):
        # Twilio refused the account, not this text: it waits, uncounted, for the fix.
        _from_sending(session, row_id, OutboxStatus.QUEUED, now, attempts=max(0, attempts - 1), **error)
        return Recorded(OutboxStatus.QUEUED.value)
    if isinstance(outcome, TransientError):
        if attempts >= MAX_ATTEMPTS:
            error["error_message"] = f"gave up after {attempts} attempts: {outcome}"
            _from_sending(session, row_id, OutboxStatus.FAILED, now, **error)
            return Recorded(OutboxStatus.FAILED.value)
        _from_sending(session, row_id, OutboxStatus.QUEUED, now, send_after=now + backoff(attempts), **error)
        return Recorded(OutboxStatus.QUEUED.value)
    if isinstance(outcome, PermanentError):
        _from_sending(session, row_id, OutboxStatus.FAILED, now, **error)
        return Recorded(OutboxStatus.FAILED.value, mark_recipient(session, subscriber_id, outcome.code, now))
    if not isinstance(outcome, AmbiguousError):
        error["error_message"] = f"unexpected error: {outcome!r}"
    _from_sending(session, row_id, OutboxStatus.UNKNOWN, now, **error)
    return Recorded(OutboxStatus.UNKNOWN.value)


def cancel_in_flight(session: Session, row_id: int, reason: str, now: datetime) -> Recorded:
    """A claimed text whose recipient opted out before it could go: it never leaves."""
    _from_sending(session, row_id, OutboxStatus.CANCELLED, now, attempts=Outbox.attempts - 1, error_message=reason)
    return Recorded(OutboxStatus.CANCELLED.value)


def _from_sending(session: Session, row_id: int, to: OutboxStatus, now: datetime, **values: Any) -> None:
    transition(session, _one(row_id), to, allowed_from=IN_FLIGHT, now=now, **values)


@functools.cache
def _handed_over() -> Update:
    """`transition(… OutboxStatus.SENT, allowed_from=IN_FLIGHT …)` of one row, as a statement built once."""
    now = bindparam("now", type_=UTCDateTime())
    return (
        update(Outbox.__table__)
        .where(Outbox.id == bindparam("row_id"), Outbox.status.in_([s.value for s in IN_FLIGHT]))
        .values(status=OutboxStatus.SENT.value, status_updated_at=now, updated_at=now,
                provider_sid=bindparam("provider_sid"), sent_at=now, error_code=None, error_message=None)
    )


def _record_handed_over(session: Session, row_id: int, provider_sid: str, now: datetime) -> Recorded:
    handed = {"provider_sid": provider_sid, "sent_at": now, "error_code": None, "error_message": None}
    # The common case, in one statement built once: `sending` → `sent`.
    if session.execute(_handed_over(), {"row_id": row_id, "provider_sid": provider_sid, "now": now}).rowcount:
        return Recorded(OutboxStatus.SENT.value)
    # A callback came first, or the row was given up as `unknown`: Twilio has it, so it is at least sent.
    if transition(session, _one(row_id), OutboxStatus.SENT, allowed_from=_below(OutboxStatus.SENT), now=now, **handed):
        return Recorded(OutboxStatus.SENT.value)
    session.execute(
        update(Outbox).where(_one(row_id), Outbox.provider_sid.is_(None))
        .values(provider_sid=provider_sid, sent_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return Recorded(session.scalar(select(Outbox.status).where(_one(row_id))) or OutboxStatus.SENT.value)


def mark_recipient(session: Session, subscriber_id: int | None, error_code: str | None, now: datetime) -> int:
    """Twilio says the number opted out (21610) or cannot take texts (21211, 21614).

    Marks the subscriber and cancels their other waiting texts; returns how many.
    """
    subscriber = session.get(Subscriber, subscriber_id) if subscriber_id else None
    if subscriber is None:
        return 0
    if opted_out_code(error_code) and subscriber.opted_out_at is None:
        cancelled = cancel_waiting(session, subscriber.id, f"recipient opted out (Twilio {error_code})", now)
        opt_out(session, subscriber, words=f"Twilio error {error_code}", channel="carrier", now=now)
        log.warning("%s opted out at the carrier (Twilio %s)", mask(subscriber.phone), error_code)
        return cancelled
    if undeliverable_code(error_code) and subscriber.undeliverable_at is None:
        subscriber.undeliverable_at = now
        log.warning("%s cannot receive texts (Twilio %s)", mask(subscriber.phone), error_code)
        return cancel_waiting(session, subscriber.id, f"number cannot receive texts (Twilio {error_code})", now)
    return 0


# ── Twilio's status callbacks ──────────────────────────────────────────────


def record_callback(session: Session, report: ProviderReport, now: datetime) -> str:
    """Apply one delivery report to its outbox row; returns what was done, for the log."""
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
            update(Outbox).where(_one(row_id)).values(provider_sid=report.message_sid, sent_at=now)
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
    transition(session, _one(row_id), report.status, allowed_from=_below(report.status), now=now, **values)
    mark_recipient(session, subscriber_id, report.error_code, now)
    return f"{previous} → {report.status.value}"


def _reported_row(session: Session, report: ProviderReport) -> tuple[int, str, str | None, int | None] | None:
    """(id, status, provider sid, subscriber) of the row, by outbox id checked against the SID, else by SID."""
    columns = (Outbox.id, Outbox.status, Outbox.provider_sid, Outbox.subscriber_id)
    by_sid = session.execute(
        select(*columns).where(Outbox.provider_sid == report.message_sid).with_for_update()
    ).one_or_none() if report.message_sid else None
    if report.outbox_id is None:
        return tuple(by_sid) if by_sid else None  # type: ignore[return-value]
    row = session.execute(select(*columns).where(_one(report.outbox_id)).with_for_update()).one_or_none()
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


# ── set-based writers share the same vocabulary ────────────────────────────


def status_literal(send_after: datetime | None) -> Any:
    """The initial status as a bound literal, for `INSERT … SELECT` fan-out."""
    return literal(initial_status(send_after).value, String())


def lane_literal(lane: int) -> Any:
    return literal(int(lane), Integer())


def count_by_status(session: Session, which: ColumnElement[bool]) -> dict[str, int]:
    return dict(session.execute(  # type: ignore[arg-type]
        select(Outbox.status, func.count()).where(which).group_by(Outbox.status)
    ).all())


def in_statuses(statuses: Sequence[OutboxStatus]) -> ColumnElement[bool]:
    return Outbox.status.in_([s.value for s in statuses])

