"""Routing a stored text exactly once, with its lease and the clock's takeover.

Routing runs in its own transaction, which first locks the stored row and goes on only while
it is still `received`; its effects and its replies are saved together on the row. So a text
is processed exactly once: a retried `MessageSid` that finds it handled gets the same reply
and causes no second effect, and one that finds it left `received` by a process that died
takes it over. The clock takes over any text still `received` after `LEASE` (its replies
then go by REST), and sends one that failed that way twice to the organisers' inbox.

If a handler fails, the row keeps the error and the sender gets a short apology: Twilio
sees a 200 and does not retry into a loop.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from sms_board import handlers
from sms_board.community.languages import texts_for_person
from sms_board.handlers.stop import channel_of
from sms_board.inbound import guards, status
from sms_board.inbound.text import Text
from sms_board.models import InboundMessage, InboundStatus
from sms_board.plumbing.config import Settings
from sms_board.plumbing.db import is_sqlite
from sms_board.sending.outbox import inserting_replies, record_replies, reply_rows
from sms_board.text.phone import normalise

log = logging.getLogger(__name__)

# A webhook answers in milliseconds and Twilio gives up on it after 15 s: a text still
# `received` a minute after it arrived was left by a process that died.
LEASE = timedelta(minutes=1)
# The first delivery, then one takeover by the clock; a text that kills its process twice
# is not tried again but goes to the organisers' inbox.
MAX_ROUTING_ATTEMPTS = 2


@dataclass(frozen=True)
class InboundResult:
    inbound_id: int
    message_sid: str
    status: str
    replies: list[str]
    duplicate: bool = False


def route_once(
    factory: sessionmaker[Session], settings: Settings, inbound_id: int, now: datetime, *, text: Text | None = None,
    by_rest: bool = False, skip_locked: bool = False, connection: Connection | None = None,
    stored: Mapping[str, object] | None = None,
) -> InboundResult | None:
    """Route a stored text unless someone already has; None when `skip_locked` finds it being routed.

    The row lock makes this safe from any number of places at once: whoever holds it
    while the text is still `received` routes it; everyone else waits, then answers
    with what was done. `text`: the webhook's reading of what was sent (a retry or a takeover
    reads the stored copy); `connection`: the webhook's own, which stored the text; `stored`:
    the values it stored, so that the row need not be read back.

    The text's row is the one row every text writes, so it is not an object of the session:
    it is locked and read by one `UPDATE … RETURNING` into a working copy the handlers fill
    in, and settled by one `status.transition()` carrying the columns routing changed. The
    handlers' own objects go through the session as usual.
    """
    try:
        with factory(bind=connection) if connection is not None else factory() as session, session.begin():
            phone = None
            if stored is not None and not is_sqlite(session):
                # Just stored by this webhook: what it holds is known. A text the router will read is
                # taken by the statement that reads its sender (`guards.sender`); any other, here.
                phone = normalise(str(stored["from_number"]), settings.default_region)
                taking = _routable(settings, phone, stored.get("to_number"))  # type: ignore[arg-type]
            else:
                taking = False
            inbound = _take(session, inbound_id, now, skip_locked=skip_locked, stored=stored, taking=taking)
            if inbound is None:
                if skip_locked:
                    return None  # someone is routing it right now
                return _result(session.connection().execute(_READ, {"row": inbound_id}).one())
            before = _columns(inbound)
            if phone is None:
                phone = normalise(inbound.from_number, settings.default_region)
            # Route what was sent, not the stored copy: its NUL markers are not part of a notice.
            if text is None:
                text = Text.read(inbound.params, inbound.body.replace("\ufffd", ""), settings.languages)
            with session.no_autoflush:  # the sender and the handlers' rows are written once, at the end
                processed = _process(session, settings, inbound, phone, text, now, by_rest=by_rest, take=taking)
            if processed is None:  # another delivery of the text had it: answer with what it did
                return _result(session.connection().execute(_READ, {"row": inbound_id}).one())
            outcome, replies = processed
            changed = {name: value for name, value in _columns(inbound).items() if value != before[name]}
            # The replies' rows are written by the statement that settles the text (PostgreSQL: one round trip).
            along, along_parameters = inserting_replies(replies)
            if not status.transition(session.connection(), inbound_id, outcome, allowed_from=status.OPEN, now=now,
                                     along=along, along_parameters=along_parameters, **changed):
                raise RuntimeError(f"inbound {inbound_id} was settled by another process while this one held it")
            return _result(inbound, outcome)
    except Exception as exc:
        log.exception("inbound %s: handler failed", inbound_id)
        return _failed(factory, settings, inbound_id, exc, now, by_rest=by_rest)


_INBOUND = InboundMessage.__table__
# Taking the row is a lock, not a move: it stays `received` until `status.transition` settles it
# (`status.taking`). SQLite has no row locks: an `UPDATE` takes its one write lock at once.
_TAKE = status.taking(*_INBOUND.c)
_TAKE_ONLY = status.taking(_INBOUND.c.id)
_TAKE_ON_SQLITE = (
    update(_INBOUND)
    .where(_INBOUND.c.id == bindparam("row"), _INBOUND.c.status == status.INITIAL)
    .values(handled_at=bindparam("at"))
    .returning(*_INBOUND.c)
)
_READ = select(_INBOUND).where(_INBOUND.c.id == bindparam("row"))
_TAKE_SKIPPING = _READ.with_for_update(skip_locked=True)
# What routing may fill in on the working copy; its status and stamp are the transition's.
_COLUMNS = tuple(column.key for column in _INBOUND.c if column.key not in {"status", "handled_at"})


def _columns(inbound: InboundMessage) -> dict[str, object]:
    # Copies of the JSON values, so that a handler changing them in place is seen as a change.
    values = {name: getattr(inbound, name) for name in _COLUMNS}
    values["params"], values["replies"] = dict(values["params"] or {}), list(values["replies"] or [])
    return values


def _routable(settings: Settings, phone: str | None, to_number: str | None) -> bool:
    """Whether the router reads this text (not a short code, nor the board's own number)."""
    return phone is not None and not guards.from_the_board(settings, phone, to_number)


def _take(
    session: Session, inbound_id: int, now: datetime, *, skip_locked: bool, stored: Mapping[str, object] | None = None,
    taking: bool = False,
) -> InboundMessage | None:
    """A working copy of the stored text, locked for routing, if it is still `received`; else None.

    One statement both takes the row lock (a concurrent delivery of the same text waits on it, then
    finds it handled) and checks the status: `status.taking` (an `UPDATE` on SQLite). The clock, which must not
    wait on a webhook that is routing the text, asks with `SKIP LOCKED` instead. The copy is
    outside the session: `status.transition` writes it back.
    """
    connection = session.connection()
    if skip_locked and not is_sqlite(session):
        found = connection.execute(_TAKE_SKIPPING, {"row": inbound_id}).one_or_none()
        if found is None or found.status not in status.OPEN:
            return None
    elif stored is not None:
        # Just stored by this webhook: what it holds is known, only the lock is needed (`taking`: it is taken
        # with its sender, by `guards.sender`).
        locking = _TAKE_ON_SQLITE if is_sqlite(session) else _TAKE_ONLY
        if not taking and connection.execute(locking, {"row": inbound_id, "at": now}).first() is None:
            return None
        return InboundMessage(**stored, id=inbound_id, handled_at=now)
    else:
        found = connection.execute(_TAKE_ON_SQLITE if is_sqlite(session) else _TAKE,
                                   {"row": inbound_id, "at": now}).one_or_none()
        if found is None:
            return None
    return InboundMessage(**found._mapping)


def _result(inbound: InboundMessage | Row[Any], settled: InboundStatus | None = None) -> InboundResult:
    # Replies that went by REST are not repeated as TwiML to a late retry.
    replies = [] if inbound.replies_queued else list(inbound.replies)
    return InboundResult(inbound.id, inbound.message_sid, settled or inbound.status, replies)


def _failed(
    factory: sessionmaker[Session], settings: Settings, inbound_id: int, exc: Exception, now: datetime, *,
    by_rest: bool,
) -> InboundResult:
    """A handler raised: its effects are rolled back; the row keeps the error and goes to the inbox."""
    with factory.begin() as session:
        inbound = session.get(InboundMessage, inbound_id, with_for_update=not is_sqlite(session))
        assert inbound is not None
        if inbound.status not in status.OPEN:
            return _result(inbound)
        phone = normalise(inbound.from_number, settings.default_region)
        replies = record_replies(
            session, phone, inbound.subscriber_id,
            texts_for_person(session, settings, inbound.subscriber_id, "apology"), inbound_id=inbound_id, now=now,
            by_rest=by_rest,
        ) if phone else []
        status.transition(
            session, inbound_id, InboundStatus.ERROR, allowed_from=status.OPEN, now=now, in_inbox=True,
            error="".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000],
            replies_queued=by_rest, replies=replies,
        )
        return InboundResult(inbound_id, inbound.message_sid, InboundStatus.ERROR, [] if by_rest else replies)


def take_over_stranded(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """Texts left `received` past the lease by a process that died are routed now (replies by REST).

    Each takeover is counted first, in its own transaction, so a text that kills its process
    again is not tried a third time: it goes to the organisers' inbox instead.
    """
    with factory() as session:
        stranded = list(session.scalars(
            select(InboundMessage.id).where(
                InboundMessage.status == InboundStatus.RECEIVED, InboundMessage.received_at < now - LEASE,
            ).order_by(InboundMessage.id).limit(500)
        ))
    routed = 0
    for inbound_id in stranded:
        with factory.begin() as session:
            attempts = session.scalar(
                update(InboundMessage)
                .where(InboundMessage.id == inbound_id, InboundMessage.status == InboundStatus.RECEIVED)
                .values(attempts=InboundMessage.attempts + 1)
                .returning(InboundMessage.attempts)
            )
        if attempts is None:
            continue
        if attempts > MAX_ROUTING_ATTEMPTS:
            _give_up(factory, inbound_id, attempts, now)
            continue
        log.warning("inbound %s was left unrouted by a process that stopped: routing it now", inbound_id)
        if route_once(factory, settings, inbound_id, now, by_rest=True, skip_locked=True) is not None:
            routed += 1
    return routed


def _give_up(factory: sessionmaker[Session], inbound_id: int, attempts: int, now: datetime) -> None:
    with factory.begin() as session:
        status.transition(
            session, inbound_id, InboundStatus.ERROR, allowed_from=status.OPEN, now=now, in_inbox=True,
            error=f"routing stopped {attempts - 1} times without finishing; left for an organiser",
        )
    log.error("inbound %s: routing never finished; it is in the organisers' inbox", inbound_id)


def _process(
    session: Session, settings: Settings, inbound: InboundMessage, phone: str | None, text: Text, now: datetime,
    *, by_rest: bool = False, take: bool = False,
) -> tuple[InboundStatus, list[dict[str, Any]]] | None:
    """Pass the text through the guards and the router; returns what it settles as (the other
    columns are filled in on `inbound`) and the outbox rows of its replies, which the statement that
    settles it writes. `take`: the text is taken with its sender; None, when another delivery of it has it."""
    if phone is None:
        # Short codes, alphanumeric sender IDs and garbage are never answered.
        inbound.error = "sender is not a phone number"
        return InboundStatus.IGNORED, []
    if not _routable(settings, phone, inbound.to_number):
        inbound.error = "sent from the board's own number"
        return InboundStatus.IGNORED, []

    read = guards.sender(session, inbound, now, take=take, stops=text.stops)
    if read is None:
        return None
    subscriber, activity = read
    inbound.subscriber_id = subscriber.id
    # Any text but YES lets a pending confirmation lapse (docs/language.md, "YES"): STOP, START and HELP, which are
    # answered before YES is read, and texts held or ignored below, as much as any other. The one exception: a
    # BROADCAST naming a language may add its version to the organiser's pending preview, so such a text leaves
    # the confirmation to the broadcast handler; if no handler settles it, it lapses after routing all the same.
    left = activity.pending and handlers.names_a_version(text.words, settings.languages)
    lapsed = handlers.lapse_unless_yes(session, subscriber, text.words, now) if activity.pending and not left else ()
    held = guards.flood(session, settings, inbound, subscriber, activity, text, now)
    if held or guards.repeated(session, settings, inbound, subscriber, activity, text, now, by_rest=by_rest):
        if left:
            handlers.lapse_pending(session, subscriber, now)
        return (InboundStatus.HELD if held else InboundStatus.IGNORED), []

    ctx = handlers.Context(session, settings, inbound, subscriber, text.words, now, lapsed=lapsed, stops=text.stops,
                           pending_left=left, stopped_on_arrival=activity.stopped_on_arrival,
                           ties_to_end=activity.ties_to_end)
    handlers.route(ctx)
    if ctx.pending_left:
        handlers.lapse_pending(session, subscriber, now)
    if ctx.ignored:
        inbound.error = ctx.ignored
        return InboundStatus.IGNORED, []
    inbound.handler = ctx.handler[:32] or None
    # A key pressed on a call (`voice.keypad`) is answered by the call's own words: nothing is texted back.
    replies = [] if channel_of(inbound) == "voice" else ctx.replies
    # A reply that confirms a change (or is owed, like a STOP's) always goes; the rest may be
    # an answer to a machine answering us.
    if replies and not (ctx.mandatory_reply or ctx.changed):
        loop = guards.loop_suspected(session, settings, inbound, activity, replies, now)
        if loop is not None:
            inbound.error = f"{guards.WITHHELD} ({loop})"
            replies = []
    # The output boundary: replies are smart-encoded, measured and recorded like every other text.
    # FORGET has erased the number from the row by now: its reply is recorded without it too.
    inbound.replies_queued = by_rest and bool(replies)
    # An opted-out number is answered only with what carrier rules owe it (the STOP confirmation,
    # HELP). Sent by REST after a takeover, such a reply is queued without the subscriber, so the
    # sender's refusal of opted-out recipients does not swallow it.
    owed_after_stop = by_rest and subscriber.opted_out
    inbound.replies, rows = reply_rows(inbound.from_number, None if owed_after_stop else inbound.subscriber_id,
                                       replies, inbound_id=inbound.id, now=now, by_rest=by_rest)
    return InboundStatus.HANDLED, rows
