"""Fixtures in the flaskr style, run against SQLite and PostgreSQL.

Every test that uses the database runs twice: once on a SQLite file, once on
the PostgreSQL at TEST_DATABASE_URL (default: 127.0.0.1:5432, database `test`),
in a schema of its own created for this run and migrated with Alembic (on SQLite,
a copy of a file migrated once per test process). Tables are emptied, and ids
start from 1 again, after each test, so tests may commit, use threads and run the
CLI like the real thing.

Where PostgreSQL does not answer, its half is skipped with a loud
`POSTGRESQL SKIPPED` line, unless SMS_BOARD_REQUIRE_POSTGRES=1 (as in CI), which
turns that into a failure.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from sms_board import create_app
from sms_board.app import board_of
from sms_board.cli import cli
from sms_board.models import Base, InboundMessage, Outbox
from sms_board.plumbing.db import make_engine
from sms_board.plumbing.logs import FORMAT as LOG_FORMAT
from sms_board.plumbing.logs import MaskedFormatter
from sms_board.plumbing.migrate import upgrade
from sms_board.text.phone import shows_full_number

# The fake Twilio's fixtures (`fake_twilio`, `threaded_fake_twilio`) and the browser tests' Chromium
# (`browser`: one per test process, a new context per test) are there for every test.
pytest_plugins = ["tests.support.fake_twilio", "tests.support.browser"]

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
HEALTH_TOKEN = "test-health-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "0" * 32
BOARD_NUMBER = "+447700900000"


@dataclass
class Database:
    backend: str
    url: str
    engine: Engine


def _require_postgres() -> bool:
    return os.environ.get("SMS_BOARD_REQUIRE_POSTGRES", "") not in {"", "0", "false", "off"}


def _postgres(schema: str) -> Database:
    base_url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    if base_url.startswith("postgresql://"):
        base_url = "postgresql+psycopg://" + base_url[len("postgresql://"):]
    admin = create_engine(base_url, connect_args={"connect_timeout": 3})
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        reason = f"POSTGRESQL SKIPPED: cannot reach {base_url} ({exc.orig.__class__.__name__}: {str(exc.orig).strip()[:120]})"
        admin.dispose()
        if _require_postgres():
            pytest.fail(reason + " and SMS_BOARD_REQUIRE_POSTGRES=1", pytrace=False)
        pytest.skip(reason)
    admin.dispose()
    engine = make_engine(base_url, connect_args={"options": f"-csearch_path={schema}"})
    return Database("postgresql", base_url, engine)


@contextlib.contextmanager
def empty_database(backend: str, folder: Path, label: str) -> Iterator[Database]:
    """A database of its own that nothing has touched (no migration): a new SQLite file in `folder`,
    or a new PostgreSQL schema dropped afterwards. For tests of what happens before or across migrations."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / f'{label}.db'}"
        database = Database("sqlite", url, make_engine(url))
        schema = ""
    else:
        schema = f"sms_board_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        database = _postgres(schema)
    try:
        yield database
    finally:
        database.engine.dispose()
        if schema:
            cleanup = create_engine(database.url)
            with cleanup.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            cleanup.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file `upgrade` took to the head migration, made once per test process (Alembic's
    batch migrations rebuild SQLite tables one by one: seconds). Not a board: `migrated_sqlite` copies it."""
    path = tmp_path_factory.mktemp("sqlite_migrated") / "head.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def migrated_sqlite(template: Path, path: Path) -> str:
    """A board's SQLite file at `path`, exactly as `upgrade` leaves a new one (a copy of `template`,
    the `migrated_sqlite_file` fixture); returns its URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(template)) as source, contextlib.closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    if request.param == "sqlite":
        template = request.getfixturevalue("migrated_sqlite_file")
        url = migrated_sqlite(template, tmp_path_factory.mktemp("sqlite") / "board.db")
        db = Database("sqlite", url, make_engine(url))
        yield db
        db.engine.dispose()
        return
    schema = f"sms_board_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    db = _postgres(schema)
    try:
        upgrade(db.engine)
        yield db
    finally:
        db.engine.dispose()
        cleanup = create_engine(db.url)
        with cleanup.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        cleanup.dispose()


# Every sequence a column of this schema's tables owns (the `id`s), back to its start: what
# TRUNCATE … RESTART IDENTITY does to them.
RESTART_IDS = """SELECT setval(s.oid::regclass, q.seqstart, false)
FROM pg_class s JOIN pg_sequence q ON q.seqrelid = s.oid
JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
 AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
WHERE s.relkind = 'S' AND s.relnamespace = current_schema()::regnamespace"""


def _empty_tables(db: Database) -> None:
    """Every table empty and every id counting from 1 again, as a new board's. PostgreSQL: DELETE,
    children before parents, and the id sequences restarted, in one round trip; not TRUNCATE, which
    makes new files for each of the 34 tables and their indexes: a tenth of a second, after every test."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    deletes = ";\n".join(f"DELETE FROM {table}" for table in tables)
    for attempt in range(3):
        try:
            with db.engine.begin() as connection:
                if db.backend == "postgresql":
                    connection.exec_driver_sql(f"{deletes};\n{RESTART_IDS}")
                else:
                    for table in tables:
                        connection.execute(text(f"DELETE FROM {table}"))
            return
        except OperationalError:
            # A deadlock PostgreSQL broke by failing this transaction: nothing was emptied; try again.
            if attempt == 2:
                raise


# `@pytest.mark.postgres_only` / `sqlite_only` (declared in pyproject.toml), optionally with a reason:
# the test's run on the other database is skipped, saying why, rather than passing having checked nothing.
ONLY = {"postgres_only": ("postgresql", "runs only against PostgreSQL"),
        "sqlite_only": ("sqlite", "runs only against SQLite")}
BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for name, (backend, default_reason) in ONLY.items():
            marker = item.get_closest_marker(name)
            if marker is None:
                continue
            callspec = getattr(item, "callspec", None)
            runs_on = callspec.params.get("database") if callspec else None
            if runs_on is None:
                raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.{name} needs the `db` or `database` fixture, "
                                        "whose database it reads")
            if runs_on != backend:
                reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else default_reason)
                item.add_marker(pytest.mark.skip(reason=f"{name}: {reason} (this run is on {BACKEND_NAMES[runs_on]})"))


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    """The database of this run, emptied after the test."""
    yield database
    _empty_tables(database)


def app_config(db: Database, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "TESTING": True,
        "ENGINE": db.engine,
        "DATABASE_URL": db.url,
        "SMS_BOARD_INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret",
        "SMS_BOARD_SUPPRESSION_KEY": "test-suppression-key-0123456789",
        "SMS_BOARD_HEALTH_TOKEN": HEALTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": BOARD_NUMBER,
        "SMS_BOARD_TRANSPORT": "console",
        "SMS_BOARD_PUBLIC_URL": "https://board.example.org",
        # Tests run on the real clock at any hour: nothing is held for quiet or call hours unless a test says so.
        "SMS_BOARD_QUIET_HOURS": "",
        "SMS_BOARD_CALL_HOURS": "",
    }
    config.update(overrides)
    return config


# A development board: the console transport and no Twilio credentials, the only one with the simulator.
DEVELOPMENT_BOARD: dict[str, Any] = {"TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None}


def development_board(db: Database, tmp_path: Path, **overrides: Any) -> Flask:
    """The web app of a development board (the simulator is there) on the test database."""
    return create_app(app_config(db, tmp_path, **DEVELOPMENT_BOARD, **overrides))


@pytest.fixture
def app(db: Database, tmp_path: Path) -> Flask:
    return create_app(app_config(db, tmp_path))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Runner:
    """Runs `sms-board` commands against the test app, as a script would."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.cli = CliRunner()

    def __call__(self, *args: str, ok: bool = True) -> Result:
        result = self.cli.invoke(cli, list(args), obj=board_of(self.app), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, f"sms-board {' '.join(args)} failed: {result.output}"
        return result


@pytest.fixture
def runner(app: Flask) -> Runner:
    return Runner(app)


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


class Phone:
    """A resident's phone texting the board through the signed Twilio webhook."""

    def __init__(self, client: FlaskClient, number: str) -> None:
        self.client = client
        self.number = number
        self.sent = 0

    def text(self, body: str, **extra: str) -> list[str]:
        self.sent += 1
        params = {
            "MessageSid": f"SM{uuid.uuid4().hex}", "AccountSid": ACCOUNT_SID, "From": self.number,
            "To": BOARD_NUMBER, "Body": body, "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
            **extra,
        }
        return post_inbound(self.client, params)

    def received(self) -> list[Outbox]:
        """Texts queued for this phone (notifications, relays, digests): everything but the direct replies."""
        with session_of(self.client.application) as session:
            return list(session.scalars(
                select(Outbox).where(Outbox.to_number == self.number, Outbox.kind != "reply").order_by(Outbox.id)
            ))


def post_inbound(client: FlaskClient, params: dict[str, str]) -> list[str]:
    url = "https://board.example.org/sms/inbound"
    response = client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": sign(url, params)})
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    return twiml_messages(response.data)


def twiml_messages(xml: bytes) -> list[str]:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xml)
    assert root.tag == "Response"
    return [message.text or "" for message in root.iter("Message")]


def session_of(app: Flask) -> Session:
    return board_of(app).sessions()


def texts_at_once(app: Flask, texts: dict[str, str]) -> dict[str, list[str]]:
    """Each number's text (`{number: body}`) through the board's own pipeline, all let go at the
    same moment from threads of their own; returns each number's replies."""
    import threading

    from sms_board.inbound import new_message_sid, receive

    factory, settings = board_of(app).sessions, board_of(app).settings
    start = threading.Barrier(len(texts))
    replies: dict[str, list[str]] = {}

    def text(number: str, body: str) -> None:
        start.wait()
        replies[number] = receive(factory, settings, {"MessageSid": new_message_sid(), "From": number,
                                                      "Body": body}).replies

    threads = [threading.Thread(target=text, args=pair) for pair in texts.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return replies


def send_everything(app: Flask) -> None:
    """What `sms-board send` does, at a rate that does not make the test wait (the default is 1/s)."""
    from dataclasses import replace

    from sms_board.sending.sender import drain

    board = board_of(app)
    report = drain(board.sessions, board.transport, replace(board.settings, rate=1000))
    assert report.sent and not report.errors, report


@pytest.fixture
def phone(client: FlaskClient):  # type: ignore[no-untyped-def]
    """`phone("+447700900123")` → a Phone that texts the board."""
    return lambda number: Phone(client, number)


@pytest.fixture
def inbound_rows(app: Flask):  # type: ignore[no-untyped-def]
    def rows() -> list[InboundMessage]:
        with session_of(app) as session:
            return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))

    return rows


@pytest.fixture
def areas(runner: Runner) -> None:
    """Two neighbouring areas, as an administrator would set them up."""
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1", "--postcode", "SE6 2")
    runner("area", "add", "oak", "Oak Road", "--postcode", "SE6")
    runner("area", "add", "river", "Riverside", "--postcode", "SE10")


class _Lines(logging.Handler):
    """Every log record of a test: as the board's own handler writes it, and as the code logged it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(MaskedFormatter(LOG_FORMAT))
        self.written: list[str] = []
        self.ours: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.written.append(self.format(record))
        if record.name.startswith("sms_board"):
            self.ours.append(record.getMessage())


@pytest.fixture(autouse=True)
def log_lines_mask_every_number() -> Iterator[_Lines]:
    """The whole suite (webhook, sender, CLI, clock …) logs at DEBUG, and no line may hold a full number.

    Two checks: what the board writes (through its masking formatter, tracebacks and the twilio
    client's own lines included), and what the board's own code logs before any masking, so a
    new `log.info("… %s", phone)` fails here even though the formatter would have saved it.
    """
    lines = _Lines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(lines)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(lines)
        root.setLevel(level)
    leaked = [line for line in lines.written if shows_full_number(line)]
    assert not leaked, f"a log line shows a full number: {leaked[0]!r}"
    unmasked = [message for message in lines.ours if shows_full_number(message)]
    assert not unmasked, f"the board logged a full number (mask it with phone.mask): {unmasked[0]!r}"


def _first_skip(terminalreporter: Any, banner: str) -> str | None:
    """The first skip whose reason starts with `banner`, from any process (pytest-xdist's workers
    report their skips to the controller, which writes this summary)."""
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
        if banner in reason:
            return reason.removeprefix("Skipped: ")
    return None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    browser = _first_skip(terminalreporter, "BROWSER TESTS SKIPPED")
    if browser:
        terminalreporter.write_sep("!", "BROWSER TESTS SKIPPED", yellow=True, bold=True)
        terminalreporter.write_line(browser, yellow=True, bold=True)
    postgres = _first_skip(terminalreporter, "POSTGRESQL SKIPPED")
    if postgres:
        terminalreporter.write_sep("!", "POSTGRESQL SKIPPED", red=True, bold=True)
        terminalreporter.write_line(postgres, red=True, bold=True)
        terminalreporter.write_line(
            "The PostgreSQL half of the suite did not run. Start PostgreSQL or set TEST_DATABASE_URL; "
            "CI sets SMS_BOARD_REQUIRE_POSTGRES=1 so this fails there.", red=True, bold=True)
