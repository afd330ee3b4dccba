"""Storing a text, idempotently by `MessageSid`, before anything else happens; and forgetting its words later.

A STOP (or Twilio's `OptOutType=STOP`) opts the number out in the transaction that stores it:
from the moment the text is stored, nothing more goes to it. Any other text on PostgreSQL is
stored by one autocommitted `INSERT … ON CONFLICT DO NOTHING`, on the connection the webhook
then routes it on.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, cast, or_, select, update
from sqlalchemy import Text as TextColumn
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from sms_board.handlers.stop import stop_on_arrival
from sms_board.inbound import status
from sms_board.inbound.text import Text
from sms_board.models import InboundMessage
from sms_board.plumbing.config import Settings
from sms_board.plumbing.db import is_sqlite
from sms_board.sending.opt_outs import opt_out_stored, opting_out

MAX_STORED_BODY = 10_000

_INBOUND = InboundMessage.__table__
_STORE = pg_insert(_INBOUND).on_conflict_do_nothing(index_elements=["message_sid"]).returning(_INBOUND.c.id)
_FIND_SID = select(_INBOUND.c.id).where(_INBOUND.c.message_sid == bindparam("sid"))


def new_message_sid() -> str:
    """A fresh sid in Twilio's shape, marked local so it never collides with a real one."""
    return "SMlocal" + uuid.uuid4().hex[:27]


def storable(text: str) -> str:
    # PostgreSQL text cannot hold NUL; keep a visible marker instead of losing the message.
    return text.replace("\x00", "\ufffd")[:MAX_STORED_BODY]


def row_of(params: Mapping[str, str], phone: str | None, now: datetime) -> dict[str, Any]:
    """The row a webhook's parameters are stored as (`phone`: the sender's number, if it is one)."""
    message_sid = storable(params.get("MessageSid") or params.get("SmsMessageSid") or "").strip()[:64]
    return {
        "message_sid": message_sid or new_message_sid(),
        "from_number": storable(phone or params.get("From") or "")[:64],
        "to_number": storable(params.get("To") or "")[:64] or None,
        "body": storable(params.get("Body") or ""),
        "params": {storable(k)[:64]: storable(str(v)) for k, v in params.items()},
        "received_at": now,
        "status": status.INITIAL,
        "replies": [],
        "in_inbox": False,
        "attempts": 1,
        "replies_queued": False,
    }


def find(bind: Engine | Connection, message_sid: str) -> int:
    if isinstance(bind, Connection):
        return bind.execute(_FIND_SID, {"sid": message_sid}).scalar_one()
    with bind.connect() as connection:
        return connection.execute(_FIND_SID, {"sid": message_sid}).scalar_one()


def store_at_once(connection: Connection, fields: dict[str, Any]) -> tuple[int, bool]:
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


def store_in_transaction(
    factory: sessionmaker[Session], fields: dict[str, Any], *, connection: Connection | None = None,
) -> tuple[int, datetime]:
    """Store through the ORM (SQLite); returns the row's id and when it counts as received."""
    with factory(bind=connection) if connection is not None else factory() as session, session.begin():
        inbound = InboundMessage(**fields)
        session.add(inbound)
        session.flush()
        return inbound.id, inbound.received_at


# What `row_of` gives a text, and its sender (the rest of the row is stored empty; no column default is
# applied to an INSERT in a `WITH`, so those with one are named).
_STOP_COLUMNS = ("message_sid", "from_number", "to_number", "body", "params", "received_at", "status", "replies",
                 "in_inbox", "attempts", "replies_queued", "subscriber_id", "urgent")
# A STOP: the text's row, inserted in the `WITH` of the statement that opts its number out (PostgreSQL). Its
# parameters are named apart from the columns (`in_*`).
_STORED = (
    pg_insert(_INBOUND)
    .values({name: bindparam(f"in_{name}", type_=_INBOUND.c[name].type) for name in _STOP_COLUMNS})
    .on_conflict_do_nothing(index_elements=["message_sid"])
    .returning(_INBOUND.c.id)
    .cte("stored")
)
_STORE_STOP = opting_out(_STORED)
_STORE_STOP_SQLITE = sqlite_insert(_INBOUND).on_conflict_do_nothing(index_elements=["message_sid"]).returning(
    _INBOUND.c.id
)


def store_stop(
    factory: sessionmaker[Session], settings: Settings, fields: dict[str, Any], phone: str, text: Text,
    *, connection: Connection | None = None,
) -> int | None:
    """Store a STOP and opt its number out in one transaction (docs/reliability.md: nothing after STOP);
    returns the row's id, or None for a retried `MessageSid` (nothing written). `fields` is given the
    sender and the STOP's arrival (`handlers.stop.stop_on_arrival`).

    PostgreSQL: the statement that locks and reads the sender, then one statement storing the text and
    opting the number out (`opt_outs.opting_out`). SQLite: the text and each write of the opt-out in turn."""
    with factory(bind=connection) if connection is not None else factory() as session, session.begin():
        opting = stop_on_arrival(session, settings, fields, phone, text.words)
        stored = {f"in_{name}": fields.get(name, False) for name in _STOP_COLUMNS}
        bound = session.connection()
        if not is_sqlite(session):
            found = bound.execute(_STORE_STOP if opting is not None else _STORE_PLAIN,
                                  {**(opting or {}), **stored}).first()
            return None if found is None else found[0]
        inbound_id = bound.execute(_STORE_STOP_SQLITE, fields).scalar()
        if inbound_id is not None and opting is not None:
            opt_out_stored(bound, inbound_id, opting)
        return inbound_id


_STORE_PLAIN = select(_STORED.c.id)  # a STOP that opts nobody out (out already, or a helper's `FOR ROSE …`)


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
                or_(InboundMessage.body != "", cast(InboundMessage.params, TextColumn) != "{}"),
            )
            .values(body="", params={}, replies=[])
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0
