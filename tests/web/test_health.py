"""`/healthz`: anyone may ask whether the board is up; only the operator sees the outbox and the clock.

The outbox backlog moves when a sign-in code is queued, and only an organiser's or an
administrator's number is texted one: shown to anyone, it would tell which numbers sign in.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

from sms_board import create_app
from sms_board.app import configure_logging
from tests.conftest import HEALTH_TOKEN, app_config
from tests.support.web import ask_for_code, operator_health, sign_in

RUTH, ADMIN, NOBODY = "+447700900001", "+447700900002", "+447700900555"
ANONYMOUS = {"ok": True, "database": "ok"}
DETAILS = {"outbox_backlog", "scheduler", "scheduler_heartbeat_age"}


@pytest.fixture
def organisers(areas, runner):
    runner("organiser", "add", RUTH, "elm")
    runner("admin", "add", ADMIN)


def test_asking_for_a_code_changes_nothing_an_anonymous_caller_of_healthz_sees(app, client, organisers):
    before = client.get("/healthz").get_json()
    ask_for_code(app.test_client(), NOBODY)
    after_a_stranger = client.get("/healthz").get_json()
    ask_for_code(app.test_client(), RUTH)
    after_an_organiser = client.get("/healthz")
    assert before == after_a_stranger == after_an_organiser.get_json() == ANONYMOUS
    assert after_an_organiser.status_code == 200
    assert operator_health(client)["outbox_backlog"] == 1, "the operator still sees the code waiting"


def test_the_operator_token_shows_the_backlog_and_the_clock(client):
    answer = client.get("/healthz", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert answer.get_json() == {**ANONYMOUS, "outbox_backlog": 0, "scheduler": "never", "scheduler_heartbeat_age": None}


@pytest.mark.parametrize("header", [f"Bearer {HEALTH_TOKEN}x", "Bearer ", f"Basic {HEALTH_TOKEN}", HEALTH_TOKEN])
def test_a_wrong_token_is_refused_with_one_line(client, header):
    refused = client.get("/healthz", headers={"Authorization": header})
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
    assert refused.get_json() == {"ok": False, "error": "wrong health token: send Authorization: Bearer "
                                                        "<SMS_BOARD_HEALTH_TOKEN>"}


def test_a_token_in_the_query_string_is_refused_and_kept_out_of_the_server_log(app, caplog):
    configure_logging()  # what `sms-board serve` does
    caplog.set_level(logging.INFO)
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz?token={HEALTH_TOKEN}", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert refused.value.code == 400
    assert "Authorization: Bearer" in refused.value.read().decode()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/healthz" in logged and HEALTH_TOKEN not in logged


def test_a_signed_in_administrator_sees_the_details_and_an_organiser_does_not(app, organisers):
    admin, organiser = app.test_client(), app.test_client()
    sign_in(admin, ADMIN)
    sign_in(organiser, RUTH)
    assert set(admin.get("/healthz").get_json()) >= DETAILS
    assert organiser.get("/healthz").get_json() == ANONYMOUS


def test_without_a_token_configured_only_a_signed_in_administrator_sees_the_details(db, tmp_path, organisers):
    untokened = create_app(app_config(db, tmp_path, SMS_BOARD_HEALTH_TOKEN=None))
    anyone, admin = untokened.test_client(), untokened.test_client()
    assert anyone.get("/healthz").get_json() == ANONYMOUS
    refused = anyone.get("/healthz", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"})
    assert refused.status_code == 401
    sign_in(admin, ADMIN)
    assert set(admin.get("/healthz").get_json()) >= DETAILS
