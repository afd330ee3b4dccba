"""Where a number stops being texted: STOP, FORGET's erasure, or the carrier saying so.

An opted-out number (STOP, Twilio's 21610) or one that cannot take texts (21211, 21614)
is stamped on its `Subscriber` row and its waiting texts are cancelled
(`sending.delivery.cancel_waiting`); from then on `sending.reachability` keeps it out of
every fan-out and every claim.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Connection,
    Select,
    Update,
    bindparam,
    exists,
    insert,
    null,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from sms_board.models import ConsentAction, ConsentEvent, Outbox, Subscriber
from sms_board.sending.delivery import cancel_waiting, cancelling
from sms_board.sending.subscription_status import stop_all, stopping
from sms_board.sending.transport import opted_out_code, undeliverable_code
from sms_board.text.phone import mask

log = logging.getLogger(__name__)

# What else ends when the carrier opts a number out, told by whoever records it (the layers above
# `sending`): a trusted helper's helping and being helped, as a STOP ends them (`trusted_helpers.on_opt_out`).
OptOutHook = Callable[[Session, Subscriber, datetime], object]


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
    cancel_waiting(session, subscriber.id, OPTED_OUT, now)
    session.add(
        ConsentEvent(
            subscriber_id=subscriber.id, area_id=None, action=ConsentAction.OPT_OUT, channel=channel,
            words=words, wording=wording, inbound_id=inbound_id, created_at=now,
        )
    )
    return True


# ── a STOP as it is stored: the same opt-out, as Core statements built once ──

OPTED_OUT = "recipient opted out"  # why a waiting text was cancelled
_SUBSCRIBERS = Subscriber.__table__
_CONSENTS = ConsentEvent.__table__
_CONSENT_COLUMNS = ("subscriber_id", "area_id", "action", "channel", "words", "wording", "inbound_id", "created_at")


def _marking(*conditions: ColumnElement[bool]) -> Update:
    # The number is stamped opted out only if it was not already: what moved is the opt-out's every other write.
    return (
        update(_SUBSCRIBERS)
        .where(_SUBSCRIBERS.c.id == bindparam("out_subscriber"), _SUBSCRIBERS.c.opted_out_at.is_(None), *conditions)
        .values(opted_out_at=bindparam("out_at", type_=_SUBSCRIBERS.c.opted_out_at.type))
        .returning(_SUBSCRIBERS.c.id)
    )


def _recorded(subscriber: ColumnElement[int], inbound: ColumnElement[int]) -> Select[Any]:
    """The consent history's OPT_OUT row, as `opt_out` adds it."""
    return select(subscriber, null(), bindparam("out_action", ConsentAction.OPT_OUT, type_=_CONSENTS.c.action.type),
                  bindparam("out_channel", type_=_CONSENTS.c.channel.type),
                  bindparam("out_words", type_=_CONSENTS.c.words.type),
                  bindparam("out_wording", type_=_CONSENTS.c.wording.type), inbound,
                  bindparam("out_at", type_=_CONSENTS.c.created_at.type))


def opting_out(stored: CTE) -> Select[tuple[int, bool]]:
    """A STOP stored and taking effect, PostgreSQL: one statement of data-modifying `WITH`s, built once by the
    caller around `stored` (the text's `INSERT … RETURNING id`, which finds nothing for a retried `MessageSid`).

    As `opt_out`: the number is stamped (unless it was already), every active subscription ends
    (`subscription_status.stopping`), every waiting text to it is cancelled (`delivery.cancelling`) and the
    consent history gets its OPT_OUT, naming the text. Returns the text's id and whether it opted the number
    out; no row for a retried `MessageSid` (nothing written). Values: `opt_out_values`."""
    out = _marking(exists(select(stored.c.id))).cte("opted_out")
    ids = select(out.c.id)
    consented = (
        insert(_CONSENTS).from_select(_CONSENT_COLUMNS, _recorded(out.c.id, stored.c.id).select_from(out).join(stored, true()))
        .returning(_CONSENTS.c.id).cte("consented")
    )
    return select(stored.c.id, exists(select(consented.c.id)).label("opted_out")).add_cte(
        stopping(ids).cte("stopped"), cancelling(Outbox.subscriber_id.in_(ids)).cte("cancelled"),
    )


# SQLite, which has no data-modifying `WITH`: the same writes, a statement each.
_MARK = _marking()
_STOP = stopping(select(bindparam("out_subscriber")))
_CANCEL = cancelling(Outbox.subscriber_id == bindparam("out_subscriber"))
_RECORD = insert(_CONSENTS).from_select(_CONSENT_COLUMNS, _recorded(bindparam("out_subscriber"),
                                                                     bindparam("out_inbound")))


def opt_out_values(subscriber_id: int, *, words: str, channel: str, now: datetime,
                   wording: str | None) -> dict[str, Any]:
    """The values `opting_out` (and `opt_out_stored`) take."""
    return {"out_subscriber": subscriber_id, "out_at": now, "stop_at": now, "cancel_at": now,
            "cancel_reason": OPTED_OUT, "out_channel": channel, "out_words": words, "out_wording": wording}


def opt_out_stored(connection: Connection, inbound_id: int, values: dict[str, Any]) -> bool:
    """`opting_out` on SQLite, for a text just stored: four statements (one writer at a time, so the
    number cannot change between them); False, and nothing more written, if it was out already."""
    if connection.execute(_MARK, values).first() is None:
        return False
    connection.execute(_STOP, values)
    connection.execute(_CANCEL, values)
    connection.execute(_RECORD, {**values, "out_inbound": inbound_id})
    return True


def stopped_by(person: ColumnElement[int]) -> ColumnElement[bool]:
    """Whether the text `:row` opted `person` out as it was stored (its OPT_OUT names it)."""
    return exists().where(_CONSENTS.c.subscriber_id == person, _CONSENTS.c.action == ConsentAction.OPT_OUT,
                          _CONSENTS.c.inbound_id == bindparam("row"))


def mark_recipient(session: Session, subscriber_id: int | None, error_code: str | None, now: datetime, *,
                   on_opt_out: OptOutHook | None = None) -> int:
    """Twilio says the number opted out (21610) or cannot take texts (21211, 21614).

    Marks the subscriber and cancels their other waiting texts; returns how many. `on_opt_out`: called
    once, when the number is first opted out here.
    """
    subscriber = session.get(Subscriber, subscriber_id) if subscriber_id else None
    if subscriber is None:
        return 0
    if opted_out_code(error_code) and subscriber.opted_out_at is None:
        cancelled = cancel_waiting(session, subscriber.id, f"recipient opted out (Twilio {error_code})", now)
        opt_out(session, subscriber, words=f"Twilio error {error_code}", channel="carrier", now=now)
        if on_opt_out is not None:
            on_opt_out(session, subscriber, now)
        log.warning("%s opted out at the carrier (Twilio %s)", mask(subscriber.phone), error_code)
        return cancelled
    if undeliverable_code(error_code) and subscriber.undeliverable_at is None:
        subscriber.undeliverable_at = now
        log.warning("%s cannot receive texts (Twilio %s)", mask(subscriber.phone), error_code)
        return cancel_waiting(session, subscriber.id, f"number cannot receive texts (Twilio {error_code})", now)
    return 0
