"""Phone numbers: E.164 normalisation and masking.

A sender is answered only when it is a *possible* full number. `is_valid_number`
is deliberately not used: it rejects Ofcom's drama range (+44 7700 900xxx),
which demos and tests use so that no real person is ever texted.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

# A full number as it can turn up in a log line: E.164 (+447700900123), or URL-encoded (%2B447700900123).
FULL_NUMBER = re.compile(r"(?:\+|%2B)(\d{8,15})\b", re.IGNORECASE)


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
    hidden = len(national) - 4
    masked = national[0] + "•" * hidden + national[-3:]
    # Group like the example in the spec: first digit and four dots, then the rest.
    head, tail = masked[:5], masked[5:]
    return f"+{parsed.country_code} {head} {tail}"


def mask_numbers(text: str) -> str:
    """`text` with every full number in it masked (log lines, exception messages)."""
    return FULL_NUMBER.sub(lambda match: mask("+" + match.group(1)), text)
