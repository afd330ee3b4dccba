"""The outbox life cycle: every status change of every text goes through this module.

    held ──release──▶ queued ──claim──▶ sending ──handed over──▶ sent ──▶ delivered
      ▲                 │  ▲              │  │                      └──▶ undelivered / failed
      └─quiet hours─────┘  └──transient───┘  ├──permanent──▶ failed
    held / queued ──STOP, FORGET, dead number──▶ cancelled      └──ambiguous, or died──▶ unknown
    held / queued ──what it is about withdrawn──▶ cancelled
    queued call ──outside its call hours──▶ held      sent call ──busy, no answer──▶ held (redial)

A row moves only through `transition()`: one conditional `UPDATE … WHERE status IN
(…)` that names the states it may leave and always stamps `status_updated_at`,
so two processes can never both move the same row, and a late or repeated event
cannot move it back. The database refuses any status not named here (a CHECK
constraint). Twilio's own words are translated in `sending.transport`.

A text to one person may be about an item, a response (an offer, an ask) or a connection
(`Outbox.item_id`, `response_id`, `match_id`): when that is withdrawn, declined, closed or
ended before the text goes, the text is cancelled (`cancel_about`), so "Sam can help with
#R8" never reaches Priya at 08:00 after Sam took the offer back at 23:00.

Decided elsewhere, moved here: who may be texted is `sending.reachability` (the claim
statement refuses rows of numbers that may not be), where a number stops being texted is
`sending.opt_outs`, and what a send or a status callback says happened is read by
`sending.outcomes`, which picks the move (`from_sending`, `hand_over`, `move_forward`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
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
    case,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from sms_board.models import Area, Campaign, Outbox, OutboxKind, OutboxStatus, UTCDateTime
from sms_board.plumbing.db import is_sqlite
from sms_board.sending.reachability import unreachable_recipient

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

# A status only ever moves forward once Twilio speaks: a late or repeated callback cannot
# undo a later one. Our own states rank 0, so any word from Twilio beats our guess
# (`unknown` becomes `sent` when Twilio says it has the text); delivery is the strongest.
_PROVIDER_RANK = {OutboxStatus.SENT: 1, OutboxStatus.UNDELIVERED: 2, OutboxStatus.FAILED: 2, OutboxStatus.DELIVERED: 3}


def provider_rank(status: OutboxStatus) -> int:
    return _PROVIDER_RANK.get(status, 0)


def _below(status: OutboxStatus) -> tuple[OutboxStatus, ...]:
    return tuple(s for s in OutboxStatus if provider_rank(s) < provider_rank(status))


def initial_status(send_after: datetime | None) -> OutboxStatus:
    """A new row waits for quiet hours to end (`held`) or joins the queue."""
    return OutboxStatus.HELD if send_after is not None else OutboxStatus.QUEUED


# A reply leaves in the webhook's own answer: Twilio has it as soon as the board answers.
REPLY_STATUS = OutboxStatus.SENT


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


def _moving(which: ColumnElement[bool], to: OutboxStatus, allowed_from: Iterable[OutboxStatus],
            now: datetime | BindParameter[Any], values: dict[str, Any]) -> Update:
    """`transition`'s statement (also for a caller that needs `RETURNING`)."""
    # On the table, not the mapped class: the ORM's bulk-update machinery costs the sender's
    # GIL about 0.3 ms a statement and nothing here needs it (no objects are synchronised).
    return (
        update(Outbox.__table__)
        .where(which, Outbox.status.in_(list(allowed_from)))
        .values(status=to, status_updated_at=now, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )


def cancelling(which: ColumnElement[bool]) -> Update:
    """`cancel_waiting` as a statement for a `WITH` (a STOP as it is stored, `sending.opt_outs.opting_out`):
    the waiting rows `which` selects are cancelled, stamped `:cancel_at` with `:cancel_reason`."""
    return _moving(which, OutboxStatus.CANCELLED, WAITING, bindparam("cancel_at"),
                   {"error_message": bindparam("cancel_reason")})


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
_ABOUT_KINDS = (OutboxKind.NOTIFY, OutboxKind.RELAY, OutboxKind.CALL)  # a bridge call is about its connection


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
    kind: str
    match_id: int | None = None  # a call about a connection: a bridged call (`community.bridge`)


def due(now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    """Queued and its time come. Exactly the claim index's condition, so the search reads that index."""
    return and_(Outbox.status == OutboxStatus.QUEUED, or_(Outbox.send_after.is_(None), Outbox.send_after <= now))


def anything_due(session: Session, now: datetime, *, calls: bool = False) -> bool:
    """Whether a text (or, with `calls`, a call) is due now."""
    kind = Outbox.kind == OutboxKind.CALL if calls else Outbox.kind != OutboxKind.CALL
    return session.scalar(select(Outbox.id).where(due(now), kind).limit(1)) is not None


def _next_due(now: datetime | BindParameter[datetime], limit: int) -> Select[tuple[int]]:
    # The recipient check is not part of this search on purpose: PostgreSQL would answer a
    # NOT EXISTS with a hash anti-join over every waiting row (a million at a big digest);
    # here it reads the (lane, id) index and stops at the first rows, which the claim's
    # UPDATE then checks one by one. Calls have a lane of their own (`claim_call`): a call
    # waiting for the call rate never holds up a text.
    return (select(Outbox.id).where(due(now), Outbox.kind != OutboxKind.CALL)
            .order_by(Outbox.lane, Outbox.id).limit(limit))


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
        .where(Outbox.id.in_(bindparam("ids", expanding=True)), Outbox.status == OutboxStatus.QUEUED,
               ~unreachable_recipient())
        .values(status=OutboxStatus.SENDING, attempts=Outbox.attempts + 1, updated_at=now, status_updated_at=now)
        .returning(Outbox.id, Outbox.to_number, Outbox.body, Outbox.segments, Outbox.subscriber_id, Outbox.kind,
                   Outbox.match_id)
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


# A call claim that finds only calls outside their hours holds them and looks again, this many times at most.
_CALL_ROUNDS = 20


@functools.cache
def _call_search(sqlite: bool) -> Select[tuple[int, str | None]]:
    """The oldest due call and the clock of its area (none for a call of no campaign: the board's)."""
    search = (
        select(Outbox.id, Area.timezone)
        .outerjoin(Campaign, Campaign.id == Outbox.campaign_id)
        .outerjoin(Area, Area.id == Campaign.area_id)
        .where(due(bindparam("now", type_=UTCDateTime())), Outbox.kind == OutboxKind.CALL)
        .order_by(Outbox.id)
        .limit(1)
    )
    return search if sqlite else search.with_for_update(skip_locked=True, of=Outbox)


def claim_call(session: Session, now: datetime,
               opens: Callable[[datetime, str | None], datetime | None]) -> Claimed | None:
    """Mark the oldest due call `sending`, or None; two senders never claim one call.

    `opens(now, zone)` says when a call may be placed on that clock (None: now); a call
    found outside its hours is held until then, never dropped, and the next one looked at.
    """
    sqlite = is_sqlite(session)
    take = _claim_statements(sqlite, 1)[1]
    for _ in range(_CALL_ROUNDS):
        found = session.execute(_call_search(sqlite), {"now": now}).first()
        if found is None:
            return None
        row_id, zone = found
        until = opens(now, zone)
        if until is not None:
            hold(session, _one(row_id), until, now)
            continue
        taken = session.execute(take, {"now": now, "ids": [row_id]}).first()
        if taken is not None:
            return Claimed(*taken)
        transition(session, _one(row_id), OutboxStatus.CANCELLED, allowed_from=(OutboxStatus.QUEUED,), now=now,
                   error_message="recipient opted out or unreachable")
    return None


def redial(session: Session, row_id: int, until: datetime, now: datetime) -> int:
    """A call Twilio found busy or unanswered (it never connected) is placed again at `until`."""
    # `unknown` too: Twilio saying busy proves the call went, and that nobody heard it.
    return transition(session, _one(row_id), OutboxStatus.HELD, allowed_from=(OutboxStatus.SENT, OutboxStatus.UNKNOWN),
                      now=now, send_after=until)


def claim_plan(session: Session, now: datetime) -> str:
    """PostgreSQL's plan for the claim's row search (docs and the lane benchmark show it)."""
    query = _next_due(now, 1).with_for_update(skip_locked=True, of=Outbox)
    compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    rows = session.connection().exec_driver_sql(f"EXPLAIN {compiled}").all()
    return "\n".join(row[0] for row in rows)


# ── after a send (`sending.outcomes` decides which) ──────────────────────


def from_sending(session: Session, row_id: int, to: OutboxStatus, now: datetime, **values: Any) -> None:
    """A claimed row's send is over: it goes to `to` (queued again, failed, unknown, cancelled)."""
    transition(session, _one(row_id), to, allowed_from=IN_FLIGHT, now=now, **values)


def move_forward(session: Session, row_id: int, to: OutboxStatus, now: datetime, **values: Any) -> int:
    """Twilio's word: the row moves to `to` only from a status it outranks (a late report never undoes)."""
    return transition(session, _one(row_id), to, allowed_from=_below(to), now=now, **values)


def release_unsent(session: Session, row_ids: Sequence[int], now: datetime) -> int:
    """Claimed rows never handed to the transport (the sender stopped first): back in the queue, uncounted."""
    if not row_ids:
        return 0
    return transition(session, Outbox.id.in_(list(row_ids)), OutboxStatus.QUEUED, allowed_from=IN_FLIGHT, now=now,
                      attempts=Outbox.attempts - 1)


@functools.cache
def _handed_over(count: int) -> Update:
    """`transition(… OutboxStatus.SENT, allowed_from=IN_FLIGHT …)` of `count` rows, each with its own SID.

    Built once for each batch size, with the ids and SIDs as parameters (`:id_0`, `:sid_0`, …).
    """
    now = bindparam("now", type_=UTCDateTime())
    ids = [bindparam(f"id_{n}", type_=Integer()) for n in range(count)]
    sid = case(*((Outbox.id == ids[n], bindparam(f"sid_{n}", type_=String())) for n in range(count)))
    return (
        update(Outbox.__table__)
        .where(Outbox.id.in_(ids), Outbox.status.in_(IN_FLIGHT))
        .values(status=OutboxStatus.SENT, status_updated_at=now, updated_at=now,
                provider_sid=sid, sent_at=now, error_code=None, error_message=None)
        .returning(Outbox.id)
    )


def hand_over_many(session: Session, handed: Sequence[tuple[int, str]], now: datetime) -> dict[int, str]:
    """Twilio took each text (`(row id, provider_sid)`): every row is at least `sent`; returns each one's status.

    The common case, every row still `sending`, is one statement for the whole batch (the
    sender records what its threads sent together); a row a callback or the stale-row sweep
    got to first takes the long way, alone.
    """
    statuses: dict[int, str] = {}
    for start in range(0, len(handed), _HAND_OVER_BATCH):
        part = handed[start:start + _HAND_OVER_BATCH]
        params: dict[str, Any] = {"now": now}
        for n, (row_id, provider_sid) in enumerate(part):
            params[f"id_{n}"], params[f"sid_{n}"] = row_id, provider_sid
        moved = set(session.scalars(_handed_over(len(part)), params))
        for row_id, provider_sid in part:
            statuses[row_id] = OutboxStatus.SENT if row_id in moved else _handed_late(session, row_id, provider_sid, now)
    return statuses


# The most rows one hand-over statement names (the sender's batches are smaller).
_HAND_OVER_BATCH = 50


def hand_over(session: Session, row_id: int, provider_sid: str, now: datetime) -> str:
    """Twilio took the text (`provider_sid`): the row is at least `sent`; returns its status."""
    return hand_over_many(session, [(row_id, provider_sid)], now)[row_id]


def _handed_late(session: Session, row_id: int, provider_sid: str, now: datetime) -> str:
    """A callback came first, or the row was given up as `unknown`: Twilio has it, so it is at least sent."""
    handed = {"provider_sid": provider_sid, "sent_at": now, "error_code": None, "error_message": None}
    if move_forward(session, row_id, OutboxStatus.SENT, now, **handed):
        return OutboxStatus.SENT
    session.execute(
        update(Outbox).where(_one(row_id), Outbox.provider_sid.is_(None))
        .values(provider_sid=provider_sid, sent_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return session.scalar(select(Outbox.status).where(_one(row_id))) or OutboxStatus.SENT


# ── set-based writers share the same vocabulary ────────────────────────────


def status_literal(send_after: datetime | None) -> Any:
    """The initial status as a bound literal, for `INSERT … SELECT` fan-out."""
    return literal(initial_status(send_after), Outbox.status.type)


def lane_literal(lane: int) -> Any:
    return literal(int(lane), Integer())


def count_by_status(session: Session, which: ColumnElement[bool]) -> dict[str, int]:
    return dict(session.execute(  # type: ignore[arg-type]
        select(Outbox.status, func.count()).where(which).group_by(Outbox.status)
    ).all())


def in_statuses(statuses: Sequence[OutboxStatus]) -> ColumnElement[bool]:
    return Outbox.status.in_(list(statuses))
