"""A digest run in a fixed number of SQL statements per chunk, whatever the number of areas or subscribers.

These tests count the statements `sms-board digest` sends to the database (a
`before_cursor_execute` listener) with a small chunk, on a small board and again once it
has grown (more areas, more subscribers, authors among them, the monthly line on how to
stop). Every area's texts of a chunk are written together: on PostgreSQL one statement
(the outbox rows, the moved last-digest times, who was reminded how to stop, a cleared MORE
place), on SQLite the same writes as three. A query per area, per group or per recipient,
or one more per chunk, makes the counts differ and fails here; nothing is timed
(`bench/bench_fanout.py` times).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from sms_board.app import board_of
from sms_board.broadcast.digest_batches import DigestReport
from sms_board.broadcast.digest_runs import digest_now
from sms_board.models import (
    HearsBy,
    Item,
    Outbox,
    OutboxKind,
    Subscriber,
    Subscription,
    TrustedHelper,
    TrustedHelperStatus,
)
from tests.conftest import session_of
from tests.support.statements import NOW, Log, board, counting

CHUNK = 4
STOP_LINE = "Text STOP to stop these texts."


def chunk_statements(app: Flask) -> list[str]:
    if board_of(app).engine.dialect.name == "sqlite":
        return ["WITH INSERT INTO outbox", "WITH UPDATE subscribers", "WITH UPDATE subscriptions"]
    # The rows, and the moves of last-digest times, reminders and MORE places, as data-modifying CTEs.
    return ["WITH SELECT written"]


def digest(app: Flask, now: datetime) -> tuple[Log, DigestReport]:
    factory, settings = board_of(app).sessions, board_of(app).settings
    with counting(app) as log:
        report = digest_now(factory, settings, now, chunk=CHUNK)
    return log, report


def subscription_span(app: Flask) -> int:
    with session_of(app) as session:
        low, high = session.execute(select(func.min(Subscription.id), func.max(Subscription.id))).one()
    return high - low + 1


def post_everywhere(app: Flask, at: datetime) -> None:
    """A new notice in every area, one of them by a subscriber of that area."""
    with session_of(app) as session:
        for area_id, author_id in session.execute(
            select(Subscription.area_id, func.min(Subscription.subscriber_id)).group_by(Subscription.area_id)
        ):
            session.add(Item(kind="notice", area_id=area_id, author_id=author_id, author_name="Sam",
                             body="Street party on Sunday", status="published", created_at=at, published_at=at))
        session.commit()


def check_chunks(app: Flask, log: Log, span: int) -> int:
    """Every chunk is the same statements; returns how many statements the run sent besides its chunks."""
    expected = chunk_statements(app)
    chunks = log.chunks(expected[0])
    assert len(chunks) == math.ceil(span / CHUNK)
    for chunk in chunks[:-1]:
        assert chunk == expected
    assert chunks[-1][:len(expected)] == expected
    return len(log.statements) - len(expected) * len(chunks)


def test_every_chunk_of_a_digest_run_is_the_same_statements_as_the_board_grows(app):
    board(app, 2, 5, authors=1)
    log, report = digest(app, NOW)

    assert report.texts == 2 * 5 and report.runs == 2
    small = check_chunks(app, log, subscription_span(app))

    # The board grows: four more areas, more people in each; everyone has news again.
    board(app, 4, 9, authors=2, first=2)
    post_everywhere(app, NOW + timedelta(hours=1))
    log, report = digest(app, NOW + timedelta(hours=2))

    # In the first two areas the new notice is all there is: its author gets nothing this time.
    assert report.texts == 2 * (5 - 1) + 4 * 9 and report.runs == 6
    bigger = check_chunks(app, log, subscription_span(app))
    # Besides its chunks, a run is the same few statements at any size (planned in two queries; one
    # more finds the residents whose trusted helpers get a copy, docs/helpers.md).
    assert bigger == small <= 15


def test_a_chunk_writes_every_area_and_reminds_each_subscriber_once(app):
    area_ids = board(app, 3, 2)
    with session_of(app) as session:
        # Someone in two areas, in the same chunk: one digest from each, one line on how to stop.
        someone = session.scalar(select(Subscription.subscriber_id).where(Subscription.area_id == area_ids[0]))
        session.add(Subscription(subscriber_id=someone, area_id=area_ids[1], consent_at=NOW - timedelta(days=1),
                                 consent_text="JOIN", consent_channel="import", last_digest_at=NOW - timedelta(days=1)))
        session.commit()
    factory, settings = board_of(app).sessions, board_of(app).settings

    report = digest_now(factory, settings, NOW, chunk=100)

    assert report.texts == 3 * 2 + 1
    assert report.areas == {"area-0": 2, "area-1": 3, "area-2": 2}
    with session_of(app) as session:
        theirs = session.scalars(select(Outbox.body).where(Outbox.subscriber_id == someone)).all()
        assert len(theirs) == 2 and sum(body.endswith("\n" + STOP_LINE) for body in theirs) == 1
        assert session.scalar(select(func.count()).where(Subscriber.stop_reminded_at.is_(None))) == 0
        assert set(session.scalars(select(Subscription.last_digest_at))) == {NOW}


def test_a_digests_chunks_are_planned_for_their_own_ids(app):
    """As a broadcast's: each chunk's statement goes unprepared, so PostgreSQL plans it for the
    chunk's ids and the run's batches, never with a generic plan made blind after five chunks."""
    from sqlalchemy import event

    board(app, 3, 8)
    seen: list[bool] = []

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if " ".join(statement.split()).upper().startswith(("WITH", "INSERT INTO OUTBOX")) and "outbox" in statement:
            seen.append(bool(context.execution_options.get("plan_each_time")))

    event.listen(board_of(app).engine, "before_cursor_execute", before)
    try:
        _, report = digest(app, NOW)
    finally:
        event.remove(board_of(app).engine, "before_cursor_execute", before)

    assert report.texts == 24
    if board_of(app).engine.dialect.name == "sqlite":
        pytest.skip("SQLite has no server-side plans")
    assert len(seen) == math.ceil(subscription_span(app) / CHUNK) and all(seen)


def voice_listeners(app: Flask, area_id: int, count: int, *, voice: bool = True) -> None:
    """`count` more people of the area hear the board by telephone, each with an agreed trusted helper
    (the area's first subscriber), who gets their call's posts as a text. `voice=False`: they read texts in
    English, their helper in Welsh, and he gets a copy of each one's digest."""
    with session_of(app) as session:
        people = session.scalars(select(Subscriber).join(Subscription).where(
            Subscription.area_id == area_id, Subscriber.hears_by != HearsBy.VOICE).order_by(Subscriber.id)).all()
        helper, listeners = people[0], people[1:count + 1]
        assert len(listeners) == count
        helper.language = None if voice else "cy"
        for person in listeners:
            if voice:
                person.hears_by = HearsBy.VOICE
            else:
                person.language = "en"
            session.add(TrustedHelper(resident_id=person.id, helper_id=helper.id, status=TrustedHelperStatus.ACTIVE,
                                      proposed_at=NOW - timedelta(days=2), asked_by="Ruth", resident_channel="cli",
                                      resident_words="asked in person", confirmed_at=NOW - timedelta(days=2)))
        session.commit()


def test_a_digest_runs_calls_and_their_copies_do_not_add_statements_per_voice_listener(db, tmp_path):
    """Each voice listener's call reads its posts from one read for the whole run, and each trusted helper's
    copy of it is one INSERT … ON CONFLICT: three listeners cost what one does, less those rows' INSERTs."""
    from sms_board import create_app
    from tests.conftest import _empty_tables, app_config

    def run(listeners: int, first: int, at: datetime) -> tuple[list[str], int, int]:
        _empty_tables(db)
        app = create_app(app_config(db, tmp_path / f"board-{first}", SMS_BOARD_VOICE="on"))
        [area_id] = board(app, 1, 8, authors=1, first=first)
        voice_listeners(app, area_id, listeners)
        log, report = digest(app, at)
        with session_of(app) as session:
            copies = session.scalar(select(func.count()).where(Outbox.kind == OutboxKind.COPY)) or 0
        kinds = [kind for kind in log.kinds() if kind not in ("INSERT INTO digest_batches", "INSERT INTO outbox")]
        return kinds, report.calls, copies

    one, calls, copies = run(1, 0, NOW)
    assert (calls, copies) == (1, 1)
    many, calls, copies = run(4, 1, NOW + timedelta(days=1))
    assert (calls, copies) == (4, 4)
    assert many == one


def test_a_digest_runs_text_copies_in_the_helpers_language_do_not_add_statements_per_resident(db, tmp_path):
    """Each trusted helper's copy of a resident's text digest is its page in the helper's language (Welsh here,
    hers English), its batches read once for the whole run: three residents cost what one does."""
    from sms_board import create_app
    from tests.conftest import _empty_tables, app_config

    def run(helped: int, first: int, at: datetime) -> tuple[list[str], list[str]]:
        _empty_tables(db)
        app = create_app(app_config(db, tmp_path / f"board-{first}", SMS_BOARD_LANGUAGES="en,cy"))
        [area_id] = board(app, 1, 8, authors=1, first=first)
        voice_listeners(app, area_id, helped, voice=False)
        log, _ = digest(app, at)
        with session_of(app) as session:
            copies = list(session.scalars(select(Outbox.body).where(Outbox.kind == OutboxKind.COPY)))
        return [kind for kind in log.kinds() if kind not in ("INSERT INTO digest_batches", "INSERT INTO outbox")], copies

    one, copies = run(1, 0, NOW)
    assert len(copies) == 1 and copies[0].startswith("Ar ran ")  # in the helper's Welsh
    many, copies = run(4, 1, NOW + timedelta(days=1))
    assert len(copies) == 4 and all(copy.startswith("Ar ran ") for copy in copies)
    assert many == one
