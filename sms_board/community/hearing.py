"""How a subscriber hears the board: by text, or with digests read by a telephone call (docs/voice.md).

`Subscriber.hears_by` is per person, not per area: one call carries all their areas' news. A
landline (`text.phone.is_landline`) always hears by voice, and no text ever goes to one (the
sender's last check, `sending.reachability.takes_texts`). A mobile that hears by voice still gets
its direct replies and notices by text; only its digests become calls. Every way of choosing
(`sms-board subscribers add --voice`, the dashboard, an import's `hears_by` column, DIGEST CALL
and DIGEST TEXT) asks `refusal` first, so each refuses the same things in the same words.
"""

from __future__ import annotations

from sms_board.models import HearsBy, Subscriber
from sms_board.plumbing.config import Settings
from sms_board.text.phone import is_landline, why_not_textable
from sms_board.text.phrases import phrase

# How an organiser names each choice (the dashboard's list and form).
HEARS_BY_NAMES = {HearsBy.SMS: phrase("by text"), HearsBy.VOICE: phrase("by telephone")}


def parse_hears_by(raw: str) -> HearsBy | None:
    """`sms` or `voice` as written in a file or a form (any case); None when empty; ValueError otherwise."""
    text = raw.strip().lower()
    if not text:
        return None
    try:
        return HearsBy(text)
    except ValueError:
        raise ValueError(phrase("hears_by %(value)r is not sms or voice", value=raw.strip())) from None


def first_hearing(phone: str) -> HearsBy:
    """How a number new to the board hears it until someone chooses: a landline by voice, any other by text."""
    return HearsBy.VOICE if is_landline(phone) else HearsBy.SMS


def voice_off(settings: Settings) -> str | None:
    """The refusal when this board places no calls."""
    return None if settings.voice.enabled else phrase("this board doesn't place calls: set SMS_BOARD_VOICE=on")


def offers_calls(settings: Settings, person: Subscriber) -> bool:
    """Whether the resident is told of DIGEST CALL / TEXT: the board places calls, or they hear by one."""
    return settings.voice.enabled or person.hears_by == HearsBy.VOICE


def refusal(settings: Settings, phone: str, hears_by: HearsBy, *, ask_for_voice: str) -> str | None:
    """Why the E.164 `phone` cannot hear the board `hears_by`, or None when it can.

    `ask_for_voice` ends the refusal of a landline that would be texted: what to do in the
    caller's own terms ("add --voice", "write voice in its hears_by column").
    """
    refused = _choice_refusal(settings, phone, hears_by, ask_for_voice)
    if refused is not None or is_landline(phone):
        return refused
    # A mobile that hears by voice is still texted its replies and notices.
    return why_not_textable(phone)


def _choice_refusal(settings: Settings, phone: str, hears_by: HearsBy, ask_for_voice: str) -> str | None:
    if hears_by == HearsBy.VOICE:
        return voice_off(settings)
    return phrase("a landline can't get texts: %(then)s", then=ask_for_voice) if is_landline(phone) else None


def change(settings: Settings, person: Subscriber, hears_by: HearsBy, *, ask_for_voice: str) -> bool:
    """Set how `person`, already on the board, hears it; returns whether it changed. ValueError with the refusal."""
    if person.hears_by == hears_by:
        return False
    refused = _choice_refusal(settings, person.phone, hears_by, ask_for_voice)
    if refused is not None:
        raise ValueError(refused)
    person.hears_by = hears_by
    return True
