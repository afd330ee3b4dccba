"""A text as the board reads it: parsed once, and whether it is a STOP decided once.

The webhook reads the text before storing it (a STOP opts the number out in the transaction
that stores it) and hands the same reading to the guards and the router, so no step parses
the words again or asks a second time whether it is a STOP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sms_board.handlers.stop import wants_to_stop
from sms_board.text.languages import vocabulary
from sms_board.text.words import Words


@dataclass(frozen=True)
class Text:
    words: Words
    # The STOP family, a plain request to stop, or Twilio's `OptOutType=STOP` (`wants_to_stop`):
    # a STOP is never held or dropped as a repeat, and the router's STOP stage confirms it.
    stops: bool

    @classmethod
    def read(cls, params: Mapping[str, Any], body: str, languages: tuple[str, ...] = ("en",)) -> Text:
        """`params`: Twilio's; `body`: what was sent (not the stored copy with its NUL markers);
        `languages`: the board's, whose packs' keywords and phrases are read too."""
        words = Words.parse(body, vocabulary(languages))
        return cls(words, wants_to_stop(params, words))
