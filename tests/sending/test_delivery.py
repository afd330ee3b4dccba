"""The delivery core: one state machine for every text, lanes, and statuses the database enforces."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from sms_board.app import board_of
from sms_board.models import Outbox, OutboxKind, OutboxLane, OutboxStatus, Subscriber
from sms_board.plumbing.utc import utcnow
from sms_board.sending import delivery
from sms_board.sending.delivery import claim
from sms_board.sending.outbox import enqueue
from tests.conftest import session_of

DIGEST_ROWS = 5000


def _crowd(session, count: int) -> list[int]:  # type: ignore[no-untyped-def]
    now = utcnow()
    session.execute(insert(Subscriber), [
        {"phone": f"+4477009{n:05d}", "created_at": now, "is_admin": False, "digest_frequency": "daily"}
        for n in range(count)
    ])
    return list(session.scalars(select(Subscriber.id).order_by(Subscriber.id)))


def _bulk(session, ids: list[int], kind: OutboxKind, lane: OutboxLane) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    session.execute(insert(Outbox), [
        {"to_number": f"+4477009{n:05d}", "subscriber_id": sid, "body": "Elm Street digest", "kind": kind.value,
         "status": "queued", "lane": lane.value, "segments": 1, "encoding": "GSM-7", "attempts": 0,
         "created_at": now}
        for n, sid in enumerate(ids)
    ])


def test_a_relay_queued_behind_5000_digest_texts_goes_first(app):
    board = board_of(app)
    with session_of(app) as session:
        ids = _crowd(session, DIGEST_ROWS + 1)
        _bulk(session, ids[:DIGEST_ROWS], OutboxKind.DIGEST, OutboxLane.BULK)
        session.commit()
        neighbour = session.get(Subscriber, ids[-1])
        relay = enqueue(session, board.settings, neighbour, "R7 Sam: I'll be there at 10", OutboxKind.RELAY)
        session.commit()
        relay_id = relay.id

    with board.sessions.begin() as session:
        first = [claim(session, utcnow())[0].id for _ in range(3)]

    assert first[0] == relay_id
    assert relay_id > max(first[1:])  # queued last, sent first


def test_urgent_broadcasts_go_ahead_of_digests_but_behind_texts_to_one_person(app):
    board = board_of(app)
    with session_of(app) as session:
        ids = _crowd(session, 7)
        _bulk(session, ids[:3], OutboxKind.DIGEST, OutboxLane.BULK)
        _bulk(session, ids[3:6], OutboxKind.BROADCAST, OutboxLane.URGENT)
        session.commit()
        enqueue(session, board.settings, session.get(Subscriber, ids[6]), "Connected on R7", OutboxKind.NOTIFY)
        session.commit()

    with board.sessions.begin() as session:
        kinds = [session.get(Outbox, claim(session, utcnow())[0].id).kind for _ in range(7)]

    assert kinds == ["notify", "broadcast", "broadcast", "broadcast", "digest", "digest", "digest"]


_AREA = ("INSERT INTO areas (slug, name, timezone, private, moderation, created_at) VALUES "
         "('elm', 'Elm', 'Europe/London', false, 'open', CURRENT_TIMESTAMP)")
_ITEM = (_AREA + ";INSERT INTO items (kind, area_id, body, status, created_at)"
         " VALUES ('notice', (SELECT id FROM areas), 'x', 'published', CURRENT_TIMESTAMP)")


@pytest.mark.parametrize(("table", "column"), [
    ("outbox", "status"), ("outbox", "kind"), ("campaigns", "status"), ("items", "status"),
    ("inbound_messages", "status"), ("responses", "status"), ("responses", "kind"), ("matches", "status"),
    ("subscriptions", "status"),
])
def test_the_database_refuses_a_status_the_board_does_not_know(db, table, column):
    row = {
        "outbox": "INSERT INTO outbox (to_number, body, kind, status, lane, segments, encoding, attempts, created_at)"
                  " VALUES ('+447700900001', 'x', 'notify', 'queued', 0, 1, 'GSM-7', 0, CURRENT_TIMESTAMP)",
        "campaigns": "INSERT INTO campaigns (kind, status, area_ids, urgent, channel, created_at)"
                     " VALUES ('broadcast', 'draft', '[]', false, 'sms', CURRENT_TIMESTAMP)",
        "items": _ITEM,
        "inbound_messages": "INSERT INTO inbound_messages (message_sid, from_number, body, params, received_at,"
                            " status, replies, in_inbox) VALUES ('SM1', '+447700900001', 'x', '{}',"
                            " CURRENT_TIMESTAMP, 'received', '[]', false)",
        "responses": _ITEM + ";INSERT INTO responses (item_id, kind, number, status, created_at)"
                             " VALUES ((SELECT id FROM items), 'offer', 1, 'pending', CURRENT_TIMESTAMP)",
        "matches": _ITEM + ";INSERT INTO matches (item_id, status, created_at)"
                           " VALUES ((SELECT id FROM items), 'connected', CURRENT_TIMESTAMP)",
        "subscriptions": _AREA + ";INSERT INTO subscribers (phone, is_admin, digest_frequency, created_at)"
                                 " VALUES ('+447700900001', false, 'daily', CURRENT_TIMESTAMP);"
                                 "INSERT INTO subscriptions (subscriber_id, area_id, status, consent_at, consent_text,"
                                 " consent_channel) VALUES ((SELECT id FROM subscribers), (SELECT id FROM areas),"
                                 " 'active', CURRENT_TIMESTAMP, 'JOIN ELM', 'sms')",
    }[table]
    with db.engine.begin() as connection:
        for statement in row.split(";"):
            connection.execute(text(statement))
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(text(f"UPDATE {table} SET {column} = 'whatever'"))


def test_a_transition_moves_only_rows_in_the_states_it_names(app):
    board = board_of(app)
    with session_of(app) as session:
        ids = _crowd(session, 2)
        _bulk(session, ids, OutboxKind.DIGEST, OutboxLane.BULK)
        session.commit()
    now = utcnow()
    with board.sessions.begin() as session:
        [claimed] = claim(session, now)
        # A cancellation (STOP) never touches a row already handed to a sender…
        assert delivery.transition(session, Outbox.id == claimed.id, OutboxStatus.CANCELLED,
                                   allowed_from=delivery.WAITING, now=now) == 0
        # …and every move stamps when it happened.
        moved = delivery.cancel_for_unreachable(session, now) + delivery.transition(
            session, Outbox.id != claimed.id, OutboxStatus.CANCELLED, allowed_from=delivery.WAITING, now=now)
        assert moved == 1
    with session_of(app) as session:
        rows = {row.id: row for row in session.scalars(select(Outbox))}
    assert rows[claimed.id].status == "sending"
    assert all(row.status_updated_at is not None for row in rows.values())


def test_texts_about_a_withdrawn_offer_are_cancelled_only_while_they_wait(app, areas, phone):
    """`cancel_about` names whose texts it cancelled; one being sent, or a digest, is never touched."""
    board = board_of(app)
    priya, sam = phone("+447700900456"), phone("+447700900123")
    for person in (priya, sam):
        person.text("JOIN ELM")
    priya.text("NEED a ladder")
    sam.text("CAN R1")
    now = utcnow()
    with board.sessions.begin() as session:
        response_id, priya_id = session.execute(
            select(Outbox.response_id, Outbox.subscriber_id).where(Outbox.response_id.is_not(None))).one()
        _bulk(session, [priya_id], OutboxKind.DIGEST, OutboxLane.BULK)
        [claimed] = claim(session, now)  # the offer's notice: first lane, so it is on the wire now
        about = delivery.about(response_id=response_id)
        assert delivery.cancel_about(session, about, "the offer was withdrawn", now) == set()
        assert delivery.told_about(session, about) == {priya_id}
        delivery.transition(session, Outbox.id == claimed.id, OutboxStatus.QUEUED, allowed_from=delivery.IN_FLIGHT,
                            now=now)
        assert delivery.cancel_about(session, about, "the offer was withdrawn", now) == {priya_id}
        assert delivery.told_about(session, about) == set()
    with session_of(app) as session:
        statuses = dict(session.execute(select(Outbox.kind, Outbox.status).where(Outbox.subscriber_id == priya_id,
                                                                                  Outbox.kind != "reply")).all())
    assert statuses == {"notify": "cancelled", "digest": "queued"}


def test_a_batch_claimed_and_never_handed_over_goes_back_to_the_queue_and_only_it(app):
    # A sender told to stop (a deploy) with rows claimed for threads that had not taken them yet.
    with session_of(app) as session:
        _bulk(session, _crowd(session, 5), OutboxKind.BROADCAST, OutboxLane.BULK)
        session.commit()
    board = board_of(app)
    with board.sessions.begin() as session:
        batch = claim(session, utcnow(), limit=4)
    with board.sessions.begin() as session:
        handed = delivery.hand_over_many(session, [(batch[0].id, "SM" + "a" * 32)], utcnow())
        released = delivery.release_unsent(session, [row.id for row in batch], utcnow())

    assert len(batch) == 4 and handed == {batch[0].id: "sent"} and released == 3
    with session_of(app) as session:
        rows = {row.id: (row.status, row.attempts) for row in session.scalars(select(Outbox))}
    assert rows[batch[0].id] == ("sent", 1)  # handed over: never back in the queue
    assert sorted(rows.values()) == [("queued", 0)] * 4 + [("sent", 1)]  # the others as if never claimed
