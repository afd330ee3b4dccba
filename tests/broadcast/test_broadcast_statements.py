"""A broadcast's fan-out in a fixed number of SQL statements per chunk, whatever the size of the board.

These tests count the statements a broadcast sends to the database (a
`before_cursor_execute` listener) on a small board and on a bigger one, with a small chunk
so that there are several. A query per recipient, per area, or one more per chunk makes
the counts differ and fails here; nothing is timed (`bench/bench_fanout.py` times).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import event, select

from sms_board.app import board_of
from sms_board.broadcast.broadcasts import create_broadcast, fan_out_broadcast, preview_broadcast
from sms_board.models import Area, Item, Subscriber, Subscription
from tests.conftest import session_of

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
CHUNK = 4
# A broadcast's chunk: its boundary and the rows.
BROADCAST_CHUNK = ["SELECT subscribers LIMIT", "INSERT INTO outbox"]


@dataclass
class Log:
    statements: list[str] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return [_kind(statement) for statement in self.statements]

    def chunks(self, marker: str) -> list[list[str]]:
        """The statements from each chunk's first statement (`marker`) to the next."""
        kinds = self.kinds()
        starts = [i for i, kind in enumerate(kinds) if kind == marker]
        return [kinds[a:b] for a, b in zip(starts, [*starts[1:], len(kinds)], strict=True)]


def _kind(statement: str) -> str:
    words = re.sub(r"\s+", " ", statement).strip().split(" ")
    verb = words[0].upper()
    if verb == "INSERT":
        return f"INSERT INTO {words[2]}"
    if verb == "UPDATE":
        return f"UPDATE {words[1]}"
    if verb == "SELECT":
        # The table of the outermost FROM, and whether it reads a fixed number of rows (a boundary).
        depth, table = 0, "?"
        for before, word in itertools.pairwise(words):
            depth += before.count("(") - before.count(")")
            if depth == 0 and before.upper() == "FROM":
                table = word
                break
        return f"SELECT {table}" + (" LIMIT" if re.search(r"\bLIMIT\b", statement, re.I) else "")
    return verb


@contextmanager
def counting(app: Flask) -> Iterator[Log]:
    engine = board_of(app).engine
    log = Log()

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            log.statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", before)


def board(app: Flask, areas: int, per_area: int, *, authors: int = 0, first: int = 0) -> list[int]:
    """`areas` more areas (numbered from `first`) of `per_area` subscribers each, three new notices
    in each (in the first `authors` of them, one by a subscriber of the area); returns their ids."""
    joined, posted = NOW - timedelta(days=1), NOW - timedelta(hours=1)
    with session_of(app) as session:
        area_rows = [Area(slug=f"area-{n}", name=f"Area {n}", timezone="Europe/London", created_at=joined)
                     for n in range(first, first + areas)]
        session.add_all(area_rows)
        session.flush()
        for area in area_rows:
            people = [Subscriber(phone=f"+4477009{area.id:02d}{n:03d}", name=f"N{n}", created_at=joined)
                      for n in range(per_area)]
            session.add_all(people)
            session.flush()
            session.add_all(Subscription(subscriber_id=p.id, area_id=area.id, consent_at=joined, consent_text="JOIN",
                                         consent_channel="import", last_digest_at=joined) for p in people)
            for n in range(3):
                author = people[0] if n == 0 and area.id <= area_rows[0].id + authors - 1 else None
                session.add(Item(kind="notice", area_id=area.id, author_id=author.id if author else None,
                                 author_name="Sam", body=f"Notice {n} in {area.name}", status="published",
                                 created_at=posted + timedelta(minutes=n), published_at=posted + timedelta(minutes=n)))
        session.commit()
        return [a.id for a in area_rows]


def broadcast(app: Flask) -> tuple[Log, int]:
    factory, settings = board_of(app).sessions, board_of(app).settings
    with factory.begin() as session:
        areas = list(session.scalars(select(Area)))
        preview = preview_broadcast(session, settings, areas, "Bin collection moved to Friday", urgent=False)
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
    # Besides its chunks, a broadcast's fan-out is a few statements, whatever its size.
    assert len(log.statements) - 2 * len(chunks) <= 8
