"""Every word a call speaks: catalog messages (`N_`, in the texts' catalog) said in the listener's language.

A call's words are the texts' catalog's (`translations/<code>/LC_MESSAGES/sms.po`): `make messages`
extracts the `N_(…)` below, and a Welsh listener hears the Welsh msgstr in the Welsh voice
(`settings.voice.voice_for`). Residents' own words are made speakable by `speakable`: runs of four or
more digits (telephone numbers, codes) and refs are read digit by digit, links are left out, and
nothing is longer than Twilio's `<Say>` takes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from sms_board.text.languages import pack
from sms_board.text.templates import N_, shorten

# Twilio's `<Say>` reads at most 4,096 characters; a post is far shorter, this is the net.
SAY_LIMIT = 4000
# How fast a text-to-speech voice reads, to keep a call's script within SMS_BOARD_CALL_MINUTES.
WORDS_PER_MINUTE = 150

GREETING = N_("Hello, this is the %(areas)s board, with this week's news.")
GREETING_CALLER = N_("Hello, this is the %(areas)s board.")
PRESS_FOR_NEWS = N_("Press 1 to hear the news.")
NO_NEWS = N_("There is no news on the board just now.")
NOTICE = N_("A notice from %(name)s, in %(area)s: %(body)s")
REQUEST = N_("Help request %(ref)s, from %(name)s, in %(area)s: %(body)s")
OFFER = N_("An offer %(ref)s, from %(name)s, in %(area)s: %(body)s")
ITEM_KEYS = N_("Press 1 to hear it again, or 2 for the next.")
REQUEST_KEYS = N_("Press 1 to hear it again, 2 for the next, or 3 to offer to help.")
END_OF_NEWS = N_("That is all the news.")
MORE_NEWS = N_("There is more news: press 2 to hear it.")
AGAIN_KEY = N_("Press 1 to hear it again.")
MESSAGE_KEY = N_("Press 0 to leave a message for the organisers.")
STOP_KEY = N_("Press 9 to stop these calls.")
WRONG_KEY = N_("Sorry, key %(key)s does nothing here.")
NOTHING_PRESSED = N_("I did not hear a key.")
GOODBYE = N_("Goodbye.")
MACHINE = N_("This is the %(areas)s board with this week's news. Ring %(number)s any time to hear it.")
# Each language offers itself in its own words: its msgstr names the language ("…yn Gymraeg…").
LANGUAGE_OFFER = N_("For this call in English, press %(key)s.")
STOPPED = N_("You will not be called or texted by the board again. Goodbye.")
OFFER_PASSED_ON = N_("Thank you. Your offer to help is passed on to %(name)s, who will be asked to say yes.")
OFFER_ALREADY = N_("You have offered to help with this already.")
OFFER_REFUSED = N_("Sorry, this request cannot take your offer now.")
NOT_A_REQUEST = N_("Key 3 offers help with a help request; this is a notice.")
RECORD_PROMPT = N_("Leave your message for the organisers after the tone, then press the hash key or hang up.")
RECORDED = N_("Thank you. The organisers will hear your message.")
CHOOSE_AREA = N_("For %(area)s, press %(key)s.")
CHOOSE_AREA_LONG = N_("For %(area)s, press %(key)s, then the hash key.")
AREA_CHOSEN = N_("%(area)s. Press 1 to hear its news.")
JOIN_KEY = N_("Press 7 to join %(area)s: the board will then ring you each week with its news.")
JOINED = N_("You have joined %(area)s. Here is its news.")
NOT_JOINED = N_("This number cannot join %(area)s by telephone; please ask an organiser.")
NO_AREAS = N_("There are no areas to hear by telephone yet.")
TEXTS_ONLY = N_("This board takes text messages, not calls. Please send it a text. Goodbye.")
# A list of areas: Welsh writes it with commas (an "a"/"ac" before a name cannot know its first letter).
LIST_AND = N_("%(names)s and %(last)s")


@dataclass(frozen=True)
class Speaker:
    """One language's spoken words: a catalog message with its values, in that language."""

    language: str

    def __call__(self, message: str, /, **values: object) -> str:
        words = pack(self.language).translations().gettext(message)
        return words % values if values else words

    def listing(self, names: list[str]) -> str:
        """`Elm Street`, `Elm Street and Oak Road`, `A, B and C` in this language."""
        if len(names) <= 1:
            return "".join(names)
        return self(LIST_AND, names=", ".join(names[:-1]), last=names[-1])


_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|org|uk|net|cymru|wales|pl)(?:/\S*)?\b", re.IGNORECASE)
_LONG_NUMBER = re.compile(r"\d[\d ]{2,}\d")


def digit_by_digit(digits: str) -> str:
    """`0123` → `0 1 2 3`: a voice reads a telephone number or a code one digit at a time."""
    return " ".join(ch for ch in digits if ch.isdigit())


def _spread(run: re.Match[str]) -> str:
    found = run.group()
    if sum(ch.isdigit() for ch in found) < 4:
        return found
    # Groups as written stay apart by a pause: "07700 900123" → "0 7 7 0 0, 9 0 0 1 2 3".
    return ", ".join(digit_by_digit(group) for group in found.split())


def speakable(text: str, limit: int = SAY_LIMIT) -> str:
    """A resident's words as a voice should read them: no links, long numbers digit by digit, within `<Say>`."""
    words = _URL.sub("", text)
    words = _LONG_NUMBER.sub(_spread, words)
    return shorten(words, limit, end="")


def spoken_ref(ref: str) -> str:
    """`R12` → `R 1 2`."""
    return f"{ref[0]} {digit_by_digit(ref[1:])}"


def spoken_number(number: str, region: str = "GB") -> str:
    """The board's number as a caller dials it, digit by digit in its groups: `029 2018 0123` → `0 2 9, 2 0 1 8, …`."""
    try:
        national = phonenumbers.format_number(phonenumbers.parse(number, region),
                                              phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        national = number
    return ", ".join(digit_by_digit(group) for group in national.split() if any(ch.isdigit() for ch in group))


def minutes_to_say(words: str) -> float:
    return len(words.split()) / WORDS_PER_MINUTE
