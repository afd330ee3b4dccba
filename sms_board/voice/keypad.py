"""What a key does on a call. Offering help (3) and stopping (9) are texts the listener did not have to
type: `CAN R12` and `STOP` go through the very pipeline an SMS does (`sms_board.inbound.receive`), from
the listener's number, so they are recorded, guarded and answered exactly as those texts would be (the
requester is told as usual; a STOP opts the number out of calls and texts alike). Each is stored with a
`MessageSid` made from the call's `CallSid`, so Twilio retrying a `<Gather>` action does it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sms_board.community.subscriptions import get_or_create_subscriber, subscribe
from sms_board.inbound import receive
from sms_board.models import Area, HearsBy, Item, ItemKind, Response, Subscriber
from sms_board.plumbing.config import Settings
from sms_board.text.languages import SOURCE_LANGUAGE, pack
from sms_board.text.templates import NEIGHBOUR_IN_SENTENCE
from sms_board.voice import words as w
from sms_board.voice.script import JOIN_KEY
from sms_board.voice.words import Speaker


@dataclass(frozen=True)
class Listener:
    """Who is on the line: their number (None: withheld, or not a number) and the call's sid."""

    phone: str | None
    call_sid: str


def keyword_in(language: str, keyword: str) -> str:
    """`CAN` as a resident of `language` texts it (GALLAF in Welsh): an English word would set their language."""
    if language == SOURCE_LANGUAGE:
        return keyword
    return next(iter(pack(language).keywords.get(keyword, ())), keyword)


def _as_a_text(factory: sessionmaker[Session], settings: Settings, listener: Listener, body: str, what: str) -> None:
    assert listener.phone is not None
    receive(factory, settings, {
        "MessageSid": f"{listener.call_sid}/{what}"[:64], "From": listener.phone,
        "To": settings.twilio_from_number or "", "Body": body, "CallSid": listener.call_sid,
    })


def _offered(session: Session, item_id: int, phone: str) -> bool:
    return session.scalar(
        select(Response.id).join(Subscriber, Subscriber.id == Response.responder_id)
        .where(Response.item_id == item_id, Subscriber.phone == phone)
    ) is not None


def offer_help(factory: sessionmaker[Session], settings: Settings, listener: Listener, item: Item,
               language: str) -> str:
    """Key 3 on a help request: `CAN R12` from the listener's number; what to tell them, in words."""
    say = Speaker(language)
    if item.kind != ItemKind.REQUEST:
        return say(w.NOT_A_REQUEST)
    assert listener.phone is not None
    with factory() as session:
        before = _offered(session, item.id, listener.phone)
    _as_a_text(factory, settings, listener, f"{keyword_in(language, 'CAN')} {item.ref}", f"can/{item.id}")
    with factory() as session:
        after = _offered(session, item.id, listener.phone)
        author = session.get(Item, item.id)
        name = author.author.name if author is not None and author.author is not None else None
    if after and not before:
        return say(w.OFFER_PASSED_ON, name=name or say(NEIGHBOUR_IN_SENTENCE))
    return say(w.OFFER_ALREADY) if after else say(w.OFFER_REFUSED)


def stop(factory: sessionmaker[Session], settings: Settings, listener: Listener) -> None:
    """Key 9: a STOP from the listener's number: nothing more by call or text."""
    _as_a_text(factory, settings, listener, "STOP", "stop")


def join_area(session: Session, listener: Listener, area: Area, heard: str, now: datetime) -> bool:
    """Key 7 on a public area's menu: the caller joins it, their consent the key and the words they heard.

    A number new to the board hears it by telephone (`HearsBy.VOICE`): it was rung, not texted.
    """
    assert listener.phone is not None and not area.private
    new = session.scalar(select(Subscriber.id).where(Subscriber.phone == listener.phone)) is None
    person = get_or_create_subscriber(session, listener.phone, now)
    if new:
        person.hears_by = HearsBy.VOICE
    if person.opted_out:
        return False
    return subscribe(session, person, area, words=f"keypad {JOIN_KEY} on a call ({listener.call_sid})",
                     wording=heard, channel="voice", now=now)

