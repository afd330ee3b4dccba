"""Configuration from the environment (and a `.env` file in development).

Every setting is parsed and checked once, at start, into a frozen `Settings`.
A bad value raises `ConfigError` with one line that says what to fix; the CLI
and the WSGI entry point print that line instead of a traceback.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from sms_board.plumbing.voice_config import VoiceSettings, load_voice_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message is one line for the operator."""


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True)
class Settings:
    database_url: str
    instance_path: Path
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    transport: str = "console"
    public_url: str | None = None
    default_region: str = "GB"
    timezone: str = "Europe/London"
    quiet_hours: QuietHours | None = None
    rate: float = 1.0
    rate_unit: str = "message"
    sender_concurrency: int = 4
    digest_segments: int = 3
    digest_time: time = time(18, 0)
    digest_weekday: str = "sun"
    price_per_segment: float = 0.04
    monthly_segment_cap: int | None = None
    stop_reply: bool = True
    retention_days: int = 365
    max_replies_per_hour: int = 30
    request_remind_days: int = 7
    request_expire_days: int = 14
    report_hide: int = 3
    # SMS_BOARD_REPORT_INCLUDE_ORGANISERS=on: the monthly report's people counts include organisers and administrators.
    report_include_organisers: bool = False
    # Trusted helpers (docs/helpers.md): how many one resident may have, and how many one person may help.
    helpers_per_resident: int = 2
    residents_per_helper: int = 5
    secret_key: str = field(default="", repr=False)
    # Keys the FORGET suppression hashes; never rotated with SECRET_KEY, or the list would empty.
    suppression_key: str = field(default="", repr=False)
    # SMS_BOARD_DEVELOPMENT=on: "this is a development board", refused at start unless it is one.
    development: bool = False
    twilio_api_url: str | None = None  # tests and staging: where the twilio client sends
    proxy_hops: int = 0  # reverse proxies in front of the web app whose X-Forwarded-* to trust
    # The operator's bearer token for `/healthz`'s outbox backlog and clock heartbeat.
    health_token: str | None = field(default=None, repr=False)
    # The languages the board speaks, its first language first (SMS_BOARD_LANGUAGES=cy,en).
    languages: tuple[str, ...] = ("en",)
    # The board by telephone (plumbing/voice_config.py, docs/voice.md): off unless SMS_BOARD_VOICE=on.
    voice: VoiceSettings = field(default_factory=VoiceSettings)

    @property
    def first_language(self) -> str:
        return self.languages[0]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def board_number(self) -> str | None:
        return self.twilio_from_number

    @property
    def simulator_allowed(self) -> bool:
        """A development board: the console transport and no Twilio credentials.

        The simulator texts the board as any number and shows any number's thread (sign-in
        codes included) without signing in. Credentials mean Twilio's webhooks can reach the
        board (a staging set-up) or its texts can reach real phones: no simulator there.
        """
        return self.transport == "console" and not (self.twilio_account_sid or self.twilio_auth_token)


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "on", "true", "yes"}:
        return True
    if value in {"0", "off", "false", "no"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not on/off; use on or off.")


def _number(name: str, raw: str, kind: type, minimum: float) -> float | int:
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number; set e.g. {name}={kind(minimum) or 1}.") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}.")
    return value


def _clock_time(name: str, raw: str) -> time:
    try:
        hours, minutes = raw.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a time of day; write it as HH:MM, e.g. 18:00.") from None


def parse_quiet_hours(raw: str) -> QuietHours | None:
    if not raw.strip():
        return None
    try:
        start, end = raw.split("-")
    except ValueError:
        raise ConfigError(
            f"SMS_BOARD_QUIET_HOURS={raw!r} is not a range; write HH:MM-HH:MM, e.g. 21:00-08:00, "
            "or leave it empty to turn quiet hours off."
        ) from None
    return QuietHours(_clock_time("SMS_BOARD_QUIET_HOURS", start), _clock_time("SMS_BOARD_QUIET_HOURS", end))


def _zone(name: str, raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name}={raw!r} is not a known time zone; use a name such as Europe/London.") from None
    return raw


def _database_url(raw: str, instance_path: Path) -> str:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            f"DATABASE_URL={raw!r} is not a database URL; use e.g. sqlite:///instance/sms_board.db "
            "or postgresql+psycopg://user@host/dbname."
        ) from None
    backend = url.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise ConfigError(f"DATABASE_URL uses {backend!r}; sms-board supports sqlite and postgresql.")
    if backend == "postgresql" and url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if not path.is_absolute():
            # Relative SQLite paths are relative to the project, not the shell's cwd,
            # so `sms-board` finds the same file from anywhere.
            path = PROJECT_ROOT / path
        url = url.set(database=str(path))
    return url.render_as_string(hide_password=False)


_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _twilio_api_url(raw: str) -> str | None:
    """SMS_BOARD_TWILIO_API_URL: a fake Twilio on this machine, or a staging proxy over https."""
    from urllib.parse import urlsplit

    raw = raw.strip().rstrip("/")
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme == "https" and parts.hostname:
        return raw
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        return raw
    raise ConfigError(
        f"SMS_BOARD_TWILIO_API_URL={raw!r} must be https:// or a loopback http:// address "
        "(e.g. http://127.0.0.1:8999 for a fake Twilio); leave it unset to use Twilio itself."
    )


def _key_file(path: Path, value: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value)
    path.chmod(0o600)
    return value


def _secret_key(env: Mapping[str, str], instance_path: Path) -> tuple[str, bool]:
    """SECRET_KEY, and whether it was in use before this start (False: generated just now)."""
    if env.get("SECRET_KEY"):
        return env["SECRET_KEY"], True
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip(), True
    return _key_file(key_file, secrets.token_hex(32)), False


MIN_SUPPRESSION_KEY = 16
# The keys a development board keeps in its instance folder, and the variable each one stands for.
_INSTANCE_KEYS = {"SECRET_KEY": "secret_key", "SMS_BOARD_SUPPRESSION_KEY": "suppression_key"}


def _require_production_keys(env: Mapping[str, str], instance_path: Path) -> None:
    """The twilio transport takes its keys from the environment only, never from the instance folder.

    A host whose disk is replaced at each deploy would lose or regenerate those files, and with
    them the FORGET list (its hashes stop matching) and every invite code and sign-in hash.
    A board that ran on the development keys carries them over by copying the files' contents.
    """
    missing = [name for name in _INSTANCE_KEYS if not (env.get(name) or "").strip()]
    if not missing:
        return
    copies = " and ".join(f"{instance_path / _INSTANCE_KEYS[name]} into {name}" for name in missing)
    before = (" (no such file on a board that has used FORGET: the SECRET_KEY it ran with)"
              if "SMS_BOARD_SUPPRESSION_KEY" in missing else "")
    raise ConfigError(
        f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: the twilio transport reads its "
        f"keys from the environment only (the files in {instance_path} are for the console transport). A board that "
        f"ran with those files: copy {copies}{before}, or invite codes and the FORGET list stop working; a new "
        "board: set each to the output of openssl rand -hex 32.")


def _suppression_key(env: Mapping[str, str], instance_path: Path, secret_key: str, *, existing_board: bool) -> str:
    """SMS_BOARD_SUPPRESSION_KEY: its own stable key, so that rotating SECRET_KEY keeps the FORGET list.

    In development it is generated once into the instance folder. A board that was already
    running keeps the key its suppression hashes were made with, SECRET_KEY's value at that
    moment (hashes cannot be recomputed: the numbers are gone); a new board gets a random key.
    The twilio transport never reaches the instance folder (`_require_production_keys`).
    """
    raw = (env.get("SMS_BOARD_SUPPRESSION_KEY") or "").strip()
    if raw:
        if len(raw) < MIN_SUPPRESSION_KEY:
            raise ConfigError(f"SMS_BOARD_SUPPRESSION_KEY is too short; use at least {MIN_SUPPRESSION_KEY} "
                              "random characters (e.g. the output of: openssl rand -hex 32).")
        return raw
    key_file = instance_path / "suppression_key"
    if key_file.exists() and key_file.read_text().strip():
        return key_file.read_text().strip()
    return _key_file(key_file, secret_key if existing_board else secrets.token_hex(32))


MIN_HEALTH_TOKEN = 16


def _health_token(raw: str) -> str | None:
    """SMS_BOARD_HEALTH_TOKEN: unset, only a signed-in administrator sees `/healthz`'s details."""
    raw = raw.strip()
    if not raw:
        return None
    if len(raw) < MIN_HEALTH_TOKEN or not raw.isascii() or not raw.isprintable() or " " in raw:
        raise ConfigError(f"SMS_BOARD_HEALTH_TOKEN must be at least {MIN_HEALTH_TOKEN} printable characters "
                          "without spaces (e.g. the output of: openssl rand -hex 32).")
    return raw


@dataclass(frozen=True)
class _TwilioAccount:
    sid: str | None
    token: str | None = field(repr=False)
    from_number: str | None
    service_sid: str | None
    transport: str


def _twilio_account(env: Mapping[str, str], region: str) -> _TwilioAccount:
    """The Twilio credentials and sender, checked together: half of them is a mistake."""
    sid = env.get("TWILIO_ACCOUNT_SID") or None
    token = env.get("TWILIO_AUTH_TOKEN") or None
    if bool(sid) != bool(token):
        missing = "TWILIO_AUTH_TOKEN" if sid else "TWILIO_ACCOUNT_SID"
        raise ConfigError(f"Half the Twilio credentials are set: set {missing} too, or neither.")
    if sid and not sid.startswith("AC"):
        raise ConfigError("TWILIO_ACCOUNT_SID should start with AC; copy it from the Twilio console.")

    from_number = env.get("TWILIO_FROM_NUMBER") or None
    if from_number:
        try:
            parsed = phonenumbers.parse(from_number, region)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is None or not phonenumbers.is_possible_number(parsed):
            raise ConfigError(f"TWILIO_FROM_NUMBER={from_number!r} is not a phone number; write it as +447700900000.")
        from_number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    service_sid = env.get("TWILIO_MESSAGING_SERVICE_SID") or None
    if service_sid and not service_sid.startswith("MG"):
        raise ConfigError("TWILIO_MESSAGING_SERVICE_SID should start with MG.")

    transport = (env.get("SMS_BOARD_TRANSPORT") or ("twilio" if sid else "console")).lower()
    if transport not in {"console", "twilio"}:
        raise ConfigError(f"SMS_BOARD_TRANSPORT={transport!r} is unknown; use console or twilio.")
    if transport == "twilio":
        if not sid:
            raise ConfigError("SMS_BOARD_TRANSPORT=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
        if not (from_number or service_sid):
            raise ConfigError("Twilio sending needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID.")
    return _TwilioAccount(sid, token, from_number, service_sid, transport)


def load_settings(overrides: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `environ` (default: the process environment) and `overrides`.

    `overrides` uses the environment variable names (`DATABASE_URL`, `SMS_BOARD_RATE`, …)
    and wins over the environment; tests and the app factory pass it.
    """
    env: dict[str, str] = dict(os.environ if environ is None else environ)
    for key, value in (overrides or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)

    instance_path = Path(env.get("SMS_BOARD_INSTANCE_PATH") or PROJECT_ROOT / "instance")
    database_url = _database_url(env.get("DATABASE_URL") or "sqlite:///instance/sms_board.db", instance_path)

    region = (env.get("SMS_BOARD_DEFAULT_REGION") or "GB").upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"SMS_BOARD_DEFAULT_REGION={region!r} is not a region code; use e.g. GB or US.")

    twilio = _twilio_account(env, region)
    sid, token, from_number, service_sid, transport = (
        twilio.sid, twilio.token, twilio.from_number, twilio.service_sid, twilio.transport)

    public_url = (env.get("SMS_BOARD_PUBLIC_URL") or "").rstrip("/") or None
    if public_url and not public_url.startswith(("http://", "https://")):
        raise ConfigError(f"SMS_BOARD_PUBLIC_URL={public_url!r} must start with https:// (or http://).")

    twilio_api_url = _twilio_api_url(env.get("SMS_BOARD_TWILIO_API_URL") or "")
    languages = parse_languages("SMS_BOARD_LANGUAGES", env.get("SMS_BOARD_LANGUAGES") or "en")

    rate_unit = (env.get("SMS_BOARD_RATE_UNIT") or "message").lower()
    if rate_unit not in {"message", "segment"}:
        raise ConfigError(f"SMS_BOARD_RATE_UNIT={rate_unit!r} is unknown; use message or segment.")
    weekday = (env.get("SMS_BOARD_DIGEST_WEEKDAY") or "sun").lower()[:3]
    if weekday not in WEEKDAYS:
        raise ConfigError(f"SMS_BOARD_DIGEST_WEEKDAY={weekday!r} is not a weekday; use mon … sun.")

    cap_raw = (env.get("SMS_BOARD_MONTHLY_SEGMENT_CAP") or "off").strip().lower()
    cap = None if cap_raw in {"", "off", "0", "none"} else int(_number("SMS_BOARD_MONTHLY_SEGMENT_CAP", cap_raw, int, 1))
    if transport == "twilio":
        _require_production_keys(env, instance_path)
    secret_key, existing_board = _secret_key(env, instance_path)

    settings = Settings(
        database_url=database_url,
        instance_path=instance_path,
        twilio_account_sid=sid,
        twilio_auth_token=token,
        twilio_from_number=from_number,
        twilio_messaging_service_sid=service_sid,
        transport=transport,
        public_url=public_url,
        default_region=region,
        timezone=_zone("SMS_BOARD_TIMEZONE", env.get("SMS_BOARD_TIMEZONE") or "Europe/London"),
        quiet_hours=parse_quiet_hours(env.get("SMS_BOARD_QUIET_HOURS", "21:00-08:00")),
        rate=float(_number("SMS_BOARD_RATE", env.get("SMS_BOARD_RATE") or "1", float, 0.001)),
        rate_unit=rate_unit,
        sender_concurrency=int(_number("SMS_BOARD_SENDER_CONCURRENCY", env.get("SMS_BOARD_SENDER_CONCURRENCY") or "4", int, 1)),
        digest_segments=int(_number("SMS_BOARD_DIGEST_SEGMENTS", env.get("SMS_BOARD_DIGEST_SEGMENTS") or "3", int, 1)),
        digest_time=_clock_time("SMS_BOARD_DIGEST_TIME", env.get("SMS_BOARD_DIGEST_TIME") or "18:00"),
        digest_weekday=weekday,
        price_per_segment=float(_number("SMS_BOARD_PRICE_PER_SEGMENT", env.get("SMS_BOARD_PRICE_PER_SEGMENT") or "0.04", float, 0)),
        monthly_segment_cap=cap,
        stop_reply=_bool("SMS_BOARD_STOP_REPLY", env.get("SMS_BOARD_STOP_REPLY") or "on"),
        retention_days=int(_number("SMS_BOARD_RETENTION_DAYS", env.get("SMS_BOARD_RETENTION_DAYS") or "365", int, 1)),
        max_replies_per_hour=int(_number("SMS_BOARD_MAX_REPLIES_PER_HOUR", env.get("SMS_BOARD_MAX_REPLIES_PER_HOUR") or "30", int, 1)),
        request_remind_days=int(_number("SMS_BOARD_REQUEST_REMIND_DAYS", env.get("SMS_BOARD_REQUEST_REMIND_DAYS") or "7", int, 1)),
        request_expire_days=int(_number("SMS_BOARD_REQUEST_EXPIRE_DAYS", env.get("SMS_BOARD_REQUEST_EXPIRE_DAYS") or "14", int, 1)),
        report_hide=int(_number("SMS_BOARD_REPORT_HIDE", env.get("SMS_BOARD_REPORT_HIDE") or "3", int, 1)),
        report_include_organisers=_bool("SMS_BOARD_REPORT_INCLUDE_ORGANISERS",
                                        env.get("SMS_BOARD_REPORT_INCLUDE_ORGANISERS") or "off"),
        helpers_per_resident=int(_number("SMS_BOARD_HELPERS_PER_RESIDENT",
                                         env.get("SMS_BOARD_HELPERS_PER_RESIDENT") or "2", int, 1)),
        residents_per_helper=int(_number("SMS_BOARD_RESIDENTS_PER_HELPER",
                                         env.get("SMS_BOARD_RESIDENTS_PER_HELPER") or "5", int, 1)),
        secret_key=secret_key,
        suppression_key=_suppression_key(env, instance_path, secret_key, existing_board=existing_board),
        development=_bool("SMS_BOARD_DEVELOPMENT", env.get("SMS_BOARD_DEVELOPMENT") or "off"),
        twilio_api_url=twilio_api_url,
        proxy_hops=int(_number("SMS_BOARD_PROXY_HOPS", env.get("SMS_BOARD_PROXY_HOPS") or "0", int, 0)),
        health_token=_health_token(env.get("SMS_BOARD_HEALTH_TOKEN") or ""),
        languages=languages,
        voice=load_voice_settings(env, languages, transport=transport, public_url=public_url, from_number=from_number),
    )
    _development_only_offline(settings)
    return settings


def parse_languages(name: str, raw: str) -> tuple[str, ...]:
    """`cy,en` → ("cy", "en"): each a language with a pack in translations/, none twice, the first the board's first."""
    from sms_board.text import languages

    codes = [code.strip().lower() for code in raw.split(",") if code.strip()]
    if not codes:
        raise ConfigError(f"{name} is empty; name at least one language, e.g. en or cy,en.")
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise ConfigError(f"{name}={raw!r} names {', '.join(duplicates)} twice.")
    unknown = [code for code in codes if code not in languages.available()]
    if unknown:
        raise ConfigError(f"{name}={raw!r}: no language pack for {', '.join(unknown)}; this board has packs for "
                          f"{', '.join(languages.available())} (translations/).")
    return tuple(codes)


def _development_only_offline(settings: Settings) -> None:
    """SMS_BOARD_DEVELOPMENT=on says "a development board": refused where the board could text real phones."""
    if not settings.development or settings.simulator_allowed:
        return
    if settings.transport == "twilio":
        raise ConfigError("SMS_BOARD_DEVELOPMENT=on cannot be used with the twilio transport: its texts reach real "
                          "phones. Turn it off (the simulator exists only on the console transport without Twilio "
                          "credentials).")
    raise ConfigError("SMS_BOARD_DEVELOPMENT=on cannot be used with Twilio credentials set: the simulator exists only "
                      "without them. Unset TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or turn it off.")
