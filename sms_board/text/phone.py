"""Phone numbers: E.164 normalisation and masking.

A sender is answered only when it is a *possible* full number. `is_valid_number`
is deliberately not used for senders: it rejects Ofcom's drama range (+44 7700 900xxx),
which demos and tests use so that no real person is ever texted. A number an organiser
types into a list (an import) is held to more (`why_not_textable`): valid for its
country and able to receive texts, with the drama range as the one stated exception.
A landline (`is_landline`) cannot take texts but can hear the board by telephone (docs/voice.md).
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from sms_board.text.phrases import phrase

# The last digits a masked number still shows (`mask`): all an organiser may search by.
SHOWN_DIGITS = 3


def normalise(raw: str | None, region: str = "GB") -> str | None:
    """E.164 for a possible phone number, else None (short codes, alphanumeric IDs, garbage)."""
    return _normalised(raw, region) if raw else None


# A webhook asks several times about the same number; parsing it is the slow part.
@lru_cache(maxsize=8192)
def _normalised(raw: str, region: str) -> str | None:
    text = raw.strip()
    if not any(ch.isdigit() for ch in text):
        return None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    # LOCAL_ONLY is how short codes (5–6 digits) parse: possible to dial locally, never a full number.
    if phonenumbers.is_possible_number_with_reason(parsed) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def not_a_number(raw: str) -> str:
    """How the simulator and `sms-board simulate` tell someone trying the board that FROM is no number."""
    return phrase("%(raw)r is not a phone number: write it as +447700900123", raw=raw)


# The number a board without one shows (the simulator's "To", a demo poster): Ofcom's drama range, no one's.
DEMO_BOARD_NUMBER = "+447700900000"


def display_number(number: str | None, region: str) -> str | None:
    """The board's number as residents dial it (`07700 900000` in the UK): national at home, else international."""
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return number
    # Not `region_code_for_number`: it finds no region for Ofcom's drama range, which demos use.
    if region in phonenumbers.region_codes_for_country_code(parsed.country_code):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# Ofcom's mobile drama range, 07700 900000-900999: never anyone's phone, so the demo and the tests
# use it, though libphonenumber calls it invalid. Nothing either side of it is let through.
DRAMA_MOBILES = range(447700900000, 447700900999 + 1)

# What libphonenumber can tell about a valid number that no text reaches, in words for the organiser.
_NOT_FOR_TEXTS = {
    phonenumbers.PhoneNumberType.FIXED_LINE:
        phrase("a landline, which cannot receive texts"),
    phonenumbers.PhoneNumberType.TOLL_FREE: phrase("a freephone number, which cannot receive texts"),
    phonenumbers.PhoneNumberType.PREMIUM_RATE: phrase("a premium-rate number, which cannot receive texts"),
    phonenumbers.PhoneNumberType.SHARED_COST: phrase("a shared-cost number, which cannot receive texts"),
    phonenumbers.PhoneNumberType.UAN: phrase("a company's switchboard number, which cannot receive texts"),
    phonenumbers.PhoneNumberType.VOICEMAIL: phrase("a voicemail number, which cannot receive texts"),
    phonenumbers.PhoneNumberType.PAGER: phrase("a pager number, which cannot receive texts"),
}
# How the board names a country in a refusal; others by their region code.
_COUNTRY_NAMES = {"GB": "UK"}


def why_not_textable(number: str) -> str | None:
    """Why an E.164 number (from `normalise`) cannot be a resident's phone, or None when it can.

    Mobiles, and numbers libphonenumber cannot tell from a mobile (North America), VoIP and
    personal numbers are textable; an unallocated number and any kind listed above are not.
    """
    parsed = phonenumbers.parse(number, None)
    if int(number.lstrip("+")) in DRAMA_MOBILES:
        return None
    if not phonenumbers.is_valid_number(parsed):
        region = phonenumbers.region_code_for_country_code(parsed.country_code)
        return phrase("not a valid %(country)s number: is a digit missing or one too many?",
                      country=_COUNTRY_NAMES.get(region, region))
    return _NOT_FOR_TEXTS.get(phonenumbers.number_type(parsed))


def is_landline(number: str) -> bool:
    """Whether an E.164 number is a landline: the one place the board decides it (docs/voice.md).

    libphonenumber's FIXED_LINE only; FIXED_LINE_OR_MOBILE (a country whose numbers do not tell,
    such as the US) counts as a mobile, so such a number is texted as it always was.
    """
    return _number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE


# The sender asks once per text it hands over.
@lru_cache(maxsize=8192)
def _number_type(number: str) -> int:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return phonenumbers.PhoneNumberType.UNKNOWN
    return phonenumbers.number_type(parsed) if phonenumbers.is_valid_number(parsed) else phonenumbers.PhoneNumberType.UNKNOWN


def mask(number: str | None) -> str:
    """`+447700900123` → `+44 7•••• ••123`: enough to tell numbers apart, not to dial one."""
    if not number:
        return "(none)"
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return "•••" + number[-2:] if len(number) > 4 else "•••"
    national = str(parsed.national_number)
    if len(national) < 6:
        return f"+{parsed.country_code} •••"
    hidden = len(national) - 1 - SHOWN_DIGITS
    masked = national[0] + "•" * hidden + national[-SHOWN_DIGITS:]
    # Grouped as docs/security.md shows it (`+44 7•••• ••123`): first digit and four dots, then the rest.
    head, tail = masked[:5], masked[5:]
    return f"+{parsed.country_code} {head} {tail}"


# ── numbers inside text: log lines, error messages, the audit log's copies of texts ──────────
#
# A run is digits in groups, joined by what people and URLs put between them: a space, a
# dash, a dot, brackets, and the URL-encoded space (`+`, `%20`), optionally after `+`,
# `%2B` or `00`. Which part of a run is a number is decided on its groups (`_number_in`),
# so a date, a time, a code or an id that happens to sit in a run stays as it was.
_PLUS = r"(?:\+|%2B)"
_OPEN, _CLOSE = r"(?:\(|%28)", r"(?:\)|%29)"
_JOIN = rf"(?:{_CLOSE}?(?:[ .\-+/]|%20|%2D){_OPEN}?|{_CLOSE}(?:[ .\-+/]|%20|%2D)?)"
_GROUP = rf"{_OPEN}?\d+{_CLOSE}?"
# A run starts where no word goes on into it, or right after a URL escape (`=%2B44…`, `%2007700…`).
_RUN = re.compile(rf"(?:(?<=%[0-9A-Fa-f]{{2}})|(?<![\w%]))(?P<plus>{_PLUS}\s?)?{_GROUP}(?:{_JOIN}{_GROUP})*",
                  re.IGNORECASE)
_DIGITS_OR_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}|\d+")
_FEWEST_DIGITS = 8  # the shortest full number: less than this in a run is never one


def mask_numbers(text: str) -> str:
    """`text` with every full number in it masked, however it is written: E.164 with or without
    its `+`, national (`07700 900456`, `07700-900-456`, `(07700) 900456`), international with
    `00`, spaced, and URL-encoded (`%2B44+7700+900456`). What is not a number (a time, a date,
    a 6-digit code, a ref, an id, an amount) is left alone; masking masked text changes nothing.
    """
    return _RUN.sub(_masked_run, text)


def shows_full_number(text: str) -> bool:
    """Whether `text` holds a full number that `mask_numbers` would hide (the tests' net over every log line)."""
    return mask_numbers(text) != text


def _masked_run(run: re.Match[str]) -> str:
    found = run.group()
    if sum(ch.isdigit() for ch in found) < _FEWEST_DIGITS:
        return found
    groups = [part for part in _DIGITS_OR_ESCAPE.finditer(found) if part.group().isdigit()]
    plus = run.group("plus") is not None
    pieces, done, i = [], 0, 0
    while i < len(groups):
        hit = _number_in(groups, i, plus and i == 0)
        if hit is None:
            i += 1
            continue
        last, number = hit
        begin = 0 if plus and i == 0 else _bracket_before(found, groups[i].start())
        end = groups[last].end()
        if found.count("(", begin, end) > found.count(")", begin, end) and found.startswith(")", end):
            end += 1  # "(07700 900456)": the bracket closes the number
        pieces += [found[done:begin], mask(number)]
        done, i = end, last + 1
    return "".join(pieces) + found[done:]


def _bracket_before(text: str, at: int) -> int:
    for opening in ("(", "%28"):
        if text[:at].upper().endswith(opening):
            return at - len(opening)
    return at


def _number_in(groups: list[re.Match[str]], first: int, plus: bool) -> tuple[int, str] | None:
    """The longest number that starts at group `first`: (its last group, E.164), or None.

    A number that parses as a possible one is preferred. Failing that, a number written with
    its `+` or its national 0 is masked on its digit count alone (masking too much in a log
    line is cheap, too little is not); bare digits only when they parse.
    """
    fallback = None
    for last in range(len(groups) - 1, first - 1, -1):
        written = _as_e164([g.group() for g in groups[first:last + 1]], plus)
        if written is None:
            continue
        e164, must_parse = written
        possible = normalise(e164)
        if possible is not None:
            return last, possible
        if not must_parse and fallback is None:
            fallback = (last, e164)
    return fallback


def _as_e164(parts: list[str], plus: bool) -> tuple[str, bool] | None:
    """(`+digits`, whether it must parse to count) if these groups are written the way a full number is."""
    digits = "".join(parts)
    if not plus and len(parts[0]) > 2 and parts[0].startswith("00") and parts[0][2] != "0":
        # 0044 7700 900456: dialled from abroad; bare digits, so it counts only if it parses
        e164 = "+" + _without_trunk_zero([parts[0][2:], *parts[1:]])
        return (e164, True) if 8 <= len(e164) - 1 <= 15 else None
    if plus:
        e164 = "+" + _without_trunk_zero(parts)
        return (e164, False) if 8 <= len(e164) - 1 <= 15 else None
    first = parts[0]
    if first.startswith("0") and 10 <= len(digits) <= 11 and (len(parts) == 1 or 3 <= len(first) <= 5):
        return "+44" + digits[1:], False  # national: 07700 900456, 020 7946 0000
    if len(parts) == 1 and 11 <= len(digits) <= 15:
        return "+" + digits, True  # E.164 without its +
    if first == "44" and len(digits) == 12:
        return "+" + digits, True  # 44 7700 900456
    return None


def _without_trunk_zero(parts: list[str]) -> str:
    """+44 (0) 7700 900456: the national 0 some write after the country code is not dialled."""
    return parts[0] + "".join(parts[2:]) if len(parts) > 2 and parts[1] == "0" else "".join(parts)
