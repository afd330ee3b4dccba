"""How an SMS body is encoded and split into segments, and how to make it cheaper.

Carrier rules (3GPP TS 23.038 / 23.040): a message is GSM-7 when every character is in
the GSM 03.38 basic set or its extension table (extension characters cost two septets,
ESC + char), otherwise UCS-2 (UTF-16 code units). A single message carries 160 septets or
70 code units; once it has to be concatenated, each part loses room to the user data
header and carries 153 septets or 67 code units.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import regex

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# The 128-entry table minus 0x1B, which is the escape into the extension table, not a character.
GSM7_BASIC: frozenset[str] = frozenset(
    "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5"
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u00c6\u00e6\u00df\u00c9"
    " !\"#\u00a4%&'()*+,-./0123456789:;<=>?"
    "\u00a1ABCDEFGHIJKLMNOPQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7"
    "\u00bfabcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0"
)
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|\u20ac")
_GSM7_ALL = GSM7_BASIC | GSM7_EXTENSION

_SINGLE_LIMIT = {GSM7: 160, UCS2: 70}
_PART_LIMIT = {GSM7: 153, UCS2: 67}

_GRAPHEME = regex.compile(r"\X")

_ELLIPSIS = "\u2026"
_WORD_CUT_WINDOW = 20


@dataclass(frozen=True)
class SegmentInfo:
    """The encoding, segment count and size of one SMS body."""

    encoding: str
    segments: int
    characters: int
    units: int
    text: str

    def as_dict(self) -> dict[str, str | int]:
        """The public summary: encoding, segments, characters and text."""
        return {
            "encoding": self.encoding,
            "segments": self.segments,
            "characters": self.characters,
            "text": self.text,
        }


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM 03.38 basic set or its extension table."""
    return _GSM7_ALL.issuperset(text)


def is_letter(cluster: str) -> bool:
    """True when `cluster` (one character as a reader sees it) is a letter of some language.

    That is a character whose Unicode category is a letter (L*), with whatever marks sit on it,
    or a combining mark (M*) with nothing before it. Smart encoding never changes one
    (docs/architecture.md, "Smart encoding").
    """
    return bool(cluster) and (unicodedata.category(cluster[0])[0] == "M"
                              or any(unicodedata.category(ch)[0] == "L" for ch in cluster))


def _encoding_of(text: str) -> str:
    return GSM7 if is_gsm7(text) else UCS2


def _cost(ch: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if ch in GSM7_EXTENSION else 1
    # Astral code points are a surrogate pair: two UTF-16 code units.
    return 2 if ord(ch) > 0xFFFF else 1


def _units(text: str, encoding: str) -> int:
    # Counted with str methods: digests measure every candidate page, many times per run.
    if encoding == GSM7:
        return len(text) + sum(text.count(ch) for ch in GSM7_EXTENSION)
    return len(text.encode("utf-16-le")) // 2


def _pack(text: str, encoding: str) -> list[str]:
    if not text:
        return []
    units = _units(text, encoding)
    if units <= _SINGLE_LIMIT[encoding]:
        return [text]
    limit = _PART_LIMIT[encoding]
    if units == len(text):
        # Every character is one unit: the parts are plain slices.
        return [text[start:start + limit] for start in range(0, len(text), limit)]
    # Greedy packing, not ceil division: an escape pair or a surrogate pair that does not
    # fit in what is left of a part moves whole to the next part, leaving a gap.
    parts: list[str] = []
    start = 0
    used = 0
    for index, ch in enumerate(text):
        cost = _cost(ch, encoding)
        if used + cost > limit:
            parts.append(text[start:index])
            start = index
            used = 0
        used += cost
    parts.append(text[start:])
    return parts


def analyse(text: str) -> SegmentInfo:
    """Measure `text` exactly as given (no character substitution)."""
    encoding = _encoding_of(text)
    return SegmentInfo(
        encoding=encoding,
        segments=len(_pack(text, encoding)),
        # In ASCII only CR LF is one grapheme of two characters.
        characters=len(text) - text.count("\r\n") if text.isascii() else len(_GRAPHEME.findall(text)),
        units=_units(text, encoding),
        text=text,
    )


def split_segments(text: str) -> list[str]:
    """The parts a phone would receive; they join back to `text`."""
    return _pack(text, _encoding_of(text))


def fit(text: str, max_segments: int) -> bool:
    """True when `text` needs at most `max_segments` segments."""
    # Only the segment count: digests call this many times per page, and counting
    # grapheme clusters (as `analyse` does) is the slow part.
    return len(_pack(text, _encoding_of(text))) <= max_segments


def _table(chars: Iterable[str], replacement: str) -> dict[str, str]:
    return dict.fromkeys(chars, replacement)


def _build_replacements() -> dict[str, str]:
    table: dict[str, str] = {}
    # Quotes, primes and apostrophe look-alikes; U+201A becomes a comma, as Twilio does. Not the
    # modifier letters that look like them (U+02BB, U+02BC): in Hawaiian, Ukrainian and others they
    # are letters of the word, and letters are never replaced (`is_letter`).
    table |= _table(
        "\u2018\u2019\u201b\u2032\u2035\u00b4`\u275b\u275c\uff40\u0313\u0314",
        "'",
    )
    table |= _table(
        "\u00ab\u00bb\u201c\u201d\u201e\u201f\u2033\u2036\u275d\u275e\u301d\u301e\u301f",
        '"',
    )
    table["\u201a"] = ","
    table |= {"\u2039": "<", "\u203a": ">"}
    # Hyphens, dashes, minus and list bullets all read as a hyphen in a text message.
    table |= _table(
        "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2e3a\u2e3b\u23bc\u23bd"
        "\ufe58\u2022\u2023\u25e6",
        "-",
    )
    table |= {"\u2026": "...", "\u2025": "..", "\u203c": "!!"}
    table |= _table(
        "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
        "\u202f\u205f\u3000\u2028\u2029\t\x0b",
        " ",
    )
    table["\x85"] = "\n"
    # Invisible format characters and stray controls carry nothing a handset would show.
    table |= _table("\u200b\u2060\ufeff\u00ad\u180e", "")
    controls = (chr(cp) for cp in [*range(0x20), 0x7F, *range(0x80, 0xA0)])
    table |= _table((ch for ch in controls if ch not in "\t\n\x0b\f\r\x85"), "")
    # Fullwidth ASCII punctuation and digits map by a fixed offset (fullwidth letters are letters);
    # fullwidth grave lands on "`", handled above.
    table |= {chr(cp): chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)
              if cp != 0xFF40 and not unicodedata.category(chr(cp)).startswith("L")}
    table |= {
        "\ufe50": ",", "\ufe51": ",", "\ufe52": ".", "\ufe54": ";", "\ufe55": ":",
        "\ufe56": "?", "\ufe57": "!", "\ufe59": "(", "\ufe5a": ")", "\ufe5b": "{",
        "\ufe5c": "}", "\ufe5f": "#", "\ufe60": "&", "\ufe61": "*", "\ufe62": "+",
        "\ufe63": "-", "\ufe64": "<", "\ufe65": ">", "\ufe66": "=", "\ufe68": "\\",
        "\ufe69": "$", "\ufe6a": "%", "\ufe6b": "@", "\ufe10": ",", "\ufe11": ",",
        "\ufe13": ":", "\ufe14": ";", "\ufe15": "!", "\ufe16": "?",
        "\u3001": ",", "\u3002": ".", "\uff61": ".", "\uff64": ",",
    }
    table |= {
        "\u00f7": "/", "\u2044": "/", "\u2215": "/", "\u29f8": "/",
        "\u29f9": "\\", "\u29f5": "\\",
        "\u00a6": "|", "\u2223": "|", "\u23b8": "|", "\u23b9": "|", "\u23d0": "|",
        "\u239c": "|", "\u239f": "|",
        "\u02dc": "~", "\u02f7": "~", "\u223c": "~",
        "\u2017": "_", "\u02d6": "+", "\u02f8": ":",
        "\u2982": ":", "\ua789": ":", "\u204f": ";", "\ua78a": "=",
        "\u00bc": "1/4", "\u00bd": "1/2", "\u00be": "3/4",
        "\u2768": "(", "\u276a": "(", "\u27ee": "(", "\u2985": "(",
        "\u2769": ")", "\u276b": ")", "\u27ef": ")", "\u2986": ")",
        "\u2774": "{", "\u2775": "}",
    }
    table |= _table(
        "\u204e\u2217\u229b\u2722\u2723\u2724\u2725\u2731\u2732\u2733\u273a\u273b"
        "\u273c\u273d\u2743\u2749\u274a\u274b\u29c6",
        "*",
    )
    # Combining marks with nothing to sit on (after a space or digit) read as the symbol.
    table |= {
        "\u0302": "^", "\u1dcd": "^", "\u0303": "~", "\u0330": "~", "\u0334": "~",
        "\u0326": ",", "\u0332": "_", "\u0337": "/", "\u0338": "/", "\u0347": "=",
        "\u20d2": "|", "\u20d3": "|", "\u20e5": "\\",
    }
    return table


_REPLACEMENTS = _build_replacements()
# In a text that stays UCS-2 a replacement buys nothing, so none may make it longer:
# "\u2026" is one code unit there and "..." three (a text cut to fit would no longer fit).
_SAME_LENGTH = {ch: new for ch, new in _REPLACEMENTS.items() if len(new) <= len(ch)}

# Joiners and variation selectors shape emoji and some scripts; drop them only when that
# is what stands between the message and GSM-7.
_SHAPING = frozenset("\u200c\u200d\ufe0e\ufe0f")
_MAX_PASSES = 4


def _replace_chars(text: str, table: dict[str, str]) -> str:
    return "".join(table.get(ch, ch) for ch in text)


def _encode_cluster(cluster: str, table: dict[str, str] = _REPLACEMENTS) -> str:
    if is_gsm7(cluster):
        return cluster
    # The same letter, composed ("e" and a combining acute are "\u00e9"), is not a replacement.
    composed = unicodedata.normalize("NFC", cluster)
    if is_gsm7(composed):
        return composed
    if is_letter(cluster):
        return cluster
    replaced = _replace_chars(composed, table)
    if is_gsm7(replaced):
        return replaced
    # Not normalised: characters without a GSM equivalent must reach the handset untouched.
    return _replace_chars(cluster, table)


def _encode_once(text: str) -> str:
    if is_gsm7(text):
        return text
    unshaped = "".join(ch for ch in text if ch not in _SHAPING)
    if unshaped != text:
        candidate = "".join(_encode_cluster(c) for c in _GRAPHEME.findall(unshaped))
        if is_gsm7(candidate):
            return candidate
    clusters = _GRAPHEME.findall(text)
    encoded = "".join(_encode_cluster(c) for c in clusters)
    if is_gsm7(encoded):
        return encoded
    return "".join(_encode_cluster(c, _SAME_LENGTH) for c in clusters)


def smart_encode(text: str) -> str:
    """Replace punctuation and spaces that have a GSM-7 look-alike, as Twilio's Smart Encoding does.

    Curly quotes, dashes, the ellipsis, odd spaces and similar typography become their GSM-7
    look-alikes; letters of every language are kept as written (`is_letter`: "\u0175" stays
    "\u0175", never "w"), as are emoji and other symbols without a look-alike, so the result
    may still be UCS-2. Then no replacement makes it longer ("\u2026" stays). Pure GSM-7 text
    is returned unchanged and the function is idempotent.
    """
    # A replacement can create a new grapheme cluster with its neighbour (a stripped
    # control between a letter and an accent), so run to a fixed point.
    result = text
    for _ in range(_MAX_PASSES):
        following = _encode_once(result)
        if following == result:
            break
        result = following
    return result


PAGE = "{page}"


def _with_marker(prefix: str, marker: str, frame: tuple[str, str] = ("", "")) -> str:
    before, after = frame
    if marker == _ELLIPSIS and is_gsm7(before + prefix + after):
        return prefix + "..."
    return prefix + marker


def _frame(within: str) -> tuple[str, str]:
    before, found, after = within.partition(PAGE)
    if not found:
        raise ValueError(f"the frame {within!r} has no {PAGE} for the part")
    return before, after


def frame_segments(within: str, marker: str = _ELLIPSIS) -> int:
    """The segments `within` takes with only the marker in its place ("{page}"): the fewest a text cut to
    fit it can be given (`truncate_to_segments` raises for fewer)."""
    before, after = _frame(within)
    return len(split_segments(before + _with_marker("", marker, (before, after)) + after))


def truncate_to_segments(text: str, max_segments: int, marker: str = _ELLIPSIS, *, within: str = PAGE) -> str:
    """Shorten `text` to fit `max_segments`, ending with `marker`.

    Returns `text` unchanged when it already fits. Otherwise keeps the longest prefix
    (whole grapheme clusters, cut at a space in its last 20 characters when there is one)
    that fits with the marker, measured in the encoding of the result. The marker "\u2026"
    is written as "..." when the result is GSM-7, so it cannot force UCS-2.

    `within`: the text the part is placed into, "{page}" standing for it (`"For Rose: {page}"`): the
    whole is measured, only the part returned. Raises ValueError when the frame with the marker alone
    does not fit (`frame_segments` says how many segments it needs).
    """
    before, after = _frame(within)
    if fit(before + text + after, max_segments):
        return text
    if max_segments < 1:
        raise ValueError("max_segments must be at least 1 for a non-empty text")

    # Every code point costs at least one unit, so nothing longer than this can fit.
    ceiling = max(_SINGLE_LIMIT[GSM7], _PART_LIMIT[GSM7] * max_segments)
    cuts = [0]
    for match in _GRAPHEME.finditer(text):
        if match.end() > ceiling:
            break
        cuts.append(match.end())

    def candidate(end: int) -> str:
        return _with_marker(text[:end].rstrip(), marker, (before, after))

    def fits_at(end: int) -> bool:
        return fit(before + candidate(end) + after, max_segments)

    if not fits_at(0):
        raise ValueError(f"the marker {marker!r} alone does not fit in {max_segments} segments")

    # Appending characters never lowers the part count of greedy packing, and the encoding
    # only moves from GSM-7 to UCS-2 as the prefix grows, so the fitting cuts are a prefix
    # of `cuts` and can be bisected.
    low, high = 0, len(cuts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if fits_at(cuts[middle]):
            low = middle
        else:
            high = middle - 1
    end = cuts[low]

    if end < len(text) and not text[end].isspace():
        window_start = max(0, end - _WORD_CUT_WINDOW)
        space = max(
            (i for i in range(window_start, end) if text[i].isspace()),
            default=-1,
        )
        if space > 0 and fits_at(space):
            end = space
    return candidate(end)
