"""The TwiML of each step of a call: what it says, and where its keypad's answer goes.

A call opens with a greeting naming the board's area(s) and "press 1 to hear the news": its posts
are read only after a key, the proof of a person (an answering machine never records them). A key
then reads a page of posts, each in its own `<Say>` inside a `<Gather numDigits="1">` (a key pressed
during or just after a post is about that post; silence goes on to the next), as many as fit in
SMS_BOARD_CALL_MINUTES at `WORDS_PER_MINUTE`; the page ends with the menu. Each `<Gather>`'s action
names the step, the post and the language, so every request stands on its own (`routes`).

For the calls engineer: `call_twiml` (the TwiML Twilio fetches for a digest call's row),
`machine_message` (an answering machine's short message) and `spoken_words` (a call's words, for
the outbox's `body`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Gather, VoiceResponse

from sms_board.community.exchange import display_name
from sms_board.community.languages import reading
from sms_board.models import Area, Item, ItemKind, Outbox, Subscriber
from sms_board.plumbing.config import Settings
from sms_board.text.templates import NEIGHBOUR
from sms_board.voice import words as w
from sms_board.voice.listing import Listing, digest_listing
from sms_board.voice.words import Speaker, minutes_to_say, speakable, spoken_number, spoken_ref

# The other languages a call offers, one key each, in the board's order.
LANGUAGE_KEYS = ("4", "5", "6")
JOIN_KEY = "7"
# How long a post's `<Gather>` waits after it before the next post; the menu's, before its reprompt.
AFTER_ITEM_SECONDS = 2
MENU_SECONDS = 6


@dataclass(frozen=True)
class Call:
    """One call as the script sees it: where its keys go, its language, its posts, what its listener may do."""

    base: str  # "/voice/call/12" (a digest call) or "/voice/inbound" (someone rang the board)
    language: str
    settings: Settings
    listing: Listing
    digest: bool = False  # a digest call: its greeting, and the answering machine's message on silence
    may_act: bool = False  # 3 (offer help), 0 (a message) and 9 (stop): a number the board knows
    area_id: int | None = None  # the area an unknown caller chose
    may_join: bool = False  # key 7 joins that area: a caller whose number shows, not yet a member
    offered: tuple[str, ...] = field(default=())  # the other languages, on LANGUAGE_KEYS

    @property
    def say(self) -> Speaker:
        return Speaker(self.language)

    def url(self, step: str, **params: object) -> str:
        query: dict[str, object] = {"step": step, "lang": self.language}
        if self.area_id is not None:
            query["area"] = self.area_id
        query.update({key: value for key, value in params.items() if value is not None})
        return webhook_url(self.settings, f"{self.base}/key?{urlencode(query)}")

    def area_names(self) -> str:
        return self.say.listing([area.name for area in self.listing.areas])

    def language_key(self, digit: str) -> str | None:
        index = LANGUAGE_KEYS.index(digit) if digit in LANGUAGE_KEYS else None
        return self.offered[index] if index is not None and index < len(self.offered) else None


def webhook_url(settings: Settings, path: str) -> str:
    """Where Twilio is to post next: under SMS_BOARD_PUBLIC_URL, the address its signature is checked against."""
    return f"{settings.public_url or ''}{path}"


def offered_languages(settings: Settings, language: str) -> tuple[str, ...]:
    return tuple(code for code in settings.languages if code != language)[:len(LANGUAGE_KEYS)]


def language_for(settings: Settings, person: Subscriber | None, chosen: str | None = None) -> str:
    """The call's language: one chosen by key, else the listener's, else the board's first."""
    if chosen in settings.languages:
        return chosen  # type: ignore[return-value]
    if person is not None:
        return reading(settings, person)[0]
    return settings.languages[0]


# ── speaking ────────────────────────────────────────────────────────────────


def _say(call: Call, where: VoiceResponse | Gather, text: str, language: str | None = None) -> None:
    language = language or call.language
    voice, tag = call.settings.voice.voice_for(language)
    where.say(text, voice=voice, language=tag)


def _gather(response: VoiceResponse, call: Call, step: str, *, menu: bool = True, many: bool = False,
            **params: object) -> Gather:
    """A keypad `<Gather>`; a menu's posts its silence too (one reprompt, then goodbye), a post's goes on."""
    attributes: dict[str, object] = {"action": call.url(step, **params), "method": "POST",
                                     "timeout": MENU_SECONDS if menu else AFTER_ITEM_SECONDS}
    if many:
        attributes["finish_on_key"] = "#"
    else:
        attributes["num_digits"] = 1
    if menu:
        attributes["action_on_empty_result"] = True
    return response.gather(**attributes)


_ITEM_WORDS = {ItemKind.NOTICE: w.NOTICE, ItemKind.REQUEST: w.REQUEST, ItemKind.OFFER: w.OFFER}


def item_words(call: Call, item: Item, *, written: bool = False) -> str:
    """A post as the call reads it; `written`: for a text (a trusted helper's copy), its ref as it is typed."""
    name = display_name(item.author)
    name = call.say(NEIGHBOUR) if name == NEIGHBOUR else name
    values = {"name": name, "area": item.area.name, "body": speakable(item.body),
              "ref": item.ref if written else spoken_ref(item.ref)}
    return call.say(_ITEM_WORDS[item.kind], **values)


def greeting_words(call: Call) -> list[str]:
    if call.area_id is not None:
        said = [call.say(w.AREA_CHOSEN, area=call.area_names())]
        if call.may_join:
            said.append(call.say(w.JOIN_KEY, area=call.area_names()))
        return said if call.listing.items else [*said, call.say(w.NO_NEWS)]
    opening = w.GREETING if call.digest else w.GREETING_CALLER
    said = [call.say(opening, areas=call.area_names())]
    said.append(call.say(w.PRESS_FOR_NEWS) if call.listing.items else call.say(w.NO_NEWS))
    return said


def greeting(call: Call, lead: Sequence[str] = ()) -> VoiceResponse:
    """The call's first words: the board and its area(s), "press 1", and the other languages by key."""
    response = VoiceResponse()
    gather = _gather(response, call, "greeting")
    for text in [*lead, *greeting_words(call)]:
        _say(call, gather, text)
    if not call.listing.items:
        _menu_words(call, gather, more=False, about_item=False)
    _offer_languages(call, gather)
    return response


def _offer_languages(call: Call, gather: Gather) -> None:
    for key, code in zip(LANGUAGE_KEYS, call.offered, strict=False):
        _say(call, gather, Speaker(code)(w.LANGUAGE_OFFER, key=key), language=code)


def page_of(call: Call, start: int) -> list[Item]:
    """The posts from `start` that fit in SMS_BOARD_CALL_MINUTES (one at least): the rest is "press 2"."""
    budget = float(call.settings.voice.call_minutes)
    chosen: list[Item] = []
    for item in call.listing.items[start:]:
        cost = minutes_to_say(item_words(call, item)) + minutes_to_say(call.say(w.REQUEST_KEYS))
        if chosen and cost > budget:
            break
        chosen.append(item)
        budget -= cost
    return chosen


def page(call: Call, start: int, lead: Sequence[str] = ()) -> VoiceResponse:
    """Posts from `start`, each in its own `<Say>` and `<Gather>`, then the menu."""
    items = page_of(call, start)
    if not items:
        return menu(call, None, [*lead, call.say(w.END_OF_NEWS)])
    response = VoiceResponse()
    for position, item in enumerate(items):
        gather = _gather(response, call, "item", menu=False, at=item.id)
        if position == 0:
            for text in lead:
                _say(call, gather, text)
        _say(call, gather, item_words(call, item))
        _say(call, gather, call.say(w.REQUEST_KEYS if _can_offer(call, item) else w.ITEM_KEYS))
    last = items[-1]
    more = start + len(items) < len(call.listing.items)
    gather = _gather(response, call, "end", at=last.id)
    _say(call, gather, call.say(w.MORE_NEWS if more else w.END_OF_NEWS))
    _menu_words(call, gather, more=more, about_item=True)
    return response


def _can_offer(call: Call, item: Item) -> bool:
    return call.may_act and item.kind == ItemKind.REQUEST


def _menu_words(call: Call, gather: Gather, *, more: bool, about_item: bool) -> None:
    if about_item and not more:
        _say(call, gather, call.say(w.AGAIN_KEY))
    if call.may_act:
        _say(call, gather, call.say(w.MESSAGE_KEY))
        _say(call, gather, call.say(w.STOP_KEY))


def menu(call: Call, at: int | None, lead: Sequence[str], *, tries: int = 0) -> VoiceResponse:
    """The keypad's menu about post `at` (None: before any), after `lead`; silence posts back with `tries`."""
    response = VoiceResponse()
    index = call.listing.index_of(at)
    more = index is not None and index + 1 < len(call.listing.items)
    gather = _gather(response, call, "end" if at is not None else "greeting", at=at, tries=tries or None)
    for text in lead:
        _say(call, gather, text)
    if at is None and call.listing.items:
        _say(call, gather, call.say(w.PRESS_FOR_NEWS))
    if more:
        _say(call, gather, call.say(w.MORE_NEWS))
    _menu_words(call, gather, more=more, about_item=at is not None)
    return response


def goodbye(call: Call, lead: Sequence[str] = ()) -> VoiceResponse:
    response = VoiceResponse()
    for text in [*lead, call.say(w.GOODBYE)]:
        _say(call, response, text)
    response.hangup()
    return response


# ── for the calls engineer: a digest call's row ─────────────────────────────


def digest_call(session: Session, settings: Settings, row: Outbox, chosen: str | None = None) -> Call:
    """The `Call` of a digest call's outbox row (in a language chosen by key, else the subscriber's)."""
    person = session.get(Subscriber, row.subscriber_id) if row.subscriber_id is not None else None
    return digest_call_of(settings, row, person, digest_listing(session, row), chosen)


def digest_call_of(settings: Settings, row: Outbox, person: Subscriber | None, listing: Listing,
                   chosen: str | None = None) -> Call:
    """`digest_call` with its listener and listing already read (a digest run reads them for every call at once)."""
    language = language_for(settings, person, chosen)
    return Call(f"/voice/call/{row.id}", language, settings, listing, digest=True,
                may_act=person is not None and not person.opted_out, offered=offered_languages(settings, language))


def call_twiml(session: Session, settings: Settings, row: Outbox) -> str:
    """The TwiML Twilio reads when a digest call is answered (`POST /voice/call/<row.id>`): its greeting."""
    return str(greeting(digest_call(session, settings, row)))


def machine_message(settings: Settings, areas: Sequence[Area], language: str) -> str:
    """TwiML for an answering machine: the board, its number to ring (digit by digit), goodbye. No post is read."""
    say = Speaker(language)
    voice, tag = settings.voice.voice_for(language)
    response = VoiceResponse()
    number = spoken_number(settings.twilio_from_number or "", settings.default_region)
    response.say(say(w.MACHINE, areas=say.listing([a.name for a in areas]), number=number), voice=voice, language=tag)
    response.hangup()
    return str(response)


def machine_message_for(session: Session, settings: Settings, row: Outbox) -> str:
    """An answering machine's message for a digest call's row: its areas, in its listener's language."""
    call = digest_call(session, settings, row)
    return machine_message(settings, call.listing.areas, call.language)


def spoken_words(session: Session, settings: Settings, row: Outbox) -> str:
    """The plain words of a digest call's script, greeting then each post (the outbox row's `body`)."""
    return script_words(digest_call(session, settings, row))


def script_words(call: Call) -> str:
    """`spoken_words` of a call already built (`digest_call_of`): no statement."""
    return "\n".join([*greeting_words(call), *(item_words(call, item) for item in call.listing.items)])
