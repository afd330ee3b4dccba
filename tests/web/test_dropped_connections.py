"""A PostgreSQL restart drops every pooled connection. The web process and the sender do not ping a connection as
they check it out (a round trip each: issue 24), so the first statement on a dropped one fails: a page that only
reads is read once more on a new connection, a POST is never done twice (it gets the 503), and the clock's engine
pings (a few jobs a minute), so its next job succeeds (docs/operations.md, "After a PostgreSQL restart").

Only the connections these tests opened are terminated: each test names its own in pg_stat_activity."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from sms_board import create_app
from sms_board.clock.jobs import tick
from sms_board.plumbing.board import Board
from tests.conftest import Database, Runner, app_config
from tests.support.web import sign_in

pytestmark = pytest.mark.postgres_only(reason="a SQLite file has no server to drop its connections")

RUTH = "+447700900001"
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def own_name() -> str:
    return f"sms-board-test-dropped-{uuid.uuid4().hex[:12]}"


def own_config(db: Database, tmp_path, name: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The board as production builds it (its own engines, from DATABASE_URL), on this run's schema, every
    connection named `name`."""
    with db.engine.connect() as connection:
        schema = connection.execute(text("SHOW search_path")).scalar_one()
    url = make_url(db.url).update_query_dict({"options": f"-csearch_path={schema}", "application_name": name})
    config = app_config(db, tmp_path, DATABASE_URL=url.render_as_string(hide_password=False))
    del config["ENGINE"]
    return config


def drop(db: Database, name: str) -> int:
    """What a PostgreSQL restart does to the board's connections, to those named `name` only: each gone
    before this returns (`pg_terminate_backend` waits up to 5 s for it), as after a restart."""
    with db.engine.begin() as connection:
        return connection.execute(text(
            "SELECT count(*) FILTER (WHERE killed) FROM (SELECT pg_terminate_backend(pid, 5000) AS killed "
            "FROM pg_stat_activity WHERE application_name = :name AND pid <> pg_backend_pid()) AS t"),
            {"name": name}).scalar_one()


def test_a_page_is_read_again_once_on_a_new_connection_and_a_post_is_never_done_twice(db, tmp_path, caplog):
    name = own_name()
    app = create_app(own_config(db, tmp_path, name))
    try:
        runner = Runner(app)
        runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
        runner("organiser", "add", RUTH, "elm")
        client = app.test_client()
        sign_in(client, RUTH)
        assert client.get("/dashboard").status_code == 200

        assert drop(db, name) >= 1
        with caplog.at_level(logging.WARNING, logger="sms_board.app"):
            page = client.get("/dashboard")
        assert page.status_code == 200 and "Overview" in page.get_data(as_text=True)
        assert "reading the page again" in caplog.text

        # Signing out is a POST: on a dropped connection it is answered 503 and not done again.
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
        assert drop(db, name) >= 1
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="sms_board.app"):
            refused = client.post("/logout", data={"csrf_token": token})
        assert refused.status_code == 503 and "reading the page again" not in caplog.text
        assert client.get("/dashboard").status_code == 200, "Ruth is still signed in: the POST was not done"
        assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    finally:
        app.extensions["sms_board"].engine.dispose()


def test_the_clocks_next_job_after_a_restart_succeeds_where_an_engine_without_a_ping_fails_one(db, tmp_path):
    name = own_name()
    config = own_config(db, tmp_path, name)
    del config["TESTING"]
    board = Board.load(config, environ={})
    try:
        assert tick(board.clock_sessions, board.settings, NOON)["errors"] == 0
        assert drop(db, name) >= 1
        assert tick(board.clock_sessions, board.settings, NOON + timedelta(minutes=1))["errors"] == 0

        # The same restart, on the web's engine (no ping): its first job fails. What the clock's ping is for.
        assert tick(board.sessions, board.settings, NOON + timedelta(minutes=2))["errors"] == 0
        assert drop(db, name) >= 1
        assert tick(board.sessions, board.settings, NOON + timedelta(minutes=3))["errors"] >= 1
    finally:
        board.engine.dispose()
        board.clock_sessions.kw["bind"].dispose()
