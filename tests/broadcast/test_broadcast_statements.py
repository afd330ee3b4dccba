"""A broadcast's fan-out in a fixed number of SQL statements per chunk, whatever the size of the board.

These tests count the statements a broadcast sends to the database (a
`before_cursor_execute` listener) on a small board and on a bigger one, with a small chunk
so that there are several. A query per recipient, per area, or one more per chunk makes
the counts differ and fails here; nothing is timed (`bench/bench_fanout.py` times).
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import event, select, text, update

from sms_board import create_app
from sms_board.app import board_of
from sms_board.broadcast.broadcasts import create_broadcast, fan_out_broadcast, preview_broadcast
from sms_board.models import Area, Subscriber, TrustedHelper
from sms_board.plumbing.db import PLAN_EACH_TIME
from tests.conftest import app_config, session_of
from tests.support.statements import NOW, Log, board, counting, kind_of

CHUNK = 4
# A broadcast's chunk: its boundary and the rows.
BROADCAST_CHUNK = ["SELECT subscribers LIMIT", "INSERT INTO outbox"]


def broadcast(app: Flask, message: str | dict[str, str] = "Bin collection moved to Friday") -> tuple[Log, int]:
    factory, settings = board_of(app).sessions, board_of(app).settings
    with factory.begin() as session:
        areas = list(session.scalars(select(Area)))
        preview = preview_broadcast(session, settings, areas, message, urgent=False)
        campaign_id = create_broadcast(session, preview, urgent=False, now=NOW, confirmed=True).id
    with counting(app) as log:
        report = fan_out_broadcast(factory, settings, campaign_id, NOW, chunk=CHUNK)
    return log, report.texts


@pytest.mark.parametrize(("areas", "per_area"), [(2, 5), (6, 9)])
def test_every_chunk_of_a_broadcast_is_two_statements(app, areas, per_area):
    board(app, areas, per_area)
    log, texts = broadcast(app)

    assert texts == areas * per_area
    chunks = log.chunks(BROADCAST_CHUNK[0])
    assert len(chunks) == areas * per_area // CHUNK + 1
    for chunk in chunks[:-1]:
        assert chunk == BROADCAST_CHUNK
    # Besides its chunks, a broadcast's fan-out is a few statements, whatever its size: one of them, since
    # trusted helpers, finds the residents' helpers to copy it to (`helper_copies`, one more when any).
    assert len(log.statements) - 2 * len(chunks) <= 8


@pytest.mark.parametrize(("areas", "per_area"), [(2, 6), (6, 9)])
def test_a_version_per_language_costs_no_statement_more_a_chunk(db, tmp_path, areas, per_area):
    """Each subscriber joins the versions they get in the chunk's one INSERT: the version of their
    language, or (not known) both, whatever the number of languages, areas or people."""
    app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en"))
    board(app, areas, per_area)
    with session_of(app) as session:  # a third read Welsh, a third English, a third are not known
        ids = session.scalars(select(Subscriber.id).order_by(Subscriber.id)).all()
        session.execute(update(Subscriber).where(Subscriber.id.in_(ids[0::3])).values(language="cy"))
        session.execute(update(Subscriber).where(Subscriber.id.in_(ids[1::3])).values(language="en"))
        session.commit()
    log, texts = broadcast(app, {"cy": "Casglu biniau ddydd Gwener", "en": "Bins on Friday"})

    people = areas * per_area
    assert texts == people + len(ids[2::3])  # the not known get both
    chunks = log.chunks(BROADCAST_CHUNK[0])
    assert len(chunks) == people // CHUNK + 1
    for chunk in chunks[:-1]:
        assert chunk == BROADCAST_CHUNK
    assert len(log.statements) - 2 * len(chunks) <= 8


@pytest.mark.parametrize(("areas", "per_area"), [(2, 5), (6, 9)])
def test_trusted_helpers_copies_of_a_broadcast_are_two_statements_whatever_their_number(app, areas, per_area):
    """Every third resident has an agreed helper living elsewhere: the copies are one read and one write."""
    board(app, areas, per_area)
    with session_of(app) as session:
        helped = session.scalars(select(Subscriber.id).order_by(Subscriber.id)).all()[0::3]
        for n, resident_id in enumerate(helped):
            helper = Subscriber(phone=f"+447700950{n:03d}", name=f"H{n}", created_at=NOW)
            session.add(helper)
            session.flush()
            session.add(TrustedHelper(resident_id=resident_id, helper_id=helper.id, status="active", proposed_at=NOW,
                                      asked_by="test", resident_channel="sms", resident_words="HELPER",
                                      confirmed_at=NOW))
        session.commit()
    log, texts = broadcast(app)

    assert texts == areas * per_area + len(helped)
    chunks = log.chunks(BROADCAST_CHUNK[0])
    assert len(chunks) == areas * per_area // CHUNK + 1
    kinds = [kind_of(statement) for statement in log.statements]
    assert kinds[-2:] == ["SELECT outbox", "INSERT INTO outbox"], kinds  # the pairs, then every copy at once
    assert len(log.statements) - 2 * len(chunks) == 7, kinds  # the same on both boards


def test_a_broadcasts_chunks_are_planned_for_their_own_ids(app):
    """Each chunk's boundary and write go unprepared, so PostgreSQL plans each for its own ids and
    areas: a generic plan, made blind after a few chunks, read every target area's subscriptions
    through `ix_subscriptions_area_id` in every chunk."""
    board(app, 3, 8)
    engine = board_of(app).engine
    seen: list[tuple[str, bool]] = []

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append((kind_of(statement), bool(context.execution_options.get("plan_each_time"))))

    event.listen(engine, "before_cursor_execute", before)
    try:
        _, texts = broadcast(app)
    finally:
        event.remove(engine, "before_cursor_execute", before)

    assert texts == 24
    chunk_statements = [planned for kind, planned in seen if kind in BROADCAST_CHUNK]
    assert len(chunk_statements) == 2 * (24 // CHUNK + 1)
    assert all(chunk_statements)


@pytest.mark.postgres_only(reason="SQLite has no server-side plans")
def test_statements_asked_to_be_planned_each_time_are_never_prepared(db):
    """psycopg prepares a statement a connection has run five times; `PLAN_EACH_TIME` opts out."""
    query = text("SELECT count(*) FROM areas WHERE id = ANY(:ids)")
    prepared = text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM areas WHERE id = ANY%'")
    with db.engine.connect() as connection:
        for _ in range(8):
            connection.execute(query, {"ids": [1, 2]}, execution_options=PLAN_EACH_TIME)
        assert connection.scalar(prepared) == 0
        for _ in range(8):
            connection.execute(query, {"ids": [1, 2]})
        assert connection.scalar(prepared) == 1
