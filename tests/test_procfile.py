"""The README's "Running it for real" command, run as an operator runs it: web, worker and clock on one box.

The commands are read out of the README, so the test runs what the page says. They run as
real processes (honcho, gunicorn, `sms-board send --forever`, `sms-board clock`) on
127.0.0.1 only, with the twilio transport aimed at the fake Twilio, and are stopped at the
end whatever happens: honcho starts each process in a session of its own, so each is
killed by its own process group too.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import ACCOUNT_SID, AUTH_TOKEN, BOARD_NUMBER, HEALTH_TOKEN, _postgres
from sqlalchemy import create_engine, text

from tests.faults.procs import (
    BIN,
    LOOPBACK,
    ROOT,
    Proc,
    Twilio,
    board_env,
    database_url,
    free_port,
    text_params,
    twiml_messages,
    wait_for,
)
from tests.support.fake_twilio import FakeTwilio

pytestmark = pytest.mark.timeout(150)

PRIYA = "+447700900456"
SAM = "+447700900457"


def documented_commands() -> str:
    """The shell block of the README's "Running it for real" section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Running it for real", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README's 'Running it for real' gives no command to start the board"
    return "\n".join(line.strip() for line in block.group(1).splitlines())


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nothing has touched yet: the documented commands migrate it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'board.db'}"
        return
    schema = f"procfile_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    database = _postgres(schema)  # finds TEST_DATABASE_URL; skips loudly, or fails under SMS_BOARD_REQUIRE_POSTGRES
    database.engine.dispose()
    base = database.url
    try:
        yield database_url(base, schema, f"{schema}-board")
    finally:
        admin = create_engine(base, connect_args={"connect_timeout": 5})
        with admin.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE application_name LIKE :prefix AND pid <> pg_backend_pid()"),
                               {"prefix": f"{schema}-%"})
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def descendants(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        found += [child, *descendants(child)]
    return found


def stop_everything(proc: Proc) -> None:
    """SIGTERM honcho (it stops what it started), then SIGKILL every process group still there."""
    started = descendants(proc.pid)
    proc.stop(timeout=15)
    for pid in started:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def test_the_documented_command_starts_web_worker_and_clock_that_answer_and_send(
        empty_database: str, threaded_fake_twilio: FakeTwilio, tmp_path: Path) -> None:
    commands = documented_commands()
    assert "honcho start" in commands and "db upgrade" in commands
    # The Procfile in a folder of its own: honcho would read the developer's `.env` beside the real one.
    folder = tmp_path / "app"
    folder.mkdir()
    shutil.copy(ROOT / "Procfile", folder / "Procfile")
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    env = board_env(
        empty_database, tmp_path / "instance", url,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM_NUMBER=BOARD_NUMBER,
        SMS_BOARD_TWILIO_API_URL=threaded_fake_twilio.base_url, SMS_BOARD_HEALTH_TOKEN=HEALTH_TOKEN,
        PORT=str(port), HOST=LOOPBACK, HOME=str(tmp_path),  # gunicorn keeps a control socket under HOME
    )
    assert env["PATH"].startswith(str(BIN)), "the virtualenv on PATH, as the README says"

    board = Proc("honcho", ["bash", "-ec", commands], env, tmp_path, cwd=folder)
    try:
        http = requests.Session()
        http.trust_env = False  # 127.0.0.1 only, never through a proxy

        def health(**headers: str) -> dict[str, object] | None:
            assert board.alive(), f"the board stopped:\n{board.tail(60)}"
            try:
                answer = http.get(f"{url}/healthz", headers=headers, timeout=2)
            except requests.RequestException:
                return None
            return answer.json() if answer.status_code == 200 else None

        assert wait_for(health, 60, f"/healthz on {url}", every=0.2) == {"ok": True, "database": "ok"}
        # The clock ticks once as it starts: its heartbeat is what the operator's monitor reads.
        bearer = {"Authorization": f"Bearer {HEALTH_TOKEN}"}
        assert wait_for(lambda: (health(**bearer) or {}).get("scheduler") == "ok", 60, "the clock's heartbeat",
                        every=0.5)

        added = subprocess.run([str(BIN / "sms-board"), "area", "add", "elm", "Elm Street", "--postcode", "SE6 1"],
                               env=env, cwd=folder, capture_output=True, text=True, timeout=60, check=False)
        assert added.returncode == 0, added.stderr
        twilio = Twilio(url, token=AUTH_TOKEN)

        def text_board(number: str, body: str) -> str:
            answer = twilio.text(text_params(number, body) | {"AccountSid": ACCOUNT_SID})
            assert answer.status_code == 200, answer.text
            return " ".join(twiml_messages(answer.content))

        text_board(PRIYA, "JOIN ELM")
        ref = re.search(r"#(R\d+)", text_board(PRIYA, "NEED Lift to the GP on Thursday"))
        assert ref, "the request got a ref"
        text_board(SAM, "JOIN ELM")
        text_board(SAM, f"CAN {ref.group(1)}")

        # The worker sends Priya the offer through the (fake) Twilio API.
        sent = wait_for(lambda: threaded_fake_twilio.accepted_to(PRIYA), 60, "the worker to send Priya the offer",
                        every=0.2)
        assert ref.group(1) in sent[0].body
        assert sent[0].status_callback and sent[0].status_callback.startswith(f"{url}/sms/status")
    finally:
        stop_everything(board)
    log = board.log.read_text(errors="replace")
    assert f"Listening at: http://{LOOPBACK}:{port}" in log, "web listens on PORT, not PORT+100"
    assert "release.1" not in log
    assert "alembic.runtime.plugins" not in log, "no alembic chatter at the start of each process"
    assert not any(number in log for number in (PRIYA, SAM)), "no full number in the processes' output"
