"""Someone rings the board's number (`POST /voice/inbound`): what they hear, with no Flask in it (the
`call-script` command and the simulator's landline hear the same).

A caller the board knows, in a public area, hears their public areas' latest posts with the keypad of a
digest call. Anyone else (a stranger, a member of private areas only) hears the public areas by number
("for Elm Street, press 1"; past nine, two digits and the hash key), and after choosing one, its news;
a caller whose number shows may join it with key 7. A withheld number hears public news only.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from sms_board.models import Subscriber
from sms_board.plumbing.config import Settings
from sms_board.plumbing.utc import utcnow
from sms_board.voice import words as w
from sms_board.voice.listing import Listing, callable_areas, caller_listing, public_areas_of
from sms_board.voice.script import Call, goodbye, greeting, language_for, offered_languages
from sms_board.voice.words import Speaker

BASE = "/voice/inbound"
# What Twilio sends as `From` when the caller withheld their number (or the network did not pass it on).
WITHHELD = frozenset({"anonymous", "restricted", "unknown", "unavailable", "blocked", "private",
                      "+266696687", "+86282452253", "+7378742833", "+2562533"})
# Areas past this many are chosen with two digits and the hash key.
ONE_KEY_AREAS = 9


def caller_number(raw: str, settings: Settings) -> str | None:
    """The caller's number as the board stores numbers; None when it is withheld or not a number."""
    from sms_board.text.phone import normalise

    raw = raw.strip()
    return None if raw.lower() in WITHHELD or raw in WITHHELD else normalise(raw, settings.default_region)


def inbound_call(session: Session, settings: Settings, phone: str | None, *, language: str | None = None,
                 area_id: int | None = None) -> Call | None:
    """The call of someone who rang: their public areas' news, or the area they chose; None: let them choose."""
    person = session.scalar(select(Subscriber).where(Subscriber.phone == phone)) if phone else None
    spoken = language_for(settings, person, language)
    offered = offered_languages(settings, spoken)
    mine = public_areas_of(session, person) if person is not None else []
    acting = person is not None and not person.opted_out
    if area_id is not None:
        areas = [area for area in callable_areas(session) if area.id == area_id]
        if not areas:
            return None
        member = any(area.id == area_id for area in mine)
        return Call(BASE, spoken, settings, caller_listing(session, areas, utcnow()), may_act=member and acting,
                    area_id=area_id, may_join=phone is not None and not member, offered=offered)
    if not mine:
        return None
    return Call(BASE, spoken, settings, caller_listing(session, mine, utcnow()), may_act=acting, offered=offered)


def choose_area(session: Session, settings: Settings, language: str, lead: Sequence[str] = ()) -> VoiceResponse:
    """The public areas by number, for a caller to choose one."""
    say = Speaker(language)
    areas = callable_areas(session)
    call = Call(BASE, language, settings, Listing((), tuple(areas)), offered=offered_languages(settings, language))
    if not areas:
        return goodbye(call, [say(w.NO_AREAS)])
    response = VoiceResponse()
    many = len(areas) > ONE_KEY_AREAS
    gather = response.gather(action=call.url("areas"), method="POST", timeout=8, action_on_empty_result=True,
                             **({"finish_on_key": "#"} if many else {"num_digits": 1}))
    voice, tag = settings.voice.voice_for(language)
    for text in [*lead, say(w.GREETING_CALLER, areas=say.listing([a.name for a in areas]))]:
        gather.say(text, voice=voice, language=tag)
    for number, area in enumerate(areas, start=1):
        gather.say(say(w.CHOOSE_AREA_LONG if many else w.CHOOSE_AREA, area=area.name, key=number),
                   voice=voice, language=tag)
    return response


def area_chosen(session: Session, settings: Settings, language: str, digits: str, tries: int) -> VoiceResponse:
    """A caller's key(s) at the list of areas: on to that area's greeting, or the list again."""
    areas = callable_areas(session)
    say = Speaker(language)
    if not digits:
        if tries:
            return goodbye(Call(BASE, language, settings, Listing((), ())))
        return choose_area(session, settings, language, [say(w.NOTHING_PRESSED)])
    number = int(digits) if digits.isdigit() else 0
    if not 1 <= number <= len(areas):
        return choose_area(session, settings, language, [say(w.WRONG_KEY, key=digits)])
    chosen = Call(BASE, language, settings, Listing((), ()), area_id=areas[number - 1].id)
    response = VoiceResponse()
    response.redirect(chosen.url("welcome"), method="POST")
    return response


def answer(session: Session, settings: Settings, phone: str | None) -> VoiceResponse:
    """What the board's number answers a caller with: their news's greeting, or the areas to choose from."""
    call = inbound_call(session, settings, phone)
    if call is None:
        return choose_area(session, settings, language_for(settings, None))
    return greeting(call)


def closed(settings: Settings) -> VoiceResponse:
    """SMS_BOARD_VOICE off: the number says it takes texts, and hangs up."""
    language = settings.languages[0]
    voice, tag = settings.voice.voice_for(language)
    response = VoiceResponse()
    response.say(Speaker(language)(w.TEXTS_ONLY), voice=voice, language=tag)
    response.hangup()
    return response
