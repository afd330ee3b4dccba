"""Configuration: sensible defaults, and one clear line for every bad value."""

from __future__ import annotations

from datetime import time

import pytest
from click.testing import CliRunner

from sms_board.cli import cli
from sms_board.plumbing.config import ConfigError, load_settings

SUPPRESSION_KEY = "a-stable-suppression-key-0123456789"
TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "x", "SECRET_KEY": "a-production-secret-key",
          "SMS_BOARD_SUPPRESSION_KEY": SUPPRESSION_KEY}


def settings(tmp_path, **env):
    return load_settings(environ={"SMS_BOARD_INSTANCE_PATH": str(tmp_path), **env})


def test_defaults_run_with_no_account_and_no_server(tmp_path):
    s = settings(tmp_path)
    assert s.transport == "console" and s.database_url.startswith("sqlite:///")
    assert s.database_url.endswith("instance/sms_board.db")
    assert (s.default_region, s.timezone, s.rate, s.rate_unit) == ("GB", "Europe/London", 1.0, "message")
    assert (s.quiet_hours.start, s.quiet_hours.end) == (time(21), time(8))
    assert (s.digest_segments, s.digest_time, s.digest_weekday) == (3, time(18), "sun")
    assert s.monthly_segment_cap is None and s.stop_reply is True
    assert (tmp_path / "secret_key").read_text() == s.secret_key, "generated once into the instance folder"
    assert settings(tmp_path).secret_key == s.secret_key


def test_the_suppression_key_is_generated_once_and_never_follows_secret_key(tmp_path):
    fresh = settings(tmp_path)
    assert fresh.suppression_key != fresh.secret_key, "a new board gets a key of its own"
    assert (tmp_path / "suppression_key").read_text() == fresh.suppression_key
    assert settings(tmp_path, SECRET_KEY="rotated-after-a-leak").suppression_key == fresh.suppression_key
    assert fresh.report_hide == 3


def test_a_board_that_was_running_keeps_the_key_its_suppression_hashes_were_made_with(tmp_path):
    (tmp_path / "secret_key").write_text("the-key-forget-used-so-far")
    assert settings(tmp_path).suppression_key == "the-key-forget-used-so-far"
    assert settings(tmp_path, SECRET_KEY="a-new-secret").suppression_key == "the-key-forget-used-so-far"


def test_twilio_reads_the_suppression_key_from_the_environment(tmp_path):
    s = settings(tmp_path, **TWILIO, TWILIO_FROM_NUMBER="+447700900000")
    assert s.suppression_key == SUPPRESSION_KEY and not (tmp_path / "suppression_key").exists()


def development_keys(instance):
    """The keys a console board generated into its instance folder: what a deploy may carry along."""
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "secret_key").write_text("development-secret-key")
    (instance / "suppression_key").write_text("development-suppression-key-0123")


@pytest.mark.parametrize("missing", [["SECRET_KEY"], ["SMS_BOARD_SUPPRESSION_KEY"],
                                     ["SECRET_KEY", "SMS_BOARD_SUPPRESSION_KEY"]])
def test_twilio_never_takes_its_keys_from_the_instance_folder(tmp_path, missing):
    """A host whose disk is replaced at each deploy would change them: FORGET's list and invite codes stop matching."""
    development_keys(tmp_path)
    env = {**TWILIO, "TWILIO_FROM_NUMBER": "+447700900000", **dict.fromkeys(missing, "")}
    with pytest.raises(ConfigError) as caught:
        settings(tmp_path, **env)
    line = str(caught.value)
    assert "\n" not in line
    assert line.startswith(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"), line
    assert "for the console transport" in line and "copy " in line
    # How a board that ran on the development keys carries them over, file by file.
    for name in missing:
        file = tmp_path / {"SECRET_KEY": "secret_key", "SMS_BOARD_SUPPRESSION_KEY": "suppression_key"}[name]
        assert f"{file} into {name}" in line
    assert "development-secret-key" not in line and "development-suppression-key" not in line


def test_twilio_without_a_secret_key_generates_nothing(tmp_path):
    instance = tmp_path / "instance"
    with pytest.raises(ConfigError, match=r"^SECRET_KEY is not set"):
        settings(instance, **{**TWILIO, "SECRET_KEY": ""}, TWILIO_FROM_NUMBER="+447700900000")
    assert not instance.exists(), "no key was written for the next start to pick up silently"


def test_twilio_uses_the_environment_keys_whatever_the_instance_folder_holds(tmp_path):
    development_keys(tmp_path)
    s = settings(tmp_path, **TWILIO, TWILIO_FROM_NUMBER="+447700900000")
    assert (s.secret_key, s.suppression_key) == ("a-production-secret-key", SUPPRESSION_KEY)


def test_the_console_transport_still_reads_the_instance_keys(tmp_path):
    development_keys(tmp_path)
    s = settings(tmp_path)
    assert (s.secret_key, s.suppression_key) == ("development-secret-key", "development-suppression-key-0123")


def test_twilio_credentials_choose_the_twilio_transport(tmp_path):
    s = settings(tmp_path, **TWILIO, TWILIO_FROM_NUMBER="07700 900000")
    assert s.transport == "twilio" and s.twilio_from_number == "+447700900000"


def test_the_health_token_is_read_and_never_shown(tmp_path):
    assert settings(tmp_path).health_token is None
    s = settings(tmp_path, SMS_BOARD_HEALTH_TOKEN=" a-health-token-0123456789 ")
    assert s.health_token == "a-health-token-0123456789" and "a-health-token" not in repr(s)


def test_empty_quiet_hours_turn_them_off(tmp_path):
    assert settings(tmp_path, SMS_BOARD_QUIET_HOURS="").quiet_hours is None


@pytest.mark.parametrize("url", ["http://127.0.0.1:8999", "http://localhost:8999/", "https://twilio-proxy.staging.example"])
def test_the_twilio_api_url_points_the_real_client_elsewhere(tmp_path, url):
    from sms_board.sending.transport import TwilioTransport

    s = settings(tmp_path, **TWILIO, TWILIO_FROM_NUMBER="+447700900000", SMS_BOARD_TWILIO_API_URL=url)
    client = TwilioTransport(s).client
    assert client.api.base_url == url.rstrip("/") == client.messaging.base_url
    assert TwilioTransport(settings(tmp_path, **TWILIO, TWILIO_FROM_NUMBER="+447700900000")
                           ).client.api.base_url == "https://api.twilio.com"


def test_postgres_urls_use_psycopg_3(tmp_path):
    s = settings(tmp_path, DATABASE_URL="postgresql://board@db.internal/board")
    assert s.database_url.startswith("postgresql+psycopg://")


@pytest.mark.parametrize(("env", "message"), [
    ({"TWILIO_ACCOUNT_SID": "AC" + "1" * 32}, "Half the Twilio credentials are set: set TWILIO_AUTH_TOKEN"),
    ({"TWILIO_AUTH_TOKEN": "secret"}, "set TWILIO_ACCOUNT_SID too"),
    ({"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "x"}, "needs TWILIO_FROM_NUMBER or"),
    ({"DATABASE_URL": "not a url"}, "is not a database URL"),
    ({"DATABASE_URL": "mysql://root@localhost/board"}, "supports sqlite and postgresql"),
    ({"SMS_BOARD_DEFAULT_REGION": "XX"}, "is not a region code"),
    ({"SMS_BOARD_TIMEZONE": "Mars/Olympus"}, "is not a known time zone"),
    ({"SMS_BOARD_QUIET_HOURS": "late"}, "write HH:MM-HH:MM"),
    ({"SMS_BOARD_QUIET_HOURS": "25:00-08:00"}, "is not a time of day"),
    ({"SMS_BOARD_RATE": "fast"}, "is not a number"),
    ({"SMS_BOARD_RATE": "0"}, "must be at least"),
    ({"SMS_BOARD_RATE_UNIT": "byte"}, "use message or segment"),
    ({"SMS_BOARD_STOP_REPLY": "maybe"}, "use on or off"),
    ({"SMS_BOARD_TRANSPORT": "pigeon"}, "use console or twilio"),
    ({"SMS_BOARD_DIGEST_WEEKDAY": "someday"}, "is not a weekday"),
    ({"SMS_BOARD_PUBLIC_URL": "board.example.org"}, "must start with https://"),
    ({"SMS_BOARD_TWILIO_API_URL": "http://api.example.org"}, "must be https:// or a loopback http://"),
    ({"SMS_BOARD_TWILIO_API_URL": "ftp://127.0.0.1"}, "must be https:// or a loopback http://"),
    ({"SMS_BOARD_REPORT_HIDE": "many"}, "SMS_BOARD_REPORT_HIDE='many' is not a number"),
    ({"SMS_BOARD_REPORT_HIDE": "0"}, "SMS_BOARD_REPORT_HIDE='0' must be at least 1"),
    ({"SMS_BOARD_SUPPRESSION_KEY": "short"}, "SMS_BOARD_SUPPRESSION_KEY is too short"),
    ({"SMS_BOARD_HEALTH_TOKEN": "short"}, "SMS_BOARD_HEALTH_TOKEN must be at least 16 printable characters"),
    ({"SMS_BOARD_HEALTH_TOKEN": "sixteen chars and a space"}, "SMS_BOARD_HEALTH_TOKEN must be at least 16"),
    ({**TWILIO, "TWILIO_FROM_NUMBER": "+447700900000", "SMS_BOARD_SUPPRESSION_KEY": ""},
     "SMS_BOARD_SUPPRESSION_KEY is not set: the twilio transport reads its keys from the environment only"),
    # The simulator is a way round sign-in: a development board never has a way to real phones.
    ({**TWILIO, "TWILIO_FROM_NUMBER": "+447700900000", "SMS_BOARD_DEVELOPMENT": "on"},
     "SMS_BOARD_DEVELOPMENT=on cannot be used with the twilio transport"),
    ({**TWILIO, "SMS_BOARD_TRANSPORT": "console", "SMS_BOARD_DEVELOPMENT": "on"},
     "SMS_BOARD_DEVELOPMENT=on cannot be used with Twilio credentials"),
    ({"SMS_BOARD_DEVELOPMENT": "sometimes"}, "use on or off"),
    ({"SMS_BOARD_VOICE": "loud"}, "SMS_BOARD_VOICE='loud' is not on/off"),
    ({"SMS_BOARD_CALLS_PER_SECOND": "0"}, "SMS_BOARD_CALLS_PER_SECOND='0' must be at least"),
    ({"SMS_BOARD_CALL_HOURS": "daytime"}, "write HH:MM-HH:MM, e.g. 09:00-20:00"),
    ({"SMS_BOARD_CALL_HOURS": "20:00-09:00"}, "ends before it starts"),
    ({"SMS_BOARD_PRICE_PER_MINUTE": "cheap"}, "SMS_BOARD_PRICE_PER_MINUTE='cheap' is not a number"),
    ({"SMS_BOARD_CALL_MINUTES": "0"}, "SMS_BOARD_CALL_MINUTES='0' must be at least 1"),
    ({"SMS_BOARD_VOICES": "Polly.Amy"}, "is not LANGUAGE=VOICE"),
    ({"SMS_BOARD_LANGUAGES": "cy,en", "SMS_BOARD_VOICES": "cy="}, "is not LANGUAGE=VOICE"),
    ({**TWILIO, "TWILIO_MESSAGING_SERVICE_SID": "MG" + "2" * 32, "SMS_BOARD_VOICE": "on",
      "SMS_BOARD_PUBLIC_URL": "https://board.example.org"}, "SMS_BOARD_VOICE=on needs TWILIO_FROM_NUMBER"),
    ({**TWILIO, "TWILIO_FROM_NUMBER": "+447700900000", "SMS_BOARD_VOICE": "on"},
     "SMS_BOARD_VOICE=on needs SMS_BOARD_PUBLIC_URL"),
])
def test_bad_values_fail_with_one_line_saying_what_to_fix(tmp_path, env, message):
    with pytest.raises(ConfigError) as caught:
        settings(tmp_path, **env)
    text = str(caught.value)
    assert message in text and "\n" not in text


def test_the_cli_prints_the_line_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("SMS_BOARD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/b.db")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["area", "list"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: Half the Twilio credentials are set: set TWILIO_AUTH_TOKEN too, or neither."]
    assert "Traceback" not in result.output


def test_the_wsgi_entry_point_exits_with_the_line(tmp_path, monkeypatch, capsys):
    from sms_board.wsgi import create_app

    monkeypatch.setenv("SMS_BOARD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SMS_BOARD_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SystemExit) as stopped:
        create_app()
    assert stopped.value.code == 3
    assert capsys.readouterr().err.strip() == (
        "sms-board: SMS_BOARD_TIMEZONE='Mars/Olympus' is not a known time zone; use a name such as Europe/London.")


def test_voice_is_off_by_default_and_its_settings_are_read(tmp_path):
    assert settings(tmp_path).voice.enabled is False
    s = settings(tmp_path, SMS_BOARD_VOICE="on", SMS_BOARD_LANGUAGES="cy,en", SMS_BOARD_CALLS_PER_SECOND="2",
                 SMS_BOARD_CALL_HOURS="10:00-19:30", SMS_BOARD_VOICES="en=Polly.Brian", SMS_BOARD_CALL_MINUTES="2")
    assert s.voice.enabled and s.voice.calls_per_second == 2 and s.voice.call_minutes == 2
    assert (s.voice.call_hours.start.hour, s.voice.call_hours.end.minute) == (10, 30)
    assert s.voice.voice_for("en") == ("Polly.Brian", "en-GB")
    assert s.voice.voice_for("cy") == ("Polly.Gwyneth", "cy-GB")
    assert settings(tmp_path, SMS_BOARD_CALL_HOURS="").voice.call_hours is None


def test_a_language_without_a_voice_is_refused_only_when_the_board_places_calls(tmp_path):
    board = settings(tmp_path, SMS_BOARD_LANGUAGES="cy,en", SMS_BOARD_VOICES="cy=Polly.Gwyneth")
    assert board.voice.voices["cy"] == "Polly.Gwyneth"
    voices = {"cy": "Polly.Gwyneth", "en": "Polly.Amy"}
    from sms_board.plumbing.voice_config import parse_voices
    with pytest.raises(ConfigError, match="no voice for xx, a language of this board"):
        parse_voices("", ("cy", "xx"), ConfigError)
    assert parse_voices("", ("cy", "en"), ConfigError) == {**voices, "pl": "Polly.Ewa"}
