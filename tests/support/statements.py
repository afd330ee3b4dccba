"""Counting the SQL statements a piece of work sends, by kind, to pin fan-out costs in CI.

`counting(app)` records every statement (a `before_cursor_execute` listener; transaction
control left out), `Log.kinds()` names each one (`INSERT INTO outbox`, `UPDATE subscriptions`,
`SELECT subscribers LIMIT`, `WITH` …), and `board()` builds a board of a given size.
Nothing is timed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import event

from sms_board.app import board_of
from sms_board.models import Area, Item, Subscriber, Subscription
from tests.conftest import session_of

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


@dataclass
class Log:
    statements: list[str] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return [kind_of(statement) for statement in self.statements]

    def chunks(self, marker: str) -> list[list[str]]:
        """The statements from each chunk's first statement (`marker`) to the next."""
        kinds = self.kinds()
        starts = [i for i, kind in enumerate(kinds) if kind == marker]
        return [kinds[a:b] for a, b in zip(starts, [*starts[1:], len(kinds)], strict=False)]


def kind_of(statement: str) -> str:
    """`INSERT INTO t`, `UPDATE t`, `SELECT t` (the outermost FROM; `LIMIT` when it reads a fixed
    number of rows), or `WITH` and the kind of the statement after the common table expressions."""
    words = re.sub(r"\s+", " ", statement).strip().split(" ")
    verb = words[0].upper()
    if verb == "WITH":
        depth = 0
        for index, word in enumerate(words):
            if depth == 0 and index > 1 and word.upper() in {"SELECT", "INSERT", "UPDATE", "DELETE"}:
                return "WITH " + kind_of(" ".join(words[index:]))
            depth += word.count("(") - word.count(")")
        return verb
    if verb == "INSERT":
        return f"INSERT INTO {words[2]}"
    if verb == "UPDATE":
        return f"UPDATE {words[1]}"
    if verb == "SELECT":
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


