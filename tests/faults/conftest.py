"""Fixtures of the fault suite: a PostgreSQL schema per test, the fake Twilio process, the board's processes.

See `rig.py` for the schema, the seed and the scale; `procs.py` for the processes.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from sms_board.plumbing.migrate import upgrade

from . import figures
from .procs import FakeTwilioProcess, database_url, kill_everything
from .rig import NIGHTLY, SCALE, SEED, Rig, Schema


@pytest.fixture
def schema() -> Iterator[Schema]:
    """A fresh, migrated PostgreSQL schema for this test (skipped loudly, or failed in CI, without PostgreSQL)."""
    import conftest as root  # tests/conftest.py: finds TEST_DATABASE_URL, skips or fails loudly

    name = f"faults_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    database = root._postgres(name)
    if database.url.startswith("postgresql://"):
        database.url = "postgresql+psycopg://" + database.url[len("postgresql://"):]
    database.engine.dispose()
    engine = create_engine(database_url(database.url, name, f"{name}-test"), pool_pre_ping=True)
    try:
        upgrade(engine)
        yield Schema(name, database.url, engine)
    finally:
        engine.dispose()
        kill_everything()  # nothing of this test may still hold a connection to the schema
        admin = create_engine(database.url, connect_args={"connect_timeout": 5})
        with admin.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '20s'"))
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name LIKE :prefix AND pid <> pg_backend_pid()"), {"prefix": f"{name}-%"})
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


# ── randomness ─────────────────────────────────────────────────────────────


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """This test's random numbers: the run's seed and the test's name, so one test replays alone too."""
    return random.Random(f"{SEED}:{request.node.nodeid}")


@pytest.fixture
def seed(rng: random.Random) -> int:
    return rng.randrange(1, 10**9)


# ── the processes ──────────────────────────────────────────────────────────


@pytest.fixture
def fake(tmp_path: Path, seed: int) -> Iterator[FakeTwilioProcess]:
    """The fake Twilio, its own process; every answer 201 until a test scripts otherwise."""
    started = FakeTwilioProcess(tmp_path, seed)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def rig(schema: Schema, fake: FakeTwilioProcess, tmp_path: Path) -> Iterator[Rig]:
    built = Rig(schema, fake, tmp_path)
    try:
        yield built
    finally:
        built.close()


# ── the run's report ───────────────────────────────────────────────────────

figures.start(SEED, NIGHTLY)


@pytest.fixture
def note(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """`note(kills=12, requests=900)`: figures of this test for the run's report."""
    return lambda **numbers: figures.record(request.node.nodeid, **numbers)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fault suite runs last: the quick tests give their answer first (and `-x` stops there first)."""
    items.sort(key=lambda item: "tests/faults/" in item.nodeid.replace(os.sep, "/"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.failed and "tests/faults/" in item.nodeid.replace(os.sep, "/"):
        report.sections.append(("fault suite", f"replay with SMS_BOARD_FAULTS_SEED={SEED}"))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "tests/faults/" not in report.nodeid.replace(os.sep, "/"):
        return
    if report.when == "call" or report.outcome != "passed":
        figures.outcome(report.nodeid, report.outcome, report.duration)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = os.environ.get("SMS_BOARD_FAULTS_REPORT")
    if target and figures.ran_any():
        figures.write(Path(target), SCALE)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not figures.ran_any():
        return
    terminalreporter.write_sep("-", f"fault suite ({'nightly' if NIGHTLY else 'short'}), seed {SEED}")
    for line in figures.summary_lines():
        terminalreporter.write_line(line)
    colour = {"red": True, "bold": True} if figures.failed_any() else {}
    terminalreporter.write_line(f"replay this run with SMS_BOARD_FAULTS_SEED={SEED}", **colour)
