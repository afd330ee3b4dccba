"""The inbound pipeline shared by the webhook, `sms-board simulate` and the simulator page.

1. Store the text, idempotently by `MessageSid`, and commit: nothing is lost.
2. Route it in its own transaction; its effects and its replies are saved
   together on the inbound row, so a retried `MessageSid` gets the same reply
   and causes no second effect.
3. If a handler fails, the row keeps the error and the sender gets a short
   apology: Twilio sees a 200 and does not retry into a loop.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Text, cast, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from sms_board import handlers
from sms_board.community.subscriptions import get_or_create_subscriber
from sms_board.config import Settings
from sms_board.models import InboundMessage, InboundStatus
from sms_board.phone import mask, normalise
from sms_board.sending.outbox import record_replies
from sms_board.texts import render
from sms_board.utc import utcnow
from sms_board.words import Words

log = logging.getLogger(__name__)

LOOP_WINDOW = timedelta(hours=1)
FLOOD_WINDOW = timedelta(minutes=5)
FLOOD_LIMIT = 20
MAX_STORED_BODY = 10_000


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

    try:
        with factory.begin() as session:
            inbound = InboundMessage(
                message_sid=message_sid,
                from_number=_storable(phone or raw_from)[:64],
                to_number=_storable(params.get("To") or "")[:64] or None,
                body=_storable(body),
                params={_storable(k)[:64]: _storable(str(v)) for k, v in params.items()},
                received_at=now,
                status=InboundStatus.RECEIVED.value,
                replies=[],
                in_inbox=False,
            )
            session.add(inbound)
            session.flush()
            inbound_id = inbound.id
    except IntegrityError:
        return _replay(factory, message_sid)

    log.info("inbound %s from %s stored", inbound_id, mask(phone) if phone else "(not a number)")
    try:
        with factory.begin() as session:
            inbound = session.get(InboundMessage, inbound_id)
            assert inbound is not None
            _process(session, settings, inbound, phone, body[:MAX_STORED_BODY], now)
            status, replies = inbound.status, list(inbound.replies)
    except Exception as exc:
        log.exception("inbound %s: handler failed", inbound_id)
        apology = render("apology")
        with factory.begin() as session:
            inbound = session.get(InboundMessage, inbound_id)
            assert inbound is not None
            inbound.status = InboundStatus.ERROR.value
            inbound.error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
            inbound.in_inbox = True
            inbound.handled_at = now
            inbound.replies = record_replies(session, phone, inbound.subscriber_id, [apology], inbound_id=inbound_id,
                                             now=now) if phone else []
            status, replies = inbound.status, list(inbound.replies)
    return InboundResult(inbound_id, message_sid, status, replies)


def _replay(factory: sessionmaker[Session], message_sid: str, wait: float = 2.0) -> InboundResult:
    """A retried webhook: answer what the first delivery answered, doing nothing again."""
    deadline = time.monotonic() + wait
    while True:
        with factory() as session:
            inbound = session.scalar(select(InboundMessage).where(InboundMessage.message_sid == message_sid))
            assert inbound is not None
            settled = inbound.status != InboundStatus.RECEIVED.value
            if settled or time.monotonic() >= deadline:
                return InboundResult(inbound.id, message_sid, inbound.status, list(inbound.replies), duplicate=True)
        time.sleep(0.05)


def _ignore(inbound: InboundMessage, reason: str, now: datetime) -> None:
    inbound.status = InboundStatus.IGNORED.value
    inbound.error = reason
    inbound.handled_at = now


def _process(
    session: Session, settings: Settings, inbound: InboundMessage, phone: str | None, body: str, now: datetime
) -> None:
    inbound.handled_at = now
    if phone is None:
        # Short codes, alphanumeric sender IDs and garbage are never answered.
        _ignore(inbound, "sender is not a phone number", now)
        return
    own = {n for n in (settings.board_number, normalise(inbound.to_number, settings.default_region)) if n}
    if phone in own:
        _ignore(inbound, "sent from the board's own number", now)
        return

    subscriber = get_or_create_subscriber(session, phone, now)
    inbound.subscriber_id = subscriber.id

    # Route what was sent, not the stored copy: its NUL markers are not part of a notice.
    words = Words.parse(body)
    recent = session.scalar(
        select(func.count()).select_from(InboundMessage).where(
            InboundMessage.from_number == phone, InboundMessage.received_at > now - FLOOD_WINDOW
        )
    ) or 0
    # A STOP is never held: however many texts came before it, it must take effect now.
    if recent > FLOOD_LIMIT and not _asks_to_stop(inbound, words):
        inbound.status = InboundStatus.HELD.value
        inbound.in_inbox = True
        inbound.error = f"flood: more than {FLOOD_LIMIT} texts in {int(FLOOD_WINDOW.total_seconds() // 60)} minutes"
        return

    ctx = handlers.Context(session, settings, inbound, subscriber, words, now)
    if subscriber.opted_out and not handlers.opts_back_in(ctx):
        # An opted-out number gets nothing until it opts back in; its text is kept for organisers.
        inbound.status = InboundStatus.IGNORED.value
        inbound.error = "sender has opted out"
        inbound.in_inbox = bool(words.tokens) and not handlers.asks_to_stop(words.tokens)
        return
    handlers.route(ctx)
    inbound.handler = ctx.handler[:32] or None
    inbound.status = InboundStatus.HANDLED.value
    replies = ctx.replies
    if replies and not ctx.mandatory_reply and _replies_in_last_hour(session, phone, now) >= settings.max_replies_per_hour:
        inbound.error = "reply withheld: loop protection"
        replies = []
    # The output boundary: replies are smart-encoded, measured and recorded like every other text.
    # FORGET has erased the number from the row by now: its reply is recorded without it too.
    inbound.replies = record_replies(session, inbound.from_number, inbound.subscriber_id, replies,
                                     inbound_id=inbound.id, now=now)


def _asks_to_stop(inbound: InboundMessage, words: Words) -> bool:
    return (inbound.params.get("OptOutType") or "").upper() == "STOP" or handlers.asks_to_stop(words.tokens)


def _replies_in_last_hour(session: Session, phone: str, now: datetime) -> int:
    rows = session.scalars(
        select(InboundMessage.replies).where(
            InboundMessage.from_number == phone,
            InboundMessage.received_at > now - LOOP_WINDOW,
            InboundMessage.status == InboundStatus.HANDLED.value,
        )
    )
    return sum(1 for replies in rows if replies)


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
