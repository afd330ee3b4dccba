"""The guards a text passes before and after the router: loops, floods and repeats.

- The board's own number is never answered, nor a text sooner than a person could answer
  one the board sent; the same text answered alike again and again, or more automatic
  replies an hour than SMS_BOARD_MAX_REPLIES_PER_HOUR, is a machine answering the board:
  the reply is withheld (`loop_suspected`).
- A flood (more than FLOOD_LIMIT texts in FLOOD_WINDOW) is held for the organisers, who
  are told once per flood (`flood`).
- The very same text more than IDENTICAL_LIMIT times in IDENTICAL_WINDOW gets one answer,
  then silence, and is not routed at all: a sixth identical POST posts nothing (`repeated`).

A STOP passes every guard: however many texts came before it, it must take effect now.
What the sender did lately is read once, with the sender, in one statement (`sender`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, bindparam, exists, func, select, true
from sqlalchemy.orm import Session, aliased

from sms_board.community.alerts import alert_flood
from sms_board.community.languages import texts_for
from sms_board.community.subscriptions import (
    SENDER_OR_ADDED,
    add_subscriber,
    sender_or_added_values,
)
from sms_board.handlers.stop import arrival_facts
from sms_board.inbound.status import taking
from sms_board.inbound.text import Text
from sms_board.models import (
    Confirmation,
    InboundMessage,
    InboundStatus,
    Outbox,
    OutboxKind,
    Subscriber,
)
from sms_board.plumbing.config import Settings
from sms_board.sending.outbox import prepare, record_replies
from sms_board.text.phone import normalise
from sms_board.text.words import fold

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
IDENTICAL_WINDOW = timedelta(minutes=5)
# The same text more than this many times in IDENTICAL_WINDOW gets one answer, then none.
IDENTICAL_LIMIT = 5
# Texts that are the same by design: MORE pages through a long digest, and each answer differs.
REPEATABLE = frozenset({"MORE"})

_INBOUND = InboundMessage.__table__
_CONFIRMATIONS = Confirmation.__table__
_OUTBOX = Outbox.__table__
_LOOKBACK = max(FLOOD_WINDOW, IDENTICAL_WINDOW, REPEAT_WINDOW)


def from_the_board(settings: Settings, phone: str, to_number: str | None) -> bool:
    """A text from the board's own number (or the one it was sent to): answering it would talk to ourselves."""
    own = {n for n in (settings.board_number, normalise(to_number, settings.default_region)) if n}
    return phone in own


def _sent_to_sender(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    # This number's texts of the last hour (`ix_outbox_to_number_sent`).
    return select(func.count()).where(_OUTBOX.c.to_number == bindparam("number"), *conditions).scalar_subquery()


_RECENT = select(
    func.count().filter(_INBOUND.c.received_at > bindparam("flood_since")).label("recent"),
    func.count().filter(_INBOUND.c.id != bindparam("row"), _INBOUND.c.body == bindparam("same_body"),
                        _INBOUND.c.received_at > bindparam("identical_since")).label("identical"),
    func.count().filter(_INBOUND.c.id != bindparam("row"), _INBOUND.c.body == bindparam("same_body"),
                        _INBOUND.c.received_at > bindparam("repeat_since")).label("repeats"),
).where(_INBOUND.c.from_number == bindparam("number"), _INBOUND.c.received_at > bindparam("since")).subquery()
# Built once: every text reads its sender (if the number is one) and all its bookkeeping in this
# one statement, which always returns a row (the counts stand alone: a new number has none).
def _activity(sender: type[Subscriber]) -> tuple[Any, ...]:
    return (
        sender,
        _RECENT.c.recent,
        _RECENT.c.identical,
        exists().where(_CONFIRMATIONS.c.subscriber_id == sender.id, _CONFIRMATIONS.c.resolved_at.is_(None)),
        _RECENT.c.repeats,
        _sent_to_sender(_OUTBOX.c.kind != OutboxKind.REPLY, _OUTBOX.c.sent_at > bindparam("quick_since"),
                        _OUTBOX.c.sent_at <= bindparam("arrived")),
        _sent_to_sender(_OUTBOX.c.kind == OutboxKind.REPLY, _OUTBOX.c.sent_at > bindparam("hour_ago")),
    )


_SENDER = select(*_activity(Subscriber)).select_from(_RECENT).outerjoin(
    Subscriber, Subscriber.phone == bindparam("number")
)
# The webhook's text, just stored, is taken for routing (`routing._take`: the row lock, while it is
# still `received`) by the same statement: no row, when another delivery of it has it.
_TAKEN = taking(_INBOUND.c.id).cte("taken")
# A new number is added by it too (`subscriptions.SENDER_OR_ADDED`).
_SENDING = aliased(Subscriber, SENDER_OR_ADDED)
_TAKING_SENDER = select(*_activity(_SENDING)).select_from(_TAKEN).join(_RECENT, true()).outerjoin(_SENDING, true())
# A STOP's sender is read with what routing it needs (`handlers.stop.arrival_facts`): whether it opted the
# number out as it was stored, and whether it has ties to end.
_SENDER_STOPPING = _SENDER.add_columns(*arrival_facts(Subscriber.id))
_TAKING_SENDER_STOPPING = _TAKING_SENDER.add_columns(*arrival_facts(_SENDING.id))
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
    # A STOP's (None for any other text): whether it opted the number out as it was stored, and whether the
    # number has connections, offers or helpers for it to end (`handlers.stop.arrival_facts`).
    stopped_on_arrival: bool | None = None
    ties_to_end: bool | None = None


def sender(
    session: Session, inbound: InboundMessage, now: datetime, *, take: bool = False, stops: bool = False,
) -> tuple[Subscriber, Activity] | None:
    """The sender (added, for a new number) and what they did lately, in one statement (and one more to add
    a new number). `take`: the text is taken for routing by that same statement (PostgreSQL); None, when
    another delivery of it has it. `stops`: the text is a STOP, and what routing it needs is read too."""
    arrived = inbound.received_at
    values = {
        "flood_since": now - FLOOD_WINDOW, "row": inbound.id, "same_body": inbound.body,
        "identical_since": now - IDENTICAL_WINDOW, "number": inbound.from_number, "since": now - _LOOKBACK,
        "repeat_since": now - REPEAT_WINDOW, "quick_since": arrived - MACHINE_SPEED, "arrived": arrived,
        "hour_ago": min(now, arrived) - LOOP_WINDOW,
    }
    if take:
        values.update(sender_or_added_values(inbound.from_number, now))
    statement = (_TAKING_SENDER_STOPPING if stops else _TAKING_SENDER) if take else \
        (_SENDER_STOPPING if stops else _SENDER)
    found = session.execute(statement, values).one_or_none()
    if found is None:
        return None
    subscriber, recent, identical, waiting, repeats, answered_at_once, replies, *stop_facts = found
    if subscriber is None:
        subscriber = add_subscriber(session, inbound.from_number, now)
        if subscriber is None:  # a text racing this one added the number first
            subscriber = session.execute(_SENDER, values).one()[0]
    if fold(inbound.body) in REPEATABLE:
        identical = 0
    activity = Activity(recent or 0, identical or 0, bool(waiting), repeats or 0, answered_at_once or 0, replies or 0,
                        *(bool(fact) for fact in stop_facts))
    return subscriber, activity


def flood(session: Session, settings: Settings, inbound: InboundMessage, flooder: Subscriber, activity: Activity,
          text: Text, now: datetime) -> bool:
    """Whether this text is part of a flood (and so held, not routed); the organisers hear of a flood's first."""
    if activity.recent <= FLOOD_LIMIT or text.stops:
        return False
    minutes = int(FLOOD_WINDOW.total_seconds() // 60)
    inbound.in_inbox = True
    inbound.error = f"flood: more than {FLOOD_LIMIT} texts in {minutes} minutes"
    held_before = session.scalar(
        select(InboundMessage.id).where(
            InboundMessage.from_number == flooder.phone, InboundMessage.id != inbound.id,
            InboundMessage.status == InboundStatus.HELD, InboundMessage.received_at > now - FLOOD_WINDOW,
        ).limit(1)
    )
    if held_before is None:
        alert_flood(session, settings, flooder, activity.recent, now, minutes)
    return True


def repeated(session: Session, settings: Settings, inbound: InboundMessage, sender: Subscriber, activity: Activity,
             text: Text, now: datetime, *, by_rest: bool) -> bool:
    """Whether this text is one repeat too many (and so not routed); the first such is answered once."""
    earlier = activity.identical
    if earlier < IDENTICAL_LIMIT or text.stops:
        return False
    inbound.error = f"the same text {earlier + 1} times in {int(IDENTICAL_WINDOW.total_seconds() // 60)} minutes"
    if earlier == IDENTICAL_LIMIT and not sender.opted_out:
        inbound.in_inbox = True
        inbound.replies_queued = by_rest
        noted = texts_for(settings, sender, "repeat_noted", count=earlier + 1)
        inbound.replies = record_replies(session, sender.phone, sender.id, noted, inbound_id=inbound.id, now=now,
                                         by_rest=by_rest)
    return True


def loop_suspected(
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
