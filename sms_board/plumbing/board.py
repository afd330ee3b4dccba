"""The board as every process sees it: settings, database and transport, built one way.

The web app, the CLI, the clock and the sender worker all start from
`Board.load()`; none of them needs the others (a worker sends texts without
building a Flask app).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dotenv import load_dotenv
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sms_board.plumbing.config import PROJECT_ROOT, Settings, load_settings
from sms_board.plumbing.db import make_engine, make_session_factory
from sms_board.sending.transport import Transport, make_transport


class Board:
    """Settings, engine, session factory and transport of one running board."""

    def __init__(
        self, settings: Settings, engine: Engine | None = None, *, transport: Transport | None = None,
        twilio_client: Any | None = None,
    ) -> None:
        self.settings = settings
        # Every sender thread holds a connection while it sends; overflow would reconnect each time.
        self.engine = engine or make_engine(settings.database_url, pool_size=max(5, settings.sender_concurrency + 2))
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        self._transport = transport
        self._own_engine = engine is None
        self._sender_sessions: sessionmaker[Session] | None = None
        self._clock_sessions: sessionmaker[Session] | None = None
        # `twilio check` talks to the account API; tests aim this client at a local fake.
        self.twilio_client = twilio_client

    @classmethod
    def load(
        cls, overrides: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None,
        engine: Engine | None = None, transport: Transport | None = None,
    ) -> Board:
        """Read the configuration (environment, `.env`, then `overrides`) and connect.

        `environ={}` describes the whole configuration in `overrides` (tests do this),
        so a developer's shell and `.env` cannot leak in. Raises `ConfigError`.
        """
        if environ is None:
            load_dotenv(PROJECT_ROOT / ".env", override=False)
        return cls(load_settings(overrides, environ=environ), engine, transport=transport)

    @property
    def sender_sessions(self) -> sessionmaker[Session]:
        """Sessions for `sms-board send`: an engine of its own with no ping on each checkout.

        A ping is a round trip before every statement the sender sends (3 a text); the sender
        instead finds a dead connection when it uses it and tries again on a new one
        (`plumbing.db.on_a_live_connection`). A board given its engine (tests) uses that one.
        """
        if self._sender_sessions is None:
            if self._own_engine:
                engine = make_engine(self.settings.database_url, pool_size=max(5, self.settings.sender_concurrency + 2),
                                     pool_pre_ping=False)
                self._sender_sessions = make_session_factory(engine)
            else:
                self._sender_sessions = self.sessions
        return self._sender_sessions

    @property
    def clock_sessions(self) -> sessionmaker[Session]:
        """Sessions for `sms-board clock`: an engine of its own that pings each connection as it is checked out.

        The clock runs a few jobs a minute, so a round trip more is nothing to it, and a job must not fail
        because PostgreSQL restarted since the last one (a job is not tried again: some send texts). A board
        given its engine (tests) uses that one.
        """
        if self._clock_sessions is None:
            if self._own_engine:
                engine = make_engine(self.settings.database_url, pool_size=2, pool_pre_ping=True)
                self._clock_sessions = make_session_factory(engine)
            else:
                self._clock_sessions = self.sessions
        return self._clock_sessions

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            self._transport = make_transport(self.settings)
        return self._transport

    @transport.setter
    def transport(self, transport: Transport) -> None:
        self._transport = transport
