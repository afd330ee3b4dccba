"""Who may be texted: a number that opted out or cannot take texts gets nothing more.

These are the conditions every writer and the sender share: fan-out reads only reachable
subscribers (`reachable`), the claim statement refuses rows of numbers that may no longer
be texted (`unreachable_recipient`, in `sending.delivery`), and the sender checks once
more at the last moment, holding that check for the length of the send
(`recipient_on_the_wire`) while a STOP waits for it (`lock_recipient`). Where a number
stops being texted (STOP, FORGET, Twilio's 21610, 21211, 21614) is `sending.opt_outs`.

A landline never gets a text (`takes_texts`): `outbox.enqueue` writes no row for one, a
direct reply to one is recorded as cancelled, and the sender cancels any text to one that
reached the queue another way (a digest or broadcast fan-out) before it is handed to Twilio.
Calls (`OutboxKind.CALL`) are what a landline gets instead (docs/voice.md).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Select,
    bindparam,
    exists,
    or_,
    select,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from sms_board.models import Outbox, Subscriber
from sms_board.plumbing.db import is_sqlite, on_a_live_connection
from sms_board.text.phone import is_landline

log = logging.getLogger(__name__)


def reachable() -> list[ColumnElement[bool]]:
    """Conditions on `Subscriber` for a number the board may text."""
    return [Subscriber.opted_out_at.is_(None), Subscriber.undeliverable_at.is_(None)]


# Why a text to a landline was cancelled (`Outbox.error_message`).
LANDLINE = "a landline cannot receive texts"


def takes_texts(number: str) -> bool:
    """Whether a text may go to this number at all: never to a landline (`text.phone.is_landline`)."""
    return not is_landline(number)


def unreachable_recipient() -> ColumnElement[bool]:
    """True for an outbox row whose recipient may no longer be texted."""
    return exists().where(
        Subscriber.id == Outbox.subscriber_id,
        or_(Subscriber.opted_out_at.is_not(None), Subscriber.undeliverable_at.is_not(None)),
    )


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
    at once, and a STOP in that instant can still meet the text it crossed. The check runs on
    a plain connection (no ORM session: it is one statement per text), again on a new one if
    the pool's turns out dead.
    """
    if subscriber_id is None:
        yield True
        return
    engine: Engine = factory.kw["bind"]
    sqlite = is_sqlite(engine)

    def check() -> tuple[Connection, Row[Any] | None]:
        connection = engine.connect()
        try:
            return connection, connection.execute(_recipient_check(sqlite), {"subscriber_id": subscriber_id}).one_or_none()
        except BaseException:
            connection.close()
            raise

    connection, found = on_a_live_connection(check)
    try:
        if sqlite:
            connection.commit()
        yield found is None or all(found)
    finally:
        try:
            connection.commit()
        except OperationalError:
            # The connection died during the send: its lock went with it, and the send's
            # outcome must still be recorded (on another connection).
            log.warning("the recipient check's database connection dropped during a send")
        finally:
            connection.close()
