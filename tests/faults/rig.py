"""The fault suite's board: its scale, its PostgreSQL schema and its processes.

PostgreSQL only: the promises under test (SKIP LOCKED claims, several senders,
killed connections) are PostgreSQL's. Each test gets a schema of its own,
migrated with `sms_board.plumbing.migrate.upgrade`, and every process it starts gets
`DATABASE_URL` with `options=-csearch_path=<schema>` and an `application_name`
naming the schema and the process's role (so `pg_stat_activity` tells the
sender's connections from the web's).

Randomness comes from one seed per run, printed in the header and after a
failure: `SMS_BOARD_FAULTS_SEED=N make faults` replays a run (the kill points
and the fake's answers; the operating system's scheduling is never the same
twice). `SMS_BOARD_FAULTS_NIGHTLY=1` runs more rounds; see `Scale`.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from sms_board.plumbing.board import Board

from .procs import FakeTwilioProcess, Gunicorn, Sender, Twilio, board_env, database_url

_TRUE = {"1", "true", "on", "yes"}
SEED = int(os.environ.get("SMS_BOARD_FAULTS_SEED") or random.SystemRandom().randrange(1, 10**6))
NIGHTLY = os.environ.get("SMS_BOARD_FAULTS_NIGHTLY", "").lower() in _TRUE


@dataclass(frozen=True)
class Scale:
    """How hard each test pushes: short for CI and `make test`, long for the nightly run."""

    duplicate_copies: int = 100  # test 1: copies of one MessageSid
    duplicate_at_once: int = 20
    webhook_joins: int = 300  # test 2
    webhook_kills: int = 12
    sender_texts: int = 300  # test 3
    sender_kills: int = 10
    sender_calls: int = 120  # test 3b: calls (and texts) in flight when the sender is killed
    call_kills: int = 5
    error_texts: int = 120  # test 4
    outage_texts: int = 200  # test 5
    outage_seconds: float = 10.0
    broadcasts: int = 1  # test 6: 300-recipient broadcasts, each with `stops_per_broadcast` STOPs
    stops_per_broadcast: int = 20
    connection_texts: int = 300  # test 9
    connection_kills: int = 10
    # How long a text left `received` by a killed worker may take to be taken over (its lease, then the clock).
    takeover_wait: float = field(default_factory=lambda: float(os.environ.get("SMS_BOARD_FAULTS_TAKEOVER_WAIT") or 45))
    fuzz_examples: int = field(default_factory=lambda: int(os.environ.get("SMS_BOARD_FUZZ_EXAMPLES") or 300))

    @classmethod
    def nightly(cls) -> Scale:
        return cls(
            webhook_joins=999, webhook_kills=40, sender_texts=900, sender_kills=30, error_texts=600,
            outage_texts=400, broadcasts=3, connection_texts=900, connection_kills=30,
            fuzz_examples=int(os.environ.get("SMS_BOARD_FUZZ_EXAMPLES") or 10_000),
        )


SCALE = Scale.nightly() if NIGHTLY else Scale()
# Every fault test ends within this many seconds, passed or failed (pytest-timeout; each wait has its own deadline).
TIME_LIMIT = 720 if NIGHTLY else 240


# ── the database ───────────────────────────────────────────────────────────


@dataclass
class Schema:
    name: str
    base_url: str
    engine: Engine  # the test's own connections, search_path set to the schema

    def url(self, role: str) -> str:
        return database_url(self.base_url, self.name, f"{self.name}-{role}")

    def application_name(self, role: str) -> str:
        return f"{self.name}-{role}"[:63]

    def sql(self, statement: str, **params: Any) -> list[Any]:
        with self.engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return list(result) if result.returns_rows else []

    def scalar(self, statement: str, **params: Any) -> Any:
        with self.engine.begin() as connection:
            return connection.execute(text(statement), params).scalar()


# ── the board and its processes ────────────────────────────────────────────


class Rig:
    """One board on this test's schema: its processes, and the test's own view of its database."""

    def __init__(self, schema: Schema, fake: FakeTwilioProcess, tmp_path: Path) -> None:
        self.schema = schema
        self.fake = fake
        self.tmp_path = tmp_path
        self.instance = tmp_path / "instance"
        self.instance.mkdir(exist_ok=True)
        self.public_url = "http://127.0.0.1:9"  # until a web server starts: callback URLs carry outbox ids
        self.senders: list[Sender] = []
        self._web: Gunicorn | None = None
        self._board: Board | None = None

    def env(self, role: str, **settings: str) -> dict[str, str]:
        return board_env(self.schema.url(role), self.instance, self.public_url,
                         SMS_BOARD_TWILIO_API_URL=self.fake.api_url, **settings)

    @property
    def board(self) -> Board:
        """The board as the test process sees it (same settings as the processes, its own connections)."""
        if self._board is None:
            self._board = Board.load(self.env("test"), environ={})
        return self._board

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.board.sessions

    def cli(self, *args: str) -> Result:
        """An `sms-board` command, run in this process on the rig's board."""
        from sms_board.cli import cli

        result = CliRunner().invoke(cli, list(args), obj=self.board, catch_exceptions=False)
        assert result.exit_code == 0, f"sms-board {' '.join(args)} failed: {result.output}"
        return result

    def web(self) -> Gunicorn:
        if self._web is None:
            def env_for(url: str) -> dict[str, str]:
                self.public_url = url
                return self.env("web")

            self._web = Gunicorn(env_for, self.tmp_path)
            if self._board is not None:  # its settings lack the public URL: build it again
                self._board.engine.dispose()
                self._board = None
        return self._web

    def twilio(self) -> Twilio:
        return Twilio(self.web().url)

    def sender(self, name: str = "sender", **settings: str) -> Sender:
        sender = Sender(self.env(name, **settings), self.tmp_path, name=name)
        self.senders.append(sender)
        return sender

    def close(self) -> None:
        for sender in self.senders:
            sender.kill()
        if self._web is not None:
            self._web.stop()
        if self._board is not None:
            self._board.engine.dispose()


