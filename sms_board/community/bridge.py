"""Bridged calls: a neighbour without a mobile is put through to the requester by the board's own number.

When a requester says OK to an offer from a resident who hears the board only by telephone
(a landline: no text can reach them), the connection notice cannot be texted. Instead the
board queues a call to the helper (an outbox row of kind `call` about the connection: if the
connection ends first, the call never goes). Twilio fetches `/voice/bridge/<outbox id>`: the
helper hears who said yes and presses a key (a machine never does, so no requester is put
through to a voicemail), then the board dials the requester with `<Dial callerId=board number>`.
Neither sees the other's number: each sees the board's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from sms_board.community.exchange import display_name
from sms_board.community.languages import reading
from sms_board.models import Area, HearsBy, Item, Match, MatchStatus, Outbox, OutboxKind, Subscriber
from sms_board.plumbing.config import Settings
from sms_board.sending.outbox import enqueue_call
from sms_board.text.phone import why_not_textable
from sms_board.text.templates import render

# How long the helper has to press a key once the board has spoken.
KEY_WAIT_SECONDS = 10


def voice_only(person: Subscriber) -> bool:
    """Someone the board can reach only by a call: they hear it by voice, on a number that takes no texts."""
    return person.hears_by == HearsBy.VOICE and why_not_textable(person.phone) is not None


def ring_helper(session: Session, settings: Settings, match: Match, item: Item, owner: Subscriber,
                helper: Subscriber, now: datetime, *, helped: str = "") -> Outbox | None:
    """Queue the call that puts `helper` through to `owner` (inside call hours, on the area's clock).

    `helped`: the owner's name when an agreed trusted helper reads their texts; the call says so, the one
    time the neighbour hears of this connection (as the text connection notice does, docs/helpers.md)."""
    area = session.get(Area, item.area_id)
    words = bridge_words(settings, helper, item, owner, area, helped=helped)
    return enqueue_call(session, settings, helper, words, zone_name=area.timezone if area else None, match=match,
                        now=now)


def bridge_words(settings: Settings, helper: Subscriber, item: Item, owner: Subscriber, area: Area | None,
                 *, helped: str = "") -> str:
    return render("bridge_call", spoken_language(settings, helper), other=display_name(owner), item=item,
                  area=area.name if area else "", helped=helped)


def spoken_language(settings: Settings, person: Subscriber | None) -> str:
    """The one language a call speaks to someone: theirs, else the board's first."""
    return reading(settings, person)[0] if person is not None else settings.first_language


def bridge_twiml(session: Session, settings: Settings, outbox_id: int, *, key_pressed: bool, action: str) -> str:
    """What the helper hears: the words and a key to press; once pressed, the requester dialled.

    A call that is not a bridge, or whose connection has ended meanwhile, only hangs up.
    """
    response = VoiceResponse()
    row = session.get(Outbox, outbox_id)
    match = session.get(Match, row.match_id) if row is not None and row.kind == OutboxKind.CALL and row.match_id \
        else None
    owner = match.owner if match is not None and match.status == MatchStatus.CONNECTED else None
    if row is None or owner is None or owner.opted_out_at is not None:
        response.hangup()
        return str(response)
    if key_pressed:
        dial = response.dial(caller_id=settings.twilio_from_number)
        dial.number(owner.phone)
        return str(response)
    helper = session.get(Subscriber, row.subscriber_id) if row.subscriber_id else None
    voice, language = settings.voice.voice_for(spoken_language(settings, helper))
    gather = response.gather(num_digits=1, action=action, timeout=KEY_WAIT_SECONDS)
    gather.say(row.body, voice=voice, language=language)
    response.hangup()
    return str(response)
