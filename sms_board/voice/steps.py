"""One keypad answer of a call: the step it was pressed at, the key (or silence), and what is said next.

Steps: `greeting` (before any post: 1 reads them), `item` (during or just after a post), `end` (the
menu after a page), `welcome` (the greeting again, after a language key), `areas` (an unknown
caller choosing an area). Silence gets one reprompt, then goodbye (a digest call's greeting: the
answering machine's message); a key that does nothing here gets a spoken correction and the menu again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session, sessionmaker
from twilio.twiml.voice_response import VoiceResponse

from sms_board.plumbing.config import Settings
from sms_board.plumbing.utc import utcnow
from sms_board.voice import words as w
from sms_board.voice.keypad import Listener, join_area, offer_help, stop
from sms_board.voice.recordings import record_prompt
from sms_board.voice.script import (
    JOIN_KEY,
    Call,
    goodbye,
    greeting,
    greeting_words,
    machine_message,
    menu,
    page,
)

AGAIN, NEXT, OFFER, MESSAGE, STOP = "1", "2", "3", "0", "9"


@dataclass(frozen=True)
class Pressed:
    step: str
    digits: str  # "" when nothing was pressed
    at: int | None  # the post it was pressed at
    tries: int  # how many silences already


def press(factory: sessionmaker[Session], session: Session, settings: Settings, call: Call, listener: Listener,
          pressed: Pressed) -> str:
    if pressed.step == "welcome":
        return str(greeting(call))
    if not pressed.digits:
        return _silence(call, pressed)
    code = call.language_key(pressed.digits)
    if code is not None:
        response = VoiceResponse()
        response.redirect(replace(call, language=code).url("welcome"), method="POST")
        return str(response)
    key = pressed.digits
    if key in (STOP, OFFER):
        # The pipeline writes in transactions of its own: this request's reads must not hold the database.
        session.commit()
    if key == STOP and call.may_act and listener.phone:
        stop(factory, settings, listener)
        return _stopped(call)
    if key == MESSAGE and call.may_act and listener.phone:
        return str(record_prompt(call))
    if pressed.step == "greeting":
        return _at_greeting(session, call, listener, key)
    return _at_item(factory, settings, call, listener, pressed, key)


def _stopped(call: Call) -> str:
    response = VoiceResponse()
    voice, tag = call.settings.voice.voice_for(call.language)
    response.say(call.say(w.STOPPED), voice=voice, language=tag)
    response.hangup()
    return str(response)


def _silence(call: Call, pressed: Pressed) -> str:
    if pressed.tries == 0:
        return str(menu(call, pressed.at, [call.say(w.NOTHING_PRESSED)], tries=1))
    if call.digest and pressed.step == "greeting":
        return machine_message(call.settings, call.listing.areas, call.language)
    return str(goodbye(call))


def _wrong(call: Call, at: int | None, key: str) -> str:
    return str(menu(call, at, [call.say(w.WRONG_KEY, key=key)]))


def _at_greeting(session: Session, call: Call, listener: Listener, key: str) -> str:
    if key == AGAIN and call.listing.items:
        return str(page(call, 0))
    if key == JOIN_KEY and call.may_join and listener.phone:
        area = call.listing.areas[0]
        heard = " ".join(greeting_words(call))
        joined = join_area(session, listener, area, heard, utcnow())
        session.commit()
        if not joined:
            return str(menu(call, None, [call.say(w.NOT_JOINED, area=area.name)]))
        return str(page(replace(call, may_join=False, may_act=True), 0, [call.say(w.JOINED, area=area.name)]))
    return _wrong(call, None, key)


def _at_item(factory: sessionmaker[Session], settings: Settings, call: Call, listener: Listener, pressed: Pressed,
             key: str) -> str:
    index = call.listing.index_of(pressed.at)
    if index is None:
        # The post is gone from the board since (hidden, closed): on from the start.
        return str(page(call, 0) if key in (AGAIN, NEXT) else menu(call, None, []))
    if key == AGAIN:
        return str(page(call, index))
    if key == NEXT:
        return str(page(call, index + 1))
    item = call.listing.items[index]
    if key == OFFER and call.may_act and listener.phone:
        said = offer_help(factory, settings, listener, item, call.language)
        return str(menu(call, item.id, [said]))
    return _wrong(call, item.id, key)
