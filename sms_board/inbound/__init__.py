"""The inbound pipeline shared by the webhook, `sms-board simulate` and the simulator page.

1. The text is read once (`text`: its words, and whether it is a STOP) and stored,
   idempotently by `MessageSid`, and committed: nothing is lost (`storing`). A STOP opts
   the number out in that same transaction.
2. It is routed exactly once, in its own transaction, under a lease the clock takes over
   from a process that died (`routing`), past the guards against loops, floods and
   repeats (`guards`), through the one keyword router (`sms_board.handlers`).
3. It settles as handled, ignored, held or error through `status.transition()`, the one
   writer of an inbound text's status.
4. Its words are forgotten after SMS_BOARD_RETENTION_DAYS (`storing.forget_old_bodies`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from sms_board.inbound import routing, storing
from sms_board.inbound.guards import FLOOD_LIMIT, from_the_board
from sms_board.inbound.routing import LEASE, InboundResult, take_over_stranded
from sms_board.inbound.storing import MAX_STORED_BODY, forget_old_bodies, new_message_sid
from sms_board.inbound.text import Text
from sms_board.plumbing.config import Settings
from sms_board.plumbing.db import is_sqlite
from sms_board.plumbing.utc import utcnow
from sms_board.text.phone import mask, normalise

log = logging.getLogger(__name__)

__all__ = [
    "FLOOD_LIMIT", "LEASE", "MAX_STORED_BODY", "InboundResult", "forget_old_bodies", "new_message_sid", "receive",
    "take_over_stranded",
]


def receive(
    factory: sessionmaker[Session], settings: Settings, params: Mapping[str, str], now: datetime | None = None
) -> InboundResult:
    """Store, route and answer one inbound text; returns the direct replies to its sender."""
    now = now or utcnow()
    phone = normalise(params.get("From") or "", settings.default_region)
    fields = storing.row_of(params, phone, now)
    # Read once, from what was sent (not the stored copy with its NUL markers): storing, the
    # guards and the router all go by this reading.
    text = Text.read(fields["params"], (params.get("Body") or "")[:MAX_STORED_BODY], settings.languages)
    stops = text.stops and phone is not None and not from_the_board(settings, phone, fields["to_number"])
    engine = factory.kw["bind"]
    if is_sqlite(engine):
        if stops:
            return _stop_stored(factory, settings, fields, phone, text)  # type: ignore[arg-type]
        return _stored_in_transaction(factory, settings, fields, phone, text)
    # One connection for the whole webhook: the text is stored with one autocommitted
    # statement (a STOP: in a transaction, which opts the number out), then routed in a
    # transaction on the same connection.
    with engine.connect() as connection:
        if stops:
            return _stop_stored(factory, settings, fields, phone, text, connection=connection)  # type: ignore[arg-type]
        inbound_id, fresh = storing.store_at_once(connection, fields)
        if not fresh:
            return _again(routing.route_once(factory, settings, inbound_id, utcnow(), connection=connection))
        _stored(inbound_id, phone)
        return _routed(routing.route_once(factory, settings, inbound_id, now, text=text, connection=connection,
                                          stored=fields))


def _stored_in_transaction(
    factory: sessionmaker[Session], settings: Settings, fields: dict[str, object], phone: str | None, text: Text,
) -> InboundResult:
    try:
        inbound_id, now = storing.store_in_transaction(factory, fields)
    except IntegrityError:
        inbound_id = storing.find(factory.kw["bind"], str(fields["message_sid"]))
        return _again(routing.route_once(factory, settings, inbound_id, utcnow()))
    _stored(inbound_id, phone)
    return _routed(routing.route_once(factory, settings, inbound_id, now, text=text))


def _stop_stored(
    factory: sessionmaker[Session], settings: Settings, fields: dict[str, object], phone: str, text: Text, *,
    connection: Connection | None = None,
) -> InboundResult:
    """A STOP: stored and taking effect in one transaction, then routed (on the webhook's connection, on
    PostgreSQL, with its sender read and the text taken in one statement: `stored`)."""
    inbound_id = storing.store_stop(factory, settings, fields, phone, text, connection=connection)
    if inbound_id is None:
        inbound_id = storing.find(connection or factory.kw["bind"], str(fields["message_sid"]))
        return _again(routing.route_once(factory, settings, inbound_id, utcnow(), connection=connection))
    _stored(inbound_id, phone)
    return _routed(routing.route_once(factory, settings, inbound_id, fields["received_at"], text=text,  # type: ignore[arg-type]
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
