"""`sms-board db copy`: a board built by texts on SQLite moves to a new PostgreSQL database with
everything it knows, or not at all (issue 25, docs/operations.md).

The source is a SQLite board of this module's own, built once by texts; each test copies it into a
PostgreSQL database made for it (on TEST_DATABASE_URL's server) and dropped afterwards. Without
PostgreSQL these tests are skipped loudly, and fail under SMS_BOARD_REQUIRE_POSTGRES=1 (CI).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from sms_board import create_app
from sms_board.app import board_of
from sms_board.models import Base, Heartbeat, Outbox, OutboxStatus
from sms_board.plumbing.db import make_engine
from sms_board.plumbing.db_copy import CopyRefused, prepare
from sms_board.plumbing.utc import utcnow
from tests.conftest import (
    DEFAULT_PG,
    Database,
    Phone,
    Runner,
    app_config,
    migrated_sqlite,
    session_of,
)

SAM, PRIYA, RUTH, GONE = "+447700900123", "+447700900456", "+447700900001", "+447700900777"
KEYS = {"SECRET_KEY": "test-secret", "SMS_BOARD_SUPPRESSION_KEY": "test-suppression-key-0123456789"}


def ref_in(reply: str, letter: str) -> str:
    found = re.search(rf"#({letter}\d+)", reply)
    assert found, reply
    return found.group(1)


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite_file: Path) -> Iterator[Flask]:
    """Elm Street on SQLite, built by texts: a moderated post, a finished exchange with hours, an open
    request, a FORGET, a queued digest, and one text a crashed sender left `sending`."""
    folder = tmp_path_factory.mktemp("copy_source")
    url = migrated_sqlite(migrated_sqlite_file, folder / "board.db")
    source = Database("sqlite", url, make_engine(url))
    app = create_app(app_config(source, folder))
    runner, client = Runner(app), app.test_client()
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1", "--moderation", "first")
    runner("area", "add", "oak", "Oak Road", "--postcode", "SE6")
    people = {}
    for number, name in [(SAM, "Sam"), (PRIYA, "Priya"), (RUTH, "Ruth"), (GONE, "Gone")]:
        people[name] = Phone(client, number)
        people[name].text("JOIN ELM")
        people[name].text(f"NAME {name}")
    runner("organiser", "add", RUTH, "elm")
    post = ref_in(people["Sam"].text("POST Plant swap on Saturday")[0], "N")
    people["Ruth"].text(f"APPROVE {post}")  # a moderation decision
    request = ref_in(people["Sam"].text("NEED Lift to the GP")[0], "R")
    people["Priya"].text(f"CAN {request}")
    people["Sam"].text(f"OK {request}")
    people["Sam"].text(f"DONE {request} 2h")
    people["Priya"].text("NEED A ladder for Sunday")
    people["Gone"].text("FORGET")
    people["Gone"].text("YES")
    runner("digest")
    with session_of(app) as session, session.begin():
        assert session.scalar(select(func.count()).select_from(Outbox).where(Outbox.kind == "digest",
                                                                              Outbox.status == "queued"))
        crashed = session.scalars(select(Outbox.id).where(Outbox.status == "queued").order_by(Outbox.id)).first()
        session.execute(update(Outbox).where(Outbox.id == crashed).values(
            status=OutboxStatus.SENDING, updated_at=utcnow() - timedelta(hours=1)))
    yield app
    source.engine.dispose()


def _admin_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    return "postgresql+psycopg://" + url.split("://", 1)[1]


@pytest.fixture
def target() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database (a schema of its own on the test server), dropped after the test."""
    schema = f"sms_board_copy_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(_admin_url(), connect_args={"connect_timeout": 3})
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        reason = f"POSTGRESQL SKIPPED: cannot reach {_admin_url()} ({str(exc.orig).strip()[:120]})"
        if os.environ.get("SMS_BOARD_REQUIRE_POSTGRES", "") not in {"", "0", "false", "off"}:
            pytest.fail(reason + " and SMS_BOARD_REQUIRE_POSTGRES=1", pytrace=False)
        pytest.skip(reason)
    try:
        yield make_url(_admin_url()).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The board's keys in the environment, where the moved board reads them."""
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)


def board_on(url: str, folder: Path) -> Flask:
    return create_app(app_config(Database("postgresql", url, make_engine(url)), folder))


def as_json(app: Flask, *args: str) -> Any:
    return json.loads(Runner(app)(*args, "--json").stdout)


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {table.name: connection.scalar(select(func.count()).select_from(table)) or 0
                    for table in Base.metadata.sorted_tables}
    finally:
        engine.dispose()


def test_the_board_moves_to_postgresql_with_everything_it_knows(target, board, keys, tmp_path):
    result = Runner(board)("db", "copy", target, "--yes")

    assert "Copied" in result.stderr and "count and checksum match" in result.stderr
    lines = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line and line[0] != " "}
    assert lines["items"][0] == "3" and lines["items"][1] == lines["items"][2], "rows and matching checksums"
    assert "web_sessions: 0 sign-in session(s) not copied: organisers and administrators sign in again" in result.stdout
    assert "outbox: 1 text left `sending` made `unknown`" in result.stdout

    moved = board_on(target, tmp_path)
    assert as_json(moved, "area", "list") == as_json(board, "area", "list")
    assert as_json(moved, "ledger") == as_json(board, "ledger")
    before, after = as_json(board, "outbox"), as_json(moved, "outbox")
    changed = [(old["status"], new["status"]) for old, new in zip(before, after, strict=True) if old != new]
    assert changed == [("sending", "unknown")], "every text as it was, but the one a crash left sending"

    # The next request on PostgreSQL gets the next ref: the sequences went past the copied ids.
    with session_of(board) as session:
        last = session.scalar(select(func.max(Base.metadata.tables["items"].c.id)))
    reply = Phone(moved.test_client(), PRIYA).text("NEED Someone to water the plants")[0]
    assert ref_in(reply, "R") == f"R{last + 1}"

    # The forgotten number is still refused: the suppression list and its key came along.
    listing = tmp_path / "list.csv"
    listing.write_text("number,area,name,consent_source,consent_at\n07700 900777,elm,Gone,paper form,\n")
    report = as_json(moved, "subscribers", "import", str(listing))
    assert [r["message"] for r in report["refused"]] == [
        "refused: this number asked the board to forget it (FORGET); it is never added back"]

    # A second copy into the board now on PostgreSQL is refused and changes nothing.
    held = counts(target)
    again = Runner(board)("db", "copy", target, "--yes", ok=False)
    assert again.exit_code == 1
    assert "already holds a board (areas: 2 rows" in again.stderr and "Nothing was changed." in again.stderr
    assert counts(target) == held


# The copy in a process of its own, stopped half-way through the rows (after 20, in batches of 5) until killed.
HALF_WAY = """
import sys, time
from sms_board.plumbing.db import make_engine
from sms_board.plumbing.db_copy import copy, prepare
from sms_board.plumbing.utc import utcnow

plan = prepare(make_engine(sys.argv[1]), sys.argv[2], utcnow())
copied = 0

def half_way(rows):
    global copied
    copied += rows
    if copied >= 20:
        print("half way", flush=True)
        time.sleep(600)

copy(plan, dry_run=False, now=utcnow(), progress=half_way, batch_rows=5)
"""


def test_a_copy_killed_half_way_leaves_the_target_empty_and_ready_for_another(target, board, keys):
    source_url = board_of(board).engine.url.render_as_string(hide_password=False)
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-c", HALF_WAY, source_url, target], cwd=root, text=True,
                               stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(root)})
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "half way\n", "the copy got half-way"
        assert set(counts(target).values()) == {0}, "nothing is seen before the copy commits"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    assert set(counts(target).values()) == {0}, "killed: the schema is there, not one row"
    result = Runner(board)("db", "copy", target, "--yes")  # a target with only the schema is empty
    assert "count and checksum match" in result.stderr
    assert counts(target)["items"] == 3


def test_what_it_refuses_before_writing_anything(target, board, monkeypatch, tmp_path):
    runner = Runner(board)
    instance = Path(board_of(board).settings.instance_path)

    # Keys: the development files are named with how to carry them over; nothing is done.
    instance.mkdir(parents=True, exist_ok=True)
    for name, value in KEYS.items():
        (instance / ("secret_key" if name == "SECRET_KEY" else "suppression_key")).write_text(value)
        monkeypatch.delenv(name, raising=False)
    result = runner("db", "copy", target, "--yes", ok=False)
    assert result.exit_code == 1
    assert f'export SECRET_KEY="$(cat {instance / "secret_key"})"' in result.stderr
    assert f'export SMS_BOARD_SUPPRESSION_KEY="$(cat {instance / "suppression_key"})"' in result.stderr
    monkeypatch.setenv("SECRET_KEY", "another-key")
    assert "SECRET_KEY in the environment is not the key this board uses" in runner(
        "db", "copy", target, "--yes", ok=False).stderr
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)

    # No terminal to ask on without --yes; a target that does not answer; a target that is not PostgreSQL.
    assert "no terminal to ask on: run it again with --yes" in runner("db", "copy", target, ok=False).stderr
    unreachable = make_url(target).set(port=1).render_as_string(hide_password=False)
    assert "cannot reach the target at" in runner("db", "copy", unreachable, "--yes", ok=False).stderr
    assert "the target must be PostgreSQL" in runner("db", "copy", f"sqlite:///{tmp_path}/x.db", ok=False).stderr

    # A dry run checks and counts, and writes nothing (not even the schema).
    dry = runner("db", "copy", target, "--dry-run")
    assert "nothing written" in dry.stderr and re.search(r"^items\s+3\s", dry.stdout, re.M)
    engine = make_engine(target)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")) == 0
    engine.dispose()

    # A running clock (its heartbeat fresh, its process alive on this machine).
    with session_of(board) as session, session.begin():
        session.add(Heartbeat(name="clock", beat_at=utcnow(), detail={"host": socket.gethostname(), "pid": os.getpid()}))
    try:
        busy = runner("db", "copy", target, "--yes", ok=False).stderr
        assert "the clock is running" in busy and "Stop it (`sms-board clock`" in busy
    finally:
        with session_of(board) as session, session.begin():
            session.execute(Heartbeat.__table__.delete())

    # Values PostgreSQL would refuse are named by row, and nothing is copied.
    with session_of(board) as session, session.begin():
        name = session.execute(text("SELECT name FROM subscribers WHERE id = 1")).scalar_one()
        body = session.execute(text("SELECT body FROM items WHERE id = 1")).scalar_one()
        session.execute(text("UPDATE subscribers SET name = :name WHERE id = 1"), {"name": "x" * 41})
        session.execute(text("UPDATE items SET body = :body WHERE id = 1"), {"body": "Plant\x00swap"})
    try:
        refused = runner("db", "copy", target, "--yes", ok=False).stderr
    finally:
        with session_of(board) as session, session.begin():
            session.execute(text("UPDATE subscribers SET name = :name WHERE id = 1"), {"name": name})
            session.execute(text("UPDATE items SET body = :body WHERE id = 1"), {"body": body})
    assert "2 values PostgreSQL would refuse" in refused
    assert "subscribers id 1: name is 41 characters, the column holds 40" in refused
    assert "items id 1: body holds a NUL character" in refused
    assert set(counts(target).values()) == {0}
    with pytest.raises(CopyRefused):
        prepare(board_of(board).engine, target.replace("postgresql+psycopg", "mysql"), utcnow())
