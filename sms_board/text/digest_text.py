"""A digest page's text: the one owner of how a page, and an item's line on it, is written.

`broadcast/digest_pages` writes pages with `page`; `community/digest_lines` rewrites an item's
line in pages and texts already built with `item_lines_replaced` (an item taken down, FORGET).
Writing a line and recognising it live here together so the two cannot drift apart. It sits
with the text tools, not in `broadcast/`, because `community` may not import `broadcast`
(imports run one way, docs/architecture.md) and both need it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sms_board.text.languages import SOURCE_LANGUAGE
from sms_board.text.segments import smart_encode
from sms_board.text.templates import render

_WORD_CUT_WINDOW = 20


@dataclass(frozen=True)
class Entry:
    """One item as a digest shows it: ref, the author's name (never a number) and the text."""

    id: int
    kind: str
    ref: str
    name: str | None
    text: str

    def shortened(self, length: int) -> Entry:
        """The entry cut to about `length` characters, at a word where one ends nearby, marked with "..."."""
        if length >= len(self.text):
            return self
        cut = self.text[:length]
        if not self.text[length].isspace():
            space = cut.rfind(" ", max(0, length - _WORD_CUT_WINDOW))
            if space > 0:
                cut = cut[:space]
        return Entry(self.id, self.kind, self.ref, self.name, cut.rstrip(" ,;:-") + "...")


def page(area_name: str, entries: Sequence[Entry], more: int, first: bool, language: str = SOURCE_LANGUAGE) -> str:
    """One digest page (templates/sms/digest_page.txt) in `language`: each entry's line starts `#<ref> `."""
    sections: list[dict[str, object]] = []
    for entry in entries:
        if not sections or sections[-1]["kind"] != entry.kind:
            sections.append({"kind": entry.kind, "entries": []})
        sections[-1]["entries"].append(entry)  # type: ignore[attr-defined]
    return smart_encode(render("digest_page", language, area=area_name, sections=sections, more=more, first=first))


def _line_start(ref: str) -> str:
    # As digest_page.txt writes an entry's line; the space keeps #1 from matching #12's line.
    return f"#{ref} "


def item_lines_replaced(text: str, words_by_ref: Mapping[str, str]) -> str:
    """`text` (a page, or a text written from one) with each listed item's line saying `#<ref> <words>`."""
    lines = {_line_start(ref): _line_start(ref) + words for ref, words in words_by_ref.items()}
    return "\n".join(
        next((new for start, new in lines.items() if line.startswith(start)), line) for line in text.split("\n"))
