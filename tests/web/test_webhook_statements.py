"""The webhook's cost, pinned: SQL statements per inbound text, by the kind of text.

Speed is measured in `bench/bench_webhook.py`; what keeps it is this count, which
fails CI when a change adds a query to every text (a lookup per keyword, an
autoflush, a lazy load). Counted with a SQLAlchemy cursor event; the transaction
statements SQLite's engine sends itself (`BEGIN IMMEDIATE`) are left out. The limits
are the counts measured, each database its own: one more statement is a failure.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, text

from sms_board.app import board_of
from tests.conftest import ACCOUNT_SID, BOARD_NUMBER, post_inbound

SAM, PRIYA, NEWCOMER = "+447700900301", "+447700900302", "+447700900399"
JOE, RUTH = "+447700900303", "+447700900304"  # who relay to each other

# The most statements one text of each kind may cost, on PostgreSQL and on SQLite (measured: see
# bench/RESULTS.md). On PostgreSQL the webhook stores a text with one autocommitted statement and takes
# it for routing with the statement that reads its sender; a POST's item and its first event, and a
# JOIN's subscription and its consent, are one statement each; the replies' outbox rows are written by
# the statement that settles the text. SQLite, which has no INSERT in a WITH, stores and takes the text
# in two transactions and writes those pairs as two statements. An unknown text's day's hint is stamped
# by the statement that reads the sender's areas; a new number is added by the one that reads the
# sender. A person's first join is kept (the monthly report's `new_members`) by the statement that
# subscribes them on PostgreSQL, by one more on SQLite (only on a first join). A STOP locks and reads its
# sender, then stores the text and opts the number out (its subscriptions ended, its waiting texts
# cancelled, the consent recorded) in one statement on PostgreSQL, a statement each on SQLite; routing
# reads with the sender whether it has connections, offers or helpers to end (most have none). A relay
# (the ORM's still) reads the item, the match, the neighbour and their trusted helpers, and writes the
# item's activity, its event and the text.
LIMITS = {
    "unknown text": (4, 7),
    "JOIN from a new number": (5, 10),
    "POST": (5, 8),
    "NEED": (5, 8),
    "HELP": (4, 6),
    "a retried MessageSid": (4, 4),
    "STOP": (4, 10),
    "a relay to the helper": (10, 11),
    "a relay back to the asker": (11, 12),
}


@contextmanager
def counting(app) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    engine = board_of(app).engine

    def statement(_conn, _cursor, sql: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if not sql.lstrip().upper().startswith("BEGIN"):
            seen.append(sql)

    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)


def sms(body: str, number: str, sid: str | None = None) -> dict[str, str]:
    return {"MessageSid": sid or f"SM{uuid.uuid4().hex}", "AccountSid": ACCOUNT_SID, "From": number,
            "To": BOARD_NUMBER, "Body": body, "NumMedia": "0", "SmsStatus": "received"}


@pytest.fixture
def street(areas, phone):  # type: ignore[no-untyped-def]
    for number, name in ((SAM, "Sam"), (PRIYA, "Priya")):
        resident = phone(number)
        resident.text("JOIN ELM")
        resident.text(f"NAME {name}")


@pytest.fixture
def connected(street, phone) -> str:  # type: ignore[no-untyped-def]
    """Joe asked for a lift, Ruth offered, Joe said OK: the request's ref, which each relays to the other with."""
    joe, ruth = phone(JOE), phone(RUTH)
    for resident, name in ((joe, "Joe"), (ruth, "Ruth")):
        resident.text("JOIN ELM")
        resident.text(f"NAME {name}")
    found = re.search(r"#(R\d+)", joe.text("NEED Lift to the GP on Thursday")[0])
    assert found
    ruth.text(f"CAN {found.group(1)}")
    assert joe.text(f"OK {found.group(1)}")[0].startswith("Connected with Ruth")
    return found.group(1)


def cost(app, client, params: dict[str, str]) -> int:  # type: ignore[no-untyped-def]
    with counting(app) as seen:
        post_inbound(client, params)
    return len(seen)


def test_every_kind_of_text_stays_within_its_statement_budget(app, client, connected, phone):
    retried = sms("Is the bin day still Thursday?", PRIYA)
    post_inbound(client, retried)
    measured = {
        "a relay to the helper": cost(app, client, sms(f"{connected} Thursday 9am at the corner?", JOE)),
        "a relay back to the asker": cost(app, client, sms(f"{connected} See you then", RUTH)),
        "unknown text": cost(app, client, sms("Who do I ask about the broken streetlight?", SAM)),
        "JOIN from a new number": cost(app, client, sms("JOIN ELM", NEWCOMER)),
        "POST": cost(app, client, sms("POST Lost ginger cat near the park", SAM)),
        "NEED": cost(app, client, sms("NEED Lift to the GP on Thursday", PRIYA)),
        "HELP": cost(app, client, sms("HELP", SAM)),
        "a retried MessageSid": cost(app, client, retried),
        "STOP": cost(app, client, sms("STOP", PRIYA)),  # last: Priya hears nothing more
    }
    assert phone(RUTH).received()[-1].body == f"{connected} Joe: Thursday 9am at the corner?"
    assert phone(JOE).received()[-1].body == f"{connected} Ruth: See you then"
    limit = {kind: limits[board_of(app).engine.dialect.name == "sqlite"] for kind, limits in LIMITS.items()}
    over = {kind: (count, limit[kind]) for kind, count in measured.items() if count > limit[kind]}
    assert not over, f"statements per text over budget (measured, limit): {over}"


def test_a_texts_cost_does_not_grow_with_the_neighbourhood(app, client, street, phone):
    post_inbound(client, sms("Hello?", SAM))  # the day's one hint is given
    before = cost(app, client, sms("Who do I ask about the broken streetlight?", SAM))
    for n in range(12):
        neighbour = phone(f"+4477009004{n:02d}")
        neighbour.text("JOIN ELM")
        neighbour.text("POST Spare bike for anyone who needs one")
    after = cost(app, client, sms("Who do I ask about the broken streetlight, please?", SAM))
    assert after == before


@pytest.mark.postgres_only(reason="PostgreSQL drops the connections; SQLite has none to drop")
def test_a_text_is_answered_after_postgresql_dropped_the_pooled_connections(app, client, street):
    # Connections are not pinged as they are checked out: the webhook must recover on its own.
    post_inbound(client, sms("HELP", SAM))  # the pool holds a connection now
    engine = board_of(app).engine
    # Only this board's own connections (other tests share the database): every one the pool holds.
    held = [engine.connect() for _ in range(max(1, engine.pool.checkedin()))]
    pids = [connection.execute(text("SELECT pg_backend_pid()")).scalar_one() for connection in held]
    for connection in held:
        connection.close()
    # Each backend gone before the text arrives (`pg_terminate_backend` waits up to 5 s for it), as after a
    # restart: signalled only, one may still answer the text's first statement and die during its next.
    killer = create_engine(engine.url)
    with killer.connect() as connection:
        dropped = connection.execute(text(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM unnest(CAST(:pids AS int[])) AS pid"
        ), {"pids": pids}).scalar_one()
    killer.dispose()
    assert dropped == len(pids)
    replies = post_inbound(client, sms("POST Lost ginger cat near the park", SAM))
    assert any("#N" in reply for reply in replies), replies
