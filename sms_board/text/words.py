"""Reading a text the way the router needs it: keyword, arguments and refs.

Matching folds case and diacritics (`JOÍN` = `JOIN`) and ignores leading and
trailing punctuation; the resident's own words are kept untouched for posts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sms_board.text.languages import Vocabulary

_REF = re.compile(r"^#?\s*([NROIJ])?\s*#?(\d{1,9})$", re.IGNORECASE)
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)


# Letters with a stroke or bar that Unicode decomposition leaves whole: `DOŁĄCZ` is matched as `DOLACZ`.
_UNDECOMPOSED = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ħ": "h", "Ħ": "H",
                               "ı": "i"})


def fold(text: str) -> str:
    """Upper-case ASCII-ish form for matching: diacritics removed, punctuation at the edges dropped.

    For matching only: what a resident wrote is kept as written everywhere else.
    """
    if text.isascii():  # most texts: nothing to decompose, no stroke or bar to take off
        return _EDGE_PUNCT.sub("", text.upper())
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _EDGE_PUNCT.sub("", stripped.upper())


# Bidirectional formatting characters: embeddings and overrides (U+202A–U+202E), isolates
# (U+2066–U+2069) and marks (U+200E, U+200F, U+061C). `please refund \u202e0001\u202c pounds`
# reads "please refund 1000 pounds" on a screen; without them it reads as it was typed.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NO_BIDI = dict.fromkeys(map(ord, BIDI_CONTROLS))


def without_bidi(text: str) -> str:
    """`text` as it was typed, for a screen: the bidi controls (which `clean_body` also drops) left out."""
    return text.translate(_NO_BIDI)


def clean_body(body: str) -> str:
    """The body as a person meant it: NULs and control characters removed, spaces collapsed at the ends."""
    if body.isascii() and body.isprintable():  # most texts: no control character to remove
        return body.strip()
    cleaned = "".join(ch for ch in body if ch in "\n\t" or unicodedata.category(ch)[0] != "C" or ch == "\u200d")
    return cleaned.strip()


_APOSTROPHES = str.maketrans("", "", "'\u2019\u2018`")


def plain_phrase(text: str) -> str:
    """Folded words, apostrophes dropped: how urgent and STOP phrases are written and read (`I've` → `IVE`)."""
    return " ".join(folded.translate(_APOSTROPHES) for word in text.split() if (folded := fold(word)))


@dataclass(frozen=True)
class Words:
    """A text split for routing: the folded words, and the rest of the original after each word.

    A board speaking other languages reads their keywords as the English ones (`YMUNO ELM` is read
    `JOIN ELM`); `said` keeps the word as folded, `language` the language that word belongs to.
    """

    original: str
    tokens: tuple[str, ...]  # folded words, punctuation-only words dropped
    _rests: tuple[str, ...]  # original text after the i-th word
    said: str = ""  # the first word as folded, before a pack's keyword was read as the English one
    language: str | None = None  # the language of the first word, when it is a pack's own keyword
    vocabulary: Vocabulary | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, body: str, vocabulary: Vocabulary | None = None) -> Words:
        text = clean_body(body)
        tokens: list[str] = []
        rests: list[str] = []
        for match in re.finditer(r"\S+", text):
            folded = fold(match.group())
            if not folded:
                continue
            tokens.append(folded)
            rests.append(text[match.end():].strip())
        said = tokens[0] if tokens else ""
        language = None
        if vocabulary is not None and said in vocabulary.keywords:
            tokens[0], language = vocabulary.keywords[said]
            # A keyword's own word after it is read the same way: CYMORTH MWY is HELP MORE. Only
            # the folded words change; what the resident wrote (`rest`) is kept as written.
            if len(tokens) > 1 and tokens[1] in vocabulary.keywords:
                tokens[1] = vocabulary.keywords[tokens[1]][0]
        return cls(text, tuple(tokens), tuple(rests), said, language, vocabulary)

    @cached_property
    def plain(self) -> str:
        """The words as phrases are written (`plain_phrase`), the first as the resident wrote it. Worked
        out once a text: the STOP and urgent phrases of every pack are looked for in it (`holds_phrase`)."""
        return " ".join(token.translate(_APOSTROPHES) for token in (self.said, *self.tokens[1:]) if token)

    def argument(self, index: int = 1) -> str:
        """The `index`-th word as the English word it means after this text's keyword, in any
        language of the board (CRYNODEB DYDDIOL: DAILY); the word itself when it is none."""
        token = self.tokens[index] if index < len(self.tokens) else ""
        if self.vocabulary is None or not token:
            return token
        return self.vocabulary.arguments.get((self.first, token), token)

    @property
    def first(self) -> str:
        return self.tokens[0] if self.tokens else ""

    def __len__(self) -> int:
        return len(self.tokens)

    def rest(self, after: int = 1) -> str:
        """Original text after the first `after` words (`POST Lost cat!` → `Lost cat!`)."""
        if after <= 0:
            return self.original
        if after > len(self._rests):
            return ""
        return self._rests[after - 1]


@dataclass(frozen=True)
class Ref:
    number: int
    letter: str | None  # N, R, O, I, J, or None for a bare number

    def __str__(self) -> str:
        return f"{self.letter or '#'}{self.number}"


def parse_ref(token: str) -> Ref | None:
    """`#12`, `12`, `R12`, `r#12` → Ref; anything else → None. Whether it names an item is the caller's question."""
    match = _REF.match(token.strip())
    if not match:
        return None
    letter = match.group(1).upper() if match.group(1) else None
    return Ref(int(match.group(2)), letter)


# What may follow YES and still be a plain yes ("Yes please", "yes ok", "yes thank you").
COURTESY_WORDS = frozenset({
    "PLEASE", "PLS", "PLZ", "OK", "OKAY", "THANKS", "THANK", "YOU", "TA", "THX", "CHEERS", "SURE", "GO", "AHEAD",
    "SEND", "IT",
})
MAX_COURTESY_WORDS = 2


def says_yes(tokens: tuple[str, ...]) -> bool:
    """YES alone or with at most two courtesy words: `Yes!`, `YES please`, `yes ok`."""
    return (
        bool(tokens) and tokens[0] == "YES" and len(tokens) <= 1 + MAX_COURTESY_WORDS
        and all(token in COURTESY_WORDS for token in tokens[1:])
    )


def holds_phrase(words: Words, phrases: tuple[str, ...]) -> bool:
    """Whether the text holds one of `phrases` (written as `plain_phrase` writes them) as whole words."""
    padded = f" {words.plain} "
    return any(f" {phrase} " in padded for phrase in phrases)
