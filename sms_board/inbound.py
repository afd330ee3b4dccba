"""The inbound pipeline shared by the webhook, `sms-board simulate` and the simulator page.

1. Store the text, idempotently by `MessageSid`, and commit: nothing is lost.
   A STOP (or Twilio's `OptOutType=STOP`) opts the number out in that same
   transaction: from the moment the text is stored, nothing more goes to it.
2. Route it in its own transaction, which first locks the stored row and goes on
   only while it is still `received`; its effects and its replies are saved
   together on the row. So a text is processed exactly once: a retried
   `MessageSid` that finds it handled gets the same reply and causes no second
   effect, and one that finds it left `received` by a process that died takes it
   over. The clock takes over any text still `received` after `LEASE` (its
   replies then go by REST), and sends one that failed that way twice to the
   organisers' inbox.
3. If a handler fails, the row keeps the error and the sender gets a short
   apology: Twilio sees a 200 and does not retry into a loop.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Connection,
    ScalarSelect,
    Text,
    bindparam,
    cast,
    exists,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from sms_board import handlers
from sms_board.community import abuse
from sms_board.community.alerts import alert_urgent
from sms_board.community.subscriptions import add_subscriber
from sms_board.config import Settings
from sms_board.db import is_sqlite
from sms_board.handlers.stop import stop_on_arrival, wants_to_stop
from sms_board.models import (
    Confirmation,
    InboundMessage,
    InboundStatus,
    Outbox,
    OutboxKind,
    Subscriber,
)
from sms_board.phone import mask, normalise
from sms_board.sending.outbox import prepare, record_replies
from sms_board.texts import render
from sms_board.urgent import may_be_urgent
from sms_board.utc import utcnow
from sms_board.words import Words, fold

log = logging.getLogger(__name__)

# Loop protection: at most SMS_BOARD_MAX_REPLIES_PER_HOUR automatic replies an hour; the same
# text a fourth time in ten minutes after three alike answers, or a text sooner than a person
# could answer one the board sent, is a machine answering the board.
LOOP_WINDOW = timedelta(hours=1)
REPEAT_WINDOW = timedelta(minutes=10)
REPEATS = 3
MACHINE_SPEED = timedelta(seconds=2)
WITHHELD = "reply withheld: loop protection"
FLOOD_WINDOW = timedelta(minutes=5)
FLOOD_LIMIT = 20
MAX_STORED_BODY = 10_000
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


def new_message_sid() -> str:
    """A fresh sid in Twilio's shape, marked local so it never collides with a real one."""
    return "SMlocal" + uuid.uuid4().hex[:27]


def _storable(text: str) -> str:
    # PostgreSQL text cannot hold NUL; keep a visible marker instead of losing the message.
    return text.replace("\x00", "\ufffd")[:MAX_STORED_BODY]


def receive(
    factory: sessionmaker[Session], settings: Settings, params: Mapping[str, str], now: datetime | None = None
) -> InboundResult:
    """Store, route and answer one inbound text; returns the direct replies to its sender."""
    now = now or utcnow()
    message_sid = _storable(params.get("MessageSid") or params.get("SmsMessageSid") or "").strip()[:64] or new_message_sid()
    raw_from = params.get("From") or ""
    body = params.get("Body") or ""
    phone = normalise(raw_from, settings.default_region)

    fields = {
        "message_sid": message_sid,
        "from_number": _storable(phone or raw_from)[:64],
        "to_number": _storable(params.get("To") or "")[:64] or None,
        "body": _storable(body),
        "params": {_storable(k)[:64]: _storable(str(v)) for k, v in params.items()},
        "received_at": now,
        "status": InboundStatus.RECEIVED.value,
        "replies": [],
        "in_inbox": False,
        "attempts": 1,
        "replies_queued": False,
    }
    stops = phone is not None and not _from_the_board(settings, phone, fields["to_number"]) and wants_to_stop(
        fields["params"], Words.parse(body))
    engine = factory.kw["bind"]
    if stops or is_sqlite(engine):
        try:
            inbound_id, now = _store_in_transaction(factory, settings, fields, phone, body, stops=stops)
        except IntegrityError:
            with engine.connect() as connection:
                inbound_id = connection.execute(_FIND_SID, {"sid": message_sid}).scalar_one()
            return _again(route_once(factory, settings, inbound_id, utcnow()))
        _stored(inbound_id, phone)
        return _routed(route_once(factory, settings, inbound_id, now, body=body[:MAX_STORED_BODY]))
    # One connection for the whole webhook: the text is stored with one autocommitted
    # statement, then routed in a transaction on the same connection.
    with engine.connect() as connection:
        inbound_id, fresh = _store_at_once(connection, fields)
        if not fresh:
            return _again(route_once(factory, settings, inbound_id, utcnow(), connection=connection))
        _stored(inbound_id, phone)
        # Route what was sent, not the stored copy: its NUL markers are not part of a notice.
        return _routed(route_once(factory, settings, inbound_id, now, body=body[:MAX_STORED_BODY],
                                  connection=connection, stored=fields))


def _stored(inbound_id: int, phone: str | None) -> None:
    if log.isEnabledFor(logging.INFO):
        log.info("inbound %s from %s stored", inbound_id, mask(phone) if phone else "(not a number)")


def _routed(result: InboundResult | None) -> InboundResult:
    assert result is not None
    return result


def _again(result: InboundResult | None) -> InboundResult:
    """A retried `MessageSid`: the answer the first delivery got (or gets, once it is routed)."""
    assert result is not None
    return InboundResult(result.inbound_id, result.message_sid, result.status, result.replies, duplicate=True)


_INBOUND = InboundMessage.__table__
_STORE = pg_insert(_INBOUND).on_conflict_do_nothing(index_elements=["message_sid"]).returning(_INBOUND.c.id)
_FIND_SID = select(_INBOUND.c.id).where(_INBOUND.c.message_sid == bindparam("sid"))


def _store_at_once(connection: Connection, fields: dict[str, object]) -> tuple[int, bool]:
    """One `INSERT … ON CONFLICT DO NOTHING RETURNING` committed on its own: one round trip, and
    the text is safe. Returns the row's id and whether it is new (False: a retried `MessageSid`)."""
    connection.execution_options(isolation_level="AUTOCOMMIT")
    inbound_id = connection.execute(_STORE, fields).scalar()
    fresh = inbound_id is not None
    if not fresh:
        inbound_id = connection.execute(_FIND_SID, {"sid": fields["message_sid"]}).scalar_one()
    connection.commit()
    # Routing runs in a transaction. (Should the INSERT fail, the connection goes back to the
    # pool, which restores its isolation level.)
    connection.execution_options(isolation_level=connection.default_isolation_level)
    return inbound_id, fresh


def _store_in_transaction(
    factory: sessionmaker[Session], settings: Settings, fields: dict[str, object], phone: str | None, body: str,
    *, stops: bool,
) -> tuple[int, datetime]:
    with factory.begin() as session:
        inbound = InboundMessage(**fields)
        if stops and phone is not None:
            # A STOP takes effect in the transaction that stores it (and stamps its arrival
            # once no send to the number is still on the wire).
            stop_on_arrival(session, settings, inbound, phone, Words.parse(body))
        session.add(inbound)
        session.flush()
        return inbound.id, inbound.received_at


def route_once(
    factory: sessionmaker[Session], settings: Settings, inbound_id: int, now: datetime, *, body: str | None = None,
    by_rest: bool = False, skip_locked: bool = False, connection: Connection | None = None,
    stored: Mapping[str, object] | None = None,
) -> InboundResult | None:
    """Route a stored text unless someone already has; None when `skip_locked` finds it being routed.

    The row lock makes this safe from any number of places at once: whoever holds it
    while the text is still `received` routes it; everyone else waits, then answers
    with what was done. `connection`: the webhook's own, which stored the text; `stored`: the
    values it stored, so that the row need not be read back.

    The text's row is read and written with plain statements (it is the one row every text
    writes): locked and read by one `UPDATE … RETURNING`, written by one `UPDATE` of what
    routing changed. The handlers' own objects go through the session as usual.
    """
    try:
        with factory(bind=connection) if connection is not None else factory() as session, session.begin():
            inbound = _take(session, inbound_id, now, skip_locked=skip_locked, stored=stored)
            if inbound is None:
                if skip_locked:
                    return None  # someone is routing it right now
                found = session.connection().execute(_READ, {"row": inbound_id}).one()
                return _result(InboundMessage(**found._mapping))
            before = _columns(inbound)
            phone = normalise(inbound.from_number, settings.default_region)
            text = body if body is not None else inbound.body.replace("\ufffd", "")
            with session.no_autoflush:  # the sender and the handlers' rows are written once, at the end
                _process(session, settings, inbound, phone, text, now, by_rest=by_rest)
            changed = {name: value for name, value in _columns(inbound).items() if value != before[name]}
            if changed:
                session.connection().execute(
                    update(_INBOUND).where(_INBOUND.c.id == inbound_id).values(**changed))
            return _result(inbound)
    except Exception as exc:
        log.exception("inbound %s: handler failed", inbound_id)
        return _failed(factory, settings, inbound_id, exc, now, by_rest=by_rest)


_TAKE_UPDATE = (
    update(_INBOUND)
    .where(_INBOUND.c.id == bindparam("row"), _INBOUND.c.status == InboundStatus.RECEIVED.value)
    .values(handled_at=bindparam("at"))
)
_TAKE = _TAKE_UPDATE.returning(*_INBOUND.c)
_TAKE_ONLY = _TAKE_UPDATE.returning(_INBOUND.c.id)
_READ = select(_INBOUND).where(_INBOUND.c.id == bindparam("row"))
_TAKE_SKIPPING = _READ.with_for_update(skip_locked=True)
_COLUMNS = tuple(column.key for column in _INBOUND.c)


def _columns(inbound: InboundMessage) -> dict[str, object]:
    # Copies of the JSON values, so that a handler changing them in place is seen as a change.
    values = {name: getattr(inbound, name) for name in _COLUMNS}
    values["params"], values["replies"] = dict(values["params"] or {}), list(values["replies"] or [])
    return values


def _take(
    session: Session, inbound_id: int, now: datetime, *, skip_locked: bool, stored: Mapping[str, object] | None = None,
) -> InboundMessage | None:
    """The stored text, locked for routing, if it is still `received`; else None.

    One `UPDATE … RETURNING` both takes the row lock (a concurrent delivery of the same text
    waits on it, then finds it handled) and checks the status. The clock, which must not
    wait on a webhook that is routing the text, asks with `SKIP LOCKED` instead. The row
    comes back as an object outside the session: routing writes it back with one `UPDATE`.
    """
    connection = session.connection()
    if skip_locked and not is_sqlite(session):
        found = connection.execute(_TAKE_SKIPPING, {"row": inbound_id}).one_or_none()
        if found is None or found.status != InboundStatus.RECEIVED.value:
            return None
    elif stored is not None:
        # Just stored by this webhook: what it holds is known, only the lock is needed.
        if connection.execute(_TAKE_ONLY, {"row": inbound_id, "at": now}).one_or_none() is None:
            return None
        return InboundMessage(**stored, id=inbound_id, handled_at=now)
    else:
        found = connection.execute(_TAKE, {"row": inbound_id, "at": now}).one_or_none()
        if found is None:
            return None
    return InboundMessage(**found._mapping)


def _result(inbound: InboundMessage) -> InboundResult:
    # Replies that went by REST are not repeated as TwiML to a late retry.
    replies = [] if inbound.replies_queued else list(inbound.replies)
    return InboundResult(inbound.id, inbound.message_sid, inbound.status, replies)


def _failed(
    factory: sessionmaker[Session], settings: Settings, inbound_id: int, exc: Exception, now: datetime, *,
    by_rest: bool,
) -> InboundResult:
    """A handler raised: its effects are rolled back; the row keeps the error and goes to the inbox."""
    with factory.begin() as session:
        inbound = session.get(InboundMessage, inbound_id, with_for_update=not is_sqlite(session))
        assert inbound is not None
        if inbound.status == InboundStatus.RECEIVED.value:
            phone = normalise(inbound.from_number, settings.default_region)
            inbound.status = InboundStatus.ERROR.value
            inbound.error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
            inbound.in_inbox = True
            inbound.handled_at = now
            inbound.replies_queued = by_rest
            inbound.replies = record_replies(
                session, phone, inbound.subscriber_id, [render("apology")], inbound_id=inbound_id, now=now,
                by_rest=by_rest,
            ) if phone else []
        return _result(inbound)


def _from_the_board(settings: Settings, phone: str, to_number: str | None) -> bool:
    own = {n for n in (settings.board_number, normalise(to_number, settings.default_region)) if n}
    return phone in own


def take_over_stranded(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """Texts left `received` past the lease by a process that died are routed now (replies by REST).

    Each takeover is counted first, in its own transaction, so a text that kills its process
    again is not tried a third time: it goes to the organisers' inbox instead.
    """
    with factory() as session:
        stranded = list(session.scalars(
            select(InboundMessage.id).where(
                InboundMessage.status == InboundStatus.RECEIVED.value, InboundMessage.received_at < now - LEASE,
            ).order_by(InboundMessage.id).limit(500)
        ))
    routed = 0
    for inbound_id in stranded:
        with factory.begin() as session:
            attempts = session.scalar(
                update(InboundMessage)
                .where(InboundMessage.id == inbound_id, InboundMessage.status == InboundStatus.RECEIVED.value)
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
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.id == inbound_id, InboundMessage.status == InboundStatus.RECEIVED.value)
            .values(status=InboundStatus.ERROR.value, in_inbox=True, handled_at=now,
                    error=f"routing stopped {attempts - 1} times without finishing; left for an organiser")
        )
    log.error("inbound %s: routing never finished; it is in the organisers' inbox", inbound_id)


def _ignore(inbound: InboundMessage, reason: str, now: datetime) -> None:
    inbound.status = InboundStatus.IGNORED.value
    inbound.error = reason
    inbound.handled_at = now


def _process(
    session: Session, settings: Settings, inbound: InboundMessage, phone: str | None, body: str, now: datetime,
    *, by_rest: bool = False,
) -> None:
    inbound.handled_at = now
    if phone is None:
        # Short codes, alphanumeric sender IDs and garbage are never answered.
        _ignore(inbound, "sender is not a phone number", now)
        return
    if _from_the_board(settings, phone, inbound.to_number):
        _ignore(inbound, "sent from the board's own number", now)
        return

    subscriber, activity = _sender(session, inbound, now)
    inbound.subscriber_id = subscriber.id

    # Route what was sent, not the stored copy: its NUL markers are not part of a notice.
    words = Words.parse(body)
    # Any text but YES lets a pending confirmation lapse (docs/language.md, "YES"): STOP, START and HELP, which are
    # answered before YES is read, and texts held or ignored below, as much as any other.
    lapsed = handlers.lapse_unless_yes(session, subscriber, words, now) if activity.pending else ()
    # A STOP is never held: however many texts came before it, it must take effect now.
    if activity.recent > FLOOD_LIMIT and not wants_to_stop(inbound.params, words):
        inbound.status = InboundStatus.HELD.value
        inbound.in_inbox = True
        inbound.error = f"flood: more than {FLOOD_LIMIT} texts in {int(FLOOD_WINDOW.total_seconds() // 60)} minutes"
        abuse.flood_held(session, settings, inbound, subscriber, activity.recent, FLOOD_WINDOW, now)
        return
    if not wants_to_stop(inbound.params, words) and abuse.repeated(session, inbound, subscriber, now, by_rest=by_rest,
                                                                   earlier=activity.identical):
        return

    ctx = handlers.Context(session, settings, inbound, subscriber, words, now, lapsed=lapsed)
    if subscriber.opted_out and not (
        handlers.opts_back_in(ctx) or handlers.stopped_by_this_text(ctx) or handlers.asks_for_help(ctx)
    ):
        # An opted-out number gets nothing until it opts back in (but HELP, which says how);
        # its text is kept for organisers.
        inbound.status = InboundStatus.IGNORED.value
        inbound.error = "sender has opted out"
        inbound.in_inbox = bool(words.tokens) and not handlers.asks_to_stop(words.tokens)
        if inbound.in_inbox and may_be_urgent(words):
            # Not answered (carrier rules), but a cry for help still reaches the organisers.
            inbound.urgent = True
            alert_urgent(session, settings, inbound, subscriber, now, answered=False)
        return
    handlers.route(ctx)
    inbound.handler = ctx.handler[:32] or None
    inbound.status = InboundStatus.HANDLED.value
    replies = ctx.replies
    # A reply that confirms a change (or is owed, like a STOP's) always goes; the rest may be
    # an answer to a machine answering us.
    if replies and not (ctx.mandatory_reply or ctx.changed):
        loop = _loop_suspected(session, settings, inbound, activity, replies, now)
        if loop is not None:
            inbound.error = f"{WITHHELD} ({loop})"
            replies = []
    # The output boundary: replies are smart-encoded, measured and recorded like every other text.
    # FORGET has erased the number from the row by now: its reply is recorded without it too.
    inbound.replies_queued = by_rest and bool(replies)
    # An opted-out number is answered only with what carrier rules owe it (the STOP confirmation,
    # HELP). Sent by REST after a takeover, such a reply is queued without the subscriber, so the
    # sender's refusal of opted-out recipients does not swallow it.
    owed_after_stop = by_rest and subscriber.opted_out
    inbound.replies = record_replies(session, inbound.from_number,
                                     None if owed_after_stop else inbound.subscriber_id, replies,
                                     inbound_id=inbound.id, now=now, by_rest=by_rest)


_CONFIRMATIONS = Confirmation.__table__
_OUTBOX = Outbox.__table__
_LOOKBACK = max(FLOOD_WINDOW, abuse.IDENTICAL_WINDOW, REPEAT_WINDOW)


def _sent_to_sender(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    # This number's texts of the last hour (`ix_outbox_to_number_sent`).
    return select(func.count()).where(_OUTBOX.c.to_number == bindparam("number"), *conditions).scalar_subquery()


_RECENT = select(
    func.count().filter(_INBOUND.c.received_at > bindparam("flood_since")).label("recent"),
    func.count().filter(_INBOUND.c.id != bindparam("row"), _INBOUND.c.body == bindparam("body"),
                        _INBOUND.c.received_at > bindparam("identical_since")).label("identical"),
    func.count().filter(_INBOUND.c.id != bindparam("row"), _INBOUND.c.body == bindparam("body"),
                        _INBOUND.c.received_at > bindparam("repeat_since")).label("repeats"),
).where(_INBOUND.c.from_number == bindparam("number"), _INBOUND.c.received_at > bindparam("since")).subquery()
# Built once: every text reads its sender and all its bookkeeping in this one statement.
_SENDER = select(
    Subscriber,
    _RECENT.c.recent,
    _RECENT.c.identical,
    exists().where(_CONFIRMATIONS.c.subscriber_id == Subscriber.id, _CONFIRMATIONS.c.resolved_at.is_(None)),
    _RECENT.c.repeats,
    _sent_to_sender(_OUTBOX.c.kind != OutboxKind.REPLY.value, _OUTBOX.c.sent_at > bindparam("quick_since"),
                    _OUTBOX.c.sent_at <= bindparam("arrived")),
    _sent_to_sender(_OUTBOX.c.kind == OutboxKind.REPLY.value, _OUTBOX.c.sent_at > bindparam("hour_ago")),
).select_from(Subscriber).join(_RECENT, true()).where(Subscriber.phone == bindparam("number"))
_EARLIER_ANSWERS = select(_INBOUND.c.replies, _INBOUND.c.error).where(
    _INBOUND.c.from_number == bindparam("number"), _INBOUND.c.body == bindparam("body"),
    _INBOUND.c.received_at > bindparam("since"), _INBOUND.c.id != bindparam("row"),
).order_by(_INBOUND.c.id.desc()).limit(REPEATS)


@dataclass(frozen=True)
class Activity:
    """What the sender did lately, read in one statement before the text is routed."""

    recent: int  # texts from the number in the flood window
    identical: int  # the same text before, in the repeat-noted window (MORE excepted)
    pending: bool  # a confirmation waits for YES
    repeats: int  # the same text before, in loop protection's window
    answered_at_once: int  # the board's own texts (not replies) sent just before this one arrived
    replies_this_hour: int  # automatic replies to the number in the last hour


def _sender(session: Session, inbound: InboundMessage, now: datetime) -> tuple[Subscriber, Activity]:
    """The sender (added, for a new number) and what they did lately: one statement for a known number."""
    arrived = inbound.received_at
    values = {
        "flood_since": now - FLOOD_WINDOW, "row": inbound.id, "body": inbound.body,
        "identical_since": now - abuse.IDENTICAL_WINDOW, "number": inbound.from_number, "since": now - _LOOKBACK,
        "repeat_since": now - REPEAT_WINDOW, "quick_since": arrived - MACHINE_SPEED, "arrived": arrived,
        "hour_ago": min(now, arrived) - LOOP_WINDOW,
    }
    found = session.execute(_SENDER, values).one_or_none()
    if found is None:
        add_subscriber(session, inbound.from_number, now)
        found = session.execute(_SENDER, values).one()
    subscriber, recent, identical, waiting, repeats, answered_at_once, replies = found
    if fold(inbound.body) in abuse.REPEATABLE:
        identical = 0
    activity = Activity(recent or 0, identical or 0, bool(waiting), repeats or 0, answered_at_once or 0, replies or 0)
    return subscriber, activity


def _loop_suspected(
    session: Session, settings: Settings, inbound: InboundMessage, activity: Activity, replies: list[str],
    now: datetime,
) -> str | None:
    """Why this text looks like a machine answering the board, or None (docs/language.md, "Loop protection").

    The same body again and again, or an answer faster than a person types to a text the board
    sent unprompted (a notification, a relay, a digest); and, whatever the pattern, a hard cap
    of automatic replies an hour. The board's own direct replies are not counted for speed: a
    script or a quick resident may text again at once after one, and that is no loop.
    """
    # The same text, answered the same way each time: a conversation stuck in a loop (MORE read
    # page after page is the same text too, but each answer differs).
    if activity.repeats >= REPEATS:
        answer = [prepare(text).text for text in replies]
        earlier = session.connection().execute(_EARLIER_ANSWERS, {
            "number": inbound.from_number, "body": inbound.body, "since": now - REPEAT_WINDOW, "row": inbound.id,
        }).all()
        if len(earlier) >= REPEATS and all(
            list(said) == answer or (error or "").startswith(WITHHELD) for said, error in earlier
        ):
            return (f"the same text {REPEATS + 1} times in {REPEAT_WINDOW.total_seconds() / 60:g} minutes, "
                    "answered alike")
    if activity.answered_at_once:
        return f"answered the board's text within {MACHINE_SPEED.total_seconds():g} s"
    if activity.replies_this_hour >= settings.max_replies_per_hour:
        return f"{activity.replies_this_hour} automatic replies in the last hour"
    return None


def forget_old_bodies(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """Raw texts are kept SMS_BOARD_RETENTION_DAYS; after that only the fact of them remains.

    The row stays (its status, handler and time are the board's history); the words and
    Twilio's parameters, which hold the sender's number, go.
    """
    cutoff = now - timedelta(days=settings.retention_days)
    with factory.begin() as session:
        result = session.execute(
            update(InboundMessage)
            .where(
                InboundMessage.received_at < cutoff,
                or_(InboundMessage.body != "", cast(InboundMessage.params, Text) != "{}"),
            )
            .values(body="", params={}, replies=[])
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0
