"""The operator's command line: what `sms-board` prints, refuses and writes, on a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Runner, app_config, empty_database, migrated_sqlite, session_of
from sqlalchemy import func, select

from sms_board import create_app
from sms_board.models import Organiser, Subscriber

SAM = "+447700900123"
BIN = Path(sys.executable).parent  # the virtualenv running pytest: .venv/bin


def listed(runner: Runner) -> list[dict[str, object]]:
    return json.loads(runner("area", "list", "--json").stdout)


# ── areas ──────────────────────────────────────────────────────────────────


def test_area_add_normalises_slug_and_postcodes_and_says_what_it_added(runner):
    added = runner("area", "add", "ELM", "Elm Street", "--postcode", "se6 1", "--postcode", "SE6 2")
    assert added.stderr == "Added area elm (Elm Street) with postcodes SE6 1, SE6 2.\n"
    assert listed(runner) == [{
        "slug": "elm", "name": "Elm Street", "subscribers": 0, "private": False, "moderation": "open",
        "postcodes": ["SE6 1", "SE6 2"], "timezone": "Europe/London", "public_page": True, "languages": ["en"],
    }]


def test_a_postcode_prefix_serves_one_area_and_a_refused_area_is_not_half_added(runner):
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    refused = runner("area", "add", "oak", "Oak Road", "--postcode", "SE7", "--postcode", "se6 1", ok=False)
    assert refused.exit_code == 1
    assert refused.stderr == "Error: postcode prefix already served by another area: SE6 1\n"
    assert [area["slug"] for area in listed(runner)] == ["elm"]
    runner("area", "add", "oak", "Oak Road", "--postcode", "SE7")  # SE7 was never taken


def test_a_slug_in_use_is_refused_whatever_its_case(runner):
    runner("area", "add", "elm", "Elm Street")
    refused = runner("area", "add", "ELM", "Elm again", ok=False)
    assert refused.exit_code == 1
    assert refused.stderr == "Error: an area with slug 'elm' already exists.\n"
    assert [area["name"] for area in listed(runner)] == ["Elm Street"]


@pytest.mark.parametrize(("args", "blamed", "message"), [
    (["Elm Street!", "Elm"], "SLUG", "use lower-case letters, digits and hyphens, e.g. elm or elm-street."),
    (["elm", "Elm", "--timezone", "Mars/Olympus"], "--timezone",
     "'Mars/Olympus' is not a time zone; use e.g. Europe/London."),
    (["elm", "Elm", "--postcode", "SE6 1AB"], "--postcode",
     "'SE6 1AB' is a full postcode; give the outward code (SE6) or a sector (SE6 1)."),
    (["elm", "Elm", "--postcode", "hello"], "--postcode",
     "'hello' is not a postcode prefix; use an outward code such as SE6, or SE6 1."),
])
def test_area_add_names_the_input_it_refuses_and_adds_nothing(runner, args, blamed, message):
    refused = runner("area", "add", *args, ok=False)
    assert refused.exit_code == 2
    assert refused.stderr.splitlines()[-1] == f"Error: Invalid value for {blamed}: {message}"
    assert listed(runner) == []


def test_area_list_shows_flags_postcodes_and_active_subscribers(runner, phone):
    empty = runner("area", "list")
    assert empty.stdout == "No areas yet. Add one with: sms-board area add SLUG NAME --postcode SE6\n"
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1", "--postcode", "SE6 2")
    runner("area", "add", "tenants", "Tower Tenants", "--private", "--moderation", "all")
    phone(SAM).text("JOIN ELM")
    assert runner("area", "list").stdout.splitlines() == [
        f"{'elm':<16} {'Elm Street':<28} {1:>6} subscriber   [open]  SE6 1 SE6 2",
        f"{'tenants':<16} {'Tower Tenants':<28} {0:>6} subscribers  [private, all]  ",
    ]
    runner("area", "add", "oak", "Oak Road", "--no-public-page")
    assert runner("area", "list").stdout.splitlines()[1] == \
        f"{'oak':<16} {'Oak Road':<28} {0:>6} subscribers  [no public page, open]  "


def test_an_area_without_a_public_page_has_no_board_page_no_home_link_and_no_mention_in_the_welcome(
    runner, client, phone,
):
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1", "--no-public-page")
    runner("area", "add", "oak", "Oak Road", "--postcode", "SE6 3")
    assert client.get("/board/elm").status_code == 404
    assert client.get("/board/oak").status_code == 200
    home = client.get("/").get_data(as_text=True)
    assert "/board/elm" not in home and "/board/oak" in home
    assert "JOIN ELM" in home, "the area is still listed, to join"

    assert phone(SAM).text("JOIN ELM") == ["Welcome to Elm Street board. Text POST <msg> to share, NEED <msg> to ask "
                                           "for help, STOP to stop. Text NAME <first name> to sign your posts."]
    assert phone("+447700900456").text("JOIN OAK") == [
        "Welcome to Oak Road board. Text POST <msg> to share, NEED <msg> to ask for help, STOP to stop. "
        "Your posts appear at board.example.org/board/oak with your first name: text NAME <first name> to give it."]
    assert [a["public_page"] for a in listed(runner)] == [a["slug"] == "oak" for a in listed(runner)]


def test_area_set_turns_a_public_page_off_and_on_and_the_audit_log_says_so(runner, client):
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    off = runner("area", "set", "ELM", "--no-public-page")
    assert off.stderr == "Elm Street has no public page now: /board/elm is gone and welcomes no longer mention it.\n"
    assert client.get("/board/elm").status_code == 404
    on = runner("area", "set", "elm", "--public-page")
    assert on.stderr == "Elm Street has a public page now: anyone can read its posts, with first names, at /board/elm.\n"
    assert client.get("/board/elm").status_code == 200
    assert runner("area", "set", "elm", "--public-page").stderr == "Elm Street already has a public page.\n"

    changes = [(e["action"], e["area"], e["who"], e["channel"], e["detail"])
               for e in json.loads(runner("audit", "--json").stdout) if e["action"] == "area_change"]
    assert changes == [("area_change", "elm", "operator", "cli", {"public_page": False}),
                       ("area_change", "elm", "operator", "cli", {"public_page": True})]

    nothing = runner("area", "set", "elm", ok=False)
    assert nothing.exit_code == 2 and nothing.stderr.splitlines()[-1] == \
        "Error: say what to change: --public-page, --no-public-page or --languages."
    assert runner("area", "set", "nowhere", "--public-page", ok=False).exit_code != 0
    runner("area", "add", "carers", "Foster Carers", "--private")
    private = runner("area", "set", "carers", "--public-page", ok=False)
    assert private.exit_code == 1 and private.stderr == \
        "Error: Foster Carers is private: its posts are for its members, never on a public page.\n"


# ── people ─────────────────────────────────────────────────────────────────


def test_organiser_and_admin_add_are_safe_to_run_twice(areas, runner, app):
    for already in ("now", "already"):
        assert runner("organiser", "add", "07700900123", "ELM").stderr == \
            f"+44 7•••• ••123 is {already} an organiser of Elm Street.\n"
        assert runner("admin", "add", SAM).stderr == f"+44 7•••• ••123 is {already} an administrator.\n"
    with session_of(app) as session:
        person = session.scalar(select(Subscriber).where(Subscriber.phone == SAM))
        assert person is not None and person.is_admin
        assert session.scalar(select(func.count()).select_from(Organiser)) == 1


def test_the_demo_organiser_is_an_administrator_and_the_demo_says_how_to_sign_in(runner, app, client):
    from tests.support.web import sign_in

    for _ in range(2):  # safe to run twice, and says how to sign in both times
        said = runner("demo").stderr
        assert "sign in at /login as Ruth, 07700 900001: organiser of Elm Street and an administrator" in said
    sign_in(client, "+447700900001")
    overview = client.get("/dashboard").get_data(as_text=True)
    assert "You are an administrator" in overview and "Audit log" in overview
    assert client.get("/dashboard/admin").status_code == 200
    assert client.get("/dashboard/admin/audit").status_code == 200


def test_admin_add_refuses_what_is_not_a_number(runner):
    refused = runner("admin", "add", "nope", ok=False)
    assert refused.exit_code == 2
    assert refused.stderr.splitlines()[-1] == \
        "Error: Invalid value for NUMBER: 'nope' is not a phone number; write it as +447700900123."


def test_consent_shows_each_step_and_whether_the_number_may_be_texted(areas, phone, runner):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    sam.text("STOP")
    lines = runner("consent", SAM).stdout.splitlines()
    assert lines[0].startswith(f"{SAM}: opted out since ")
    assert [line.split()[1:] for line in lines[1:]] == [
        ["subscribe", "elm", "via", "sms", '"JOIN', 'ELM"'],
        ["opt_out", "via", "sms", '"STOP"'],
    ]
    history = json.loads(runner("consent", SAM, "--json").stdout)
    assert history["opted_out_at"] == lines[0].removeprefix(f"{SAM}: opted out since ")
    assert [(event["action"], event["area"]) for event in history["events"]] == [("subscribe", "elm"),
                                                                                ("opt_out", None)]


# ── the outbox ─────────────────────────────────────────────────────────────


def test_an_empty_outbox_says_so_on_stderr_and_a_bad_status_is_refused(runner):
    empty = runner("outbox")
    assert (empty.stdout, empty.stderr) == ("", "The outbox is empty.\n")
    assert runner("outbox", "--json").stdout == "[]\n"
    refused = runner("outbox", "--status", "lost", ok=False)
    assert refused.exit_code == 2
    assert refused.stderr.splitlines()[-1] == ("Error: Invalid value for --status: use one of held, queued, "
                                               "sending, sent, delivered, undelivered, failed, unknown, cancelled.")


# ── a database `db upgrade` never reached ──────────────────────────────────


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Runner]]:
    """A board on an empty database: a new SQLite file, or a new PostgreSQL schema."""
    with empty_database(request.param, tmp_path, "empty") as database:
        yield database.backend, Runner(create_app(app_config(database, tmp_path)))


@pytest.mark.parametrize("command", ["tick", "clock", "send", "serve", "area list", "simulate"])
def test_a_command_on_an_unmigrated_database_stops_at_once_with_one_line(unmigrated, command, monkeypatch):
    monkeypatch.setenv("SMS_BOARD_LOG_LEVEL", "WARNING")  # `clock` would turn INFO on for the whole run
    _backend, runner = unmigrated
    args = command.split() + (["+447700900123", "JOIN ELM"] if command == "simulate" else [])
    result = runner(*args, ok=False)
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: the database at ") and line.endswith(
        "is not migrated (no schema yet): run `sms-board db upgrade`.")
    assert result.stdout == ""


# ── simulate: a sender that is no phone number ─────────────────────────────


def test_simulate_from_what_is_no_phone_number_says_so_and_what_became_of_the_text(runner, inbound_rows):
    result = runner("simulate", "notanumber", "HELP")
    assert result.exit_code == 0, "README, Command line: simulate exits 0 whenever the text was stored"
    assert result.stdout == ""
    assert result.stderr == (
        "'notanumber' is not a phone number: write it as +447700900123. The board stored the text and did not "
        "answer it, as it does every text from a sender that is not a phone number (a short code, a name).\n")
    [stored] = inbound_rows()
    assert (stored.from_number, stored.body, stored.status) == ("notanumber", "HELP", "ignored")

    as_json = runner("simulate", "notanumber", "HELP", "--json")
    assert json.loads(as_json.stdout) == {"replies": []}
    assert as_json.stderr.startswith("'notanumber' is not a phone number: write it as +447700900123.")


def test_a_number_that_gets_no_reply_still_says_no_reply(runner, areas):
    runner("simulate", SAM, "JOIN ELM")  # welcome
    for _ in range(3):
        assert runner("simulate", SAM, "JOIN ELM").stdout.startswith("You're already in Elm Street")
    fourth = runner("simulate", SAM, "JOIN ELM")  # loop protection: the same answer a fourth time is withheld
    assert (fourth.stdout, fourth.stderr) == ("", "(no reply)\n")


# ── what a start logs ──────────────────────────────────────────────────────


def test_a_start_at_info_logs_no_alembic_plugin_lines(tmp_path, migrated_sqlite_file):
    """Alembic says "setup plugin …" seven times at INFO as it is imported: in every process, at every start.
    The board is a migrated copy (migrating SQLite in a process takes seconds); `db upgrade` still starts on it."""
    env = {
        "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(tmp_path), "LANG": "C.UTF-8",
        "DATABASE_URL": migrated_sqlite(migrated_sqlite_file, tmp_path / "board.db"),
        "SMS_BOARD_INSTANCE_PATH": str(tmp_path / "instance"), "SMS_BOARD_LOG_LEVEL": "INFO",
    }

    def sms_board(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(BIN / "sms-board"), *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return done

    for command in (["db", "upgrade"], ["send"], ["tick"], ["area", "list"]):
        logged = sms_board(*command).stderr
        assert "alembic.runtime.plugins" not in logged, f"sms-board {' '.join(command)}:\n{logged}"
