"""The clock: one at a time, `tick` does what it does each minute, `/healthz` shows its heartbeat,
and `twilio check` reads and fixes the number's webhook (against a local fake Twilio)."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from werkzeug import Request, Response

from sms_board import create_app
from sms_board.app import board_of
from sms_board.clock.jobs import DUE_JOBS, DueJob
from sms_board.clock.scheduler import ClockLocked, build_scheduler, clock_lock
from sms_board.models import Heartbeat, Outbox
from sms_board.plumbing.config import load_settings
from sms_board.plumbing.db import make_engine
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, BOARD_NUMBER, Runner, app_config, session_of
from tests.support.web import operator_health

RUTH, SAM = "+447700900001", "+447700900123"
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def settings_of(app):  # type: ignore[no-untyped-def]
    return board_of(app).settings


def test_a_second_clock_is_refused_with_a_clear_message(app, runner):
    with clock_lock(board_of(app).engine, settings_of(app)):
        result = runner("clock", ok=False)
    assert result.exit_code == 1
    assert "another clock is already running" in result.output
    assert "only one clock may run at a time" in result.output


def test_the_lock_is_free_again_once_a_clock_stops(app):
    engine, settings = board_of(app).engine, settings_of(app)
    with clock_lock(engine, settings), pytest.raises(ClockLocked), clock_lock(engine, settings):
        pass
    with clock_lock(engine, settings):
        pass


def test_a_second_board_on_another_sqlite_database_from_the_same_folder_runs_its_own_clock(tmp_path):
    settings = load_settings({"SMS_BOARD_INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "s"}, environ={})
    elm, oak = (make_engine(f"sqlite:///{tmp_path / name}") for name in ("elm.db", "oak.db"))

    elm_again = make_engine(f"sqlite:///{tmp_path / 'elm.db'}")

    # Both clocks run; another on the same database is still refused, naming the lock beside it.
    with (clock_lock(elm, settings), clock_lock(oak, settings),
          pytest.raises(ClockLocked, match=r"elm\.db\.clock\.lock"), clock_lock(elm_again, settings)):
        pass
    assert not (tmp_path / "instance" / "clock.lock").exists()


def test_the_clock_log_holds_what_it_did_not_two_apscheduler_lines_a_minute(app, caplog):
    logging.getLogger("apscheduler").setLevel(logging.NOTSET)  # as a fresh `sms-board clock` process
    caplog.set_level(logging.INFO)  # `sms-board clock` logs at INFO
    scheduler = build_scheduler(board_of(app).sessions, settings_of(app))
    scheduler.add_listener(
        lambda _event: threading.Thread(target=scheduler.shutdown, kwargs={"wait": False}).start(),
        EVENT_JOB_EXECUTED | EVENT_JOB_ERROR,
    )
    running = threading.Thread(target=scheduler.start)
    running.start()
    running.join(timeout=30)

    assert not running.is_alive()
    with session_of(app) as session:
        assert session.get(Heartbeat, "clock") is not None  # the tick ran
    chatter = [r.getMessage() for r in caplog.records if r.name.startswith("apscheduler") and r.levelno < logging.WARNING]
    assert chatter == []


def test_the_clock_job_is_a_tick_every_minute(app, clock):
    scheduler = build_scheduler(board_of(app).sessions, settings_of(app))
    job = scheduler.get_job("tick")
    minute = NOON + timedelta(minutes=1)
    assert job.trigger.get_next_fire_time(None, NOON + timedelta(seconds=10)) == minute
    assert job.trigger.get_next_fire_time(minute, minute + timedelta(seconds=1)) == minute + timedelta(minutes=1)
    job.func()
    with session_of(app) as session:
        beat = session.get(Heartbeat, "clock")
    assert beat is not None and beat.beat_at == NOON
    assert beat.detail["counts"]["errors"] == 0


def test_tick_runs_every_due_job_and_prints_counts(areas, runner, phone, clock):
    runner("organiser", "add", RUTH, "elm")
    ruth, sam = phone(RUTH), phone(SAM)
    ruth.text("JOIN ELM")
    sam.text("JOIN ELM")
    ruth.text("BROADCAST Litter pick on Sunday at 10")
    ruth.text("YES")

    printed = runner("tick").stdout.splitlines()
    assert "broadcast_texts: 1" in printed and "errors: 0" in printed
    names = [line.split(":")[0] for line in printed]
    ours = ["drafts_lapsed", "broadcasts_started", "broadcast_texts", "broadcasts_paused",
            "digest_runs", "digest_texts", "digests_paused", "quiet_hours_held", "held_released", "campaigns_done",
            "errors"]
    assert [name for name in names if name in ours] == ours  # in job order; other features add their own
    again = json.loads(runner("tick", "--json").stdout)
    assert again["broadcast_texts"] == 0 and again["errors"] == 0
    assert [row.to_number for row in sam.received()] == [SAM]


def test_a_failing_job_does_not_stop_the_others_and_tick_says_so(app, runner, clock):
    def broken(factory, settings, now):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug in some feature's job")

    with DUE_JOBS.temporarily("broken_feature", DueJob("broken_feature", 1, broken)):
        result = runner("tick", ok=False)
    assert result.exit_code == 1
    assert "errors: 1" in result.stdout and "held_released: 0" in result.stdout


def test_restarting_the_clock_repeats_nothing(areas, runner, phone, app, clock):
    runner("organiser", "add", RUTH, "elm")
    phone(SAM).text("JOIN ELM")
    phone(RUTH).text("JOIN ELM")
    phone(RUTH).text("BROADCAST Road closed on Thursday")
    phone(RUTH).text("YES")
    for _ in range(3):  # three clocks in turn, each stopped after one minute
        build_scheduler(board_of(app).sessions, settings_of(app)).get_job("tick").func()
        clock.shift(timedelta(seconds=20))
    with session_of(app) as session:
        assert len(list(session.scalars(select(Outbox).where(Outbox.kind == "broadcast")))) == 1


def test_healthz_reports_the_clock_heartbeat_age(app, client, runner, clock):
    assert operator_health(client)["scheduler"] == "never"
    runner("tick")
    clock.shift(timedelta(seconds=90))
    health = operator_health(client)
    assert health["ok"] is True
    assert (health["scheduler"], health["scheduler_heartbeat_age"]) == ("ok", 90)
    clock.shift(timedelta(minutes=10))
    health = operator_health(client)
    assert (health["scheduler"], health["scheduler_heartbeat_age"]) == ("late", 690)


# ── twilio check ────────────────────────────────────────────────────────────

ACCOUNT_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}"
NUMBER_SID = "PN" + "1" * 32


class FakeNumbers:
    """The slice of Twilio's API that `twilio check` uses, served locally."""

    def __init__(self, server: HTTPServer, sms_url: str | None) -> None:
        self.number = {
            "sid": NUMBER_SID, "account_sid": ACCOUNT_SID, "phone_number": BOARD_NUMBER,
            "friendly_name": "Board", "sms_url": sms_url, "sms_method": "POST",
            "status_callback": "", "status_callback_method": "POST",
        }
        self.updates: list[dict[str, str]] = []
        server.expect_request(f"{ACCOUNT_PATH}.json", method="GET").respond_with_json(
            {"sid": ACCOUNT_SID, "friendly_name": "Elm Street board", "status": "active"})
        server.expect_request(f"{ACCOUNT_PATH}/IncomingPhoneNumbers.json", method="GET").respond_with_handler(self.list)
        server.expect_request(f"{ACCOUNT_PATH}/IncomingPhoneNumbers/{NUMBER_SID}.json",
                              method="POST").respond_with_handler(self.update)

    def list(self, request: Request) -> Response:
        found = [self.number] if request.args.get("PhoneNumber") == BOARD_NUMBER else []
        return Response(json.dumps({"incoming_phone_numbers": found, "next_page_uri": None, "page": 0}),
                        content_type="application/json")

    def update(self, request: Request) -> Response:
        self.updates.append(request.form.to_dict())
        self.number.update({"sms_url": request.form["SmsUrl"], "sms_method": request.form["SmsMethod"]})
        return Response(json.dumps(self.number), content_type="application/json")


@pytest.fixture
def twilio_app(db, tmp_path, httpserver: HTTPServer):  # type: ignore[no-untyped-def]
    app = create_app(app_config(db, tmp_path))
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=TwilioHttpClient(timeout=2))
    client.api.base_url = httpserver.url_for("").rstrip("/")
    board_of(app).twilio_client = client
    return app


def test_twilio_check_says_when_the_number_points_at_the_board(twilio_app, httpserver):
    FakeNumbers(httpserver, sms_url="https://board.example.org/sms/inbound")


    result = Runner(twilio_app)("twilio", "check")
    assert "ok  Account 'Elm Street board' is active." in result.stdout
    assert f"ok  Incoming texts to {BOARD_NUMBER} go to https://board.example.org/sms/inbound (POST)." in result.stdout
    assert "/sms/status" in result.stdout


def test_twilio_check_finds_a_wrong_url_and_fix_points_it_at_the_board(twilio_app, httpserver):
    fake = FakeNumbers(httpserver, sms_url="https://demo.twilio.com/welcome/sms/reply")


    runner = Runner(twilio_app)
    wrong = runner("twilio", "check", ok=False)
    assert wrong.exit_code == 1
    assert "NO  Incoming texts to +447700900000 go to https://demo.twilio.com/welcome/sms/reply" in wrong.stdout
    assert fake.updates == []

    fixed = runner("twilio", "check", "--fix")
    assert "Fixed: incoming texts to +447700900000 now go to https://board.example.org/sms/inbound" in fixed.stdout
    assert fake.updates == [{"SmsUrl": "https://board.example.org/sms/inbound", "SmsMethod": "POST"}]
    assert runner("twilio", "check").exit_code == 0


def test_twilio_check_reports_refused_credentials(twilio_app, httpserver):
    httpserver.expect_request(f"{ACCOUNT_PATH}.json").respond_with_json(
        {"code": 20003, "message": "Authenticate", "status": 401}, status=401)


    result = Runner(twilio_app)("twilio", "check", ok=False)
    assert result.exit_code == 1
    assert "Twilio refused the credentials (HTTP 401, code 20003)" in result.stdout


def test_twilio_check_without_credentials_explains(db, tmp_path):
    app = create_app(app_config(db, tmp_path, TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None))


    result = Runner(app)("twilio", "check", ok=False)
    assert "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set" in result.output
