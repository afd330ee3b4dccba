"""Reading a text the way the router needs it: keyword, arguments and refs.

Matching folds case and diacritics (`JOÍN` = `JOIN`) and ignores leading and
trailing punctuation; the resident's own words are kept untouched for posts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_REF = re.compile(r"^#?\s*([NROIJ])?\s*#?(\d{1,9})$", re.IGNORECASE)
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)


def fold(text: str) -> str:
    """Upper-case ASCII-ish form for matching: diacritics removed, punctuation at the edges dropped."""
    decomposed = unicodedata.normalize("NFKD", text)
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
    cleaned = "".join(ch for ch in body if ch in "\n\t" or unicodedata.category(ch)[0] != "C" or ch == "\u200d")
    return cleaned.strip()


@dataclass(frozen=True)
class Words:
    """A text split for routing: the folded words, and the rest of the original after each word."""

    original: str
    tokens: tuple[str, ...]  # folded words, punctuation-only words dropped
    _rests: tuple[str, ...]  # original text after the i-th word

    @classmethod
    def parse(cls, body: str) -> Words:
        text = clean_body(body)
        tokens: list[str] = []
        rests: list[str] = []
        for match in re.finditer(r"\S+", text):
            folded = fold(match.group())
            if not folded:
                continue
            tokens.append(folded)
            rests.append(text[match.end():].strip())
        return cls(text, tuple(tokens), tuple(rests))

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
