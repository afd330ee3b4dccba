"""The board by telephone's settings (docs/voice.md): read with the rest by `load_settings`.

`SMS_BOARD_VOICE` turns calls on (default off: the board then places no call and does not
answer its number). The others take effect only when it is on, and are checked either way, so
a mistake is found when the board starts, not on the first call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time

# Twilio's `<Say>` voices the board uses unless SMS_BOARD_VOICES names others: Amazon Polly's
# neural or standard voices for each language it has a pack for, with the BCP 47 tag `<Say>` takes.
DEFAULT_VOICES: dict[str, str] = {"cy": "Polly.Gwyneth", "en": "Polly.Amy", "pl": "Polly.Ewa"}
SAY_LANGUAGE: dict[str, str] = {"cy": "cy-GB", "en": "en-GB", "pl": "pl-PL"}


@dataclass(frozen=True)
class CallHours:
    """When calls may be placed, on the area's clock: [start, end), never across midnight."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        return self.start <= local < self.end


@dataclass(frozen=True)
class VoiceSettings:
    enabled: bool = False
    calls_per_second: float = 1.0  # Twilio's default for an account: shared by every sender
    call_hours: CallHours | None = CallHours(time(9, 0), time(20, 0))  # None: whenever quiet hours allow
    price_per_minute: float = 0.015
    call_minutes: int = 3  # the most a call's script reads before "press 2 for more"
    voices: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_VOICES))

    def voice_for(self, language: str) -> tuple[str, str]:
        """(the `<Say voice>`, the `<Say language>`) for a language of the board."""
        return self.voices[language], SAY_LANGUAGE.get(language, language)


def parse_call_hours(raw: str, error: type[Exception]) -> CallHours | None:
    from sms_board.plumbing.config import _clock_time

    if not raw.strip():
        return None
    try:
        start, end = raw.split("-")
    except ValueError:
        raise error(f"SMS_BOARD_CALL_HOURS={raw!r} is not a range; write HH:MM-HH:MM, e.g. 09:00-20:00, "
                    "or leave it empty to call whenever quiet hours allow.") from None
    hours = CallHours(_clock_time("SMS_BOARD_CALL_HOURS", start), _clock_time("SMS_BOARD_CALL_HOURS", end))
    if hours.start >= hours.end:
        raise error(f"SMS_BOARD_CALL_HOURS={raw!r} ends before it starts; calls are placed within one day, "
                    "e.g. 09:00-20:00.")
    return hours


def parse_voices(raw: str, languages: tuple[str, ...], error: type[Exception]) -> dict[str, str]:
    """`cy=Polly.Gwyneth,en=Polly.Amy` over the defaults; with voice on, every language of the board needs one
    (pass no languages to check only the form)."""
    voices = dict(DEFAULT_VOICES)
    for part in filter(None, (piece.strip() for piece in raw.split(","))):
        code, sep, voice = part.partition("=")
        if not sep or not code.strip() or not voice.strip():
            raise error(f"SMS_BOARD_VOICES={raw!r}: {part!r} is not LANGUAGE=VOICE; write e.g. "
                        "cy=Polly.Gwyneth,en=Polly.Amy.")
        voices[code.strip().lower()] = voice.strip()
    missing = [code for code in languages if code not in voices]
    if missing:
        raise error(f"SMS_BOARD_VOICES has no voice for {', '.join(missing)}, a language of this board; add e.g. "
                    f"{missing[0]}=Polly.<Name> (Twilio's text-to-speech voices).")
    return voices


def load_voice_settings(env: Mapping[str, str], languages: tuple[str, ...], *, transport: str,
                        public_url: str | None, from_number: str | None) -> VoiceSettings:
    from sms_board.plumbing.config import ConfigError, _bool, _number

    enabled = _bool("SMS_BOARD_VOICE", env.get("SMS_BOARD_VOICE") or "off")
    settings = VoiceSettings(
        enabled=enabled,
        calls_per_second=float(_number("SMS_BOARD_CALLS_PER_SECOND", env.get("SMS_BOARD_CALLS_PER_SECOND") or "1",
                                       float, 0.001)),
        call_hours=parse_call_hours(env.get("SMS_BOARD_CALL_HOURS", "09:00-20:00"), ConfigError),
        price_per_minute=float(_number("SMS_BOARD_PRICE_PER_MINUTE", env.get("SMS_BOARD_PRICE_PER_MINUTE") or "0.015",
                                       float, 0)),
        call_minutes=int(_number("SMS_BOARD_CALL_MINUTES", env.get("SMS_BOARD_CALL_MINUTES") or "3", int, 1)),
        # A language without a voice matters only when the board speaks: a board that places no
        # call may speak a language no text-to-speech voice has.
        voices=parse_voices(env.get("SMS_BOARD_VOICES") or "", languages if enabled else (), ConfigError),
    )
    if enabled and transport == "twilio":
        if not from_number:
            raise ConfigError("SMS_BOARD_VOICE=on needs TWILIO_FROM_NUMBER: calls are placed from, and answered on, "
                              "the board's own number (a Messaging Service cannot place calls).")
        if not public_url:
            raise ConfigError("SMS_BOARD_VOICE=on needs SMS_BOARD_PUBLIC_URL: Twilio fetches each call's script "
                              "from the board.")
    return settings
