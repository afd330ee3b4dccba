"""Digest pages: each subscriber's news from an area, fitted to the segment budget.

A digest shows notices, then requests for help, then standing offers, with each
item's ref and its author's name (never a number). Pages are smart-encoded and at
most SMS_BOARD_DIGEST_SEGMENTS segments each; all but the last say how many items
follow, which MORE reads on. Once a calendar month a subscriber's digest ends with
how to stop, when that line fits in the segments the digest takes anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sms_board.models import ItemKind
from sms_board.segments import analyse, fit, smart_encode
from sms_board.texts import render

# Notices first, then requests for help, then standing offers (the template titles them).
SECTION_ORDER = {ItemKind.NOTICE: 0, ItemKind.REQUEST: 1, ItemKind.OFFER: 2}
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


def _page(area_name: str, entries: Sequence[Entry], more: int, first: bool) -> str:
    sections: list[dict[str, object]] = []
    for entry in entries:
        if not sections or sections[-1]["kind"] != entry.kind:
            sections.append({"kind": entry.kind, "entries": []})
        sections[-1]["entries"].append(entry)  # type: ignore[attr-defined]
    return smart_encode(render("digest_page", area=area_name, sections=sections, more=more, first=first))


def _longest_fitting(area_name: str, entry: Entry, more: int, first: bool, budget: int) -> Entry:
    """The entry cut (at a word where it can be) so that it fits a page on its own."""
    low, high = 0, len(entry.text)
    while low < high:
        middle = (low + high + 1) // 2
        if fit(_page(area_name, [entry.shortened(middle)], more, first), budget):
            low = middle
        else:
            high = middle - 1
    return entry.shortened(low)


def paginate(area_name: str, entries: Sequence[Entry], budget: int) -> list[str]:
    """Digest pages of at most `budget` segments each; each but the last says how many items follow."""
    area_name = smart_encode(area_name)
    pages: list[str] = []
    index = 0
    while index < len(entries):
        first = not pages
        on_page: list[Entry] = []
        while index < len(entries):
            more_after = len(entries) - index - 1
            if fit(_page(area_name, [*on_page, entries[index]], more_after, first), budget):
                on_page.append(entries[index])
                index += 1
                continue
            if not on_page:
                # Too long even alone: the page carries as much of it as fits.
                on_page.append(_longest_fitting(area_name, entries[index], more_after, first, budget))
                index += 1
            break
        pages.append(_page(area_name, on_page, len(entries) - index, first))
    return pages


def with_stop_line(page: str) -> str | None:
    """The page ending with the "how to stop" line, or None when that would cost another segment."""
    longer = smart_encode(page + "\n" + render("digest_stop_line"))
    before, after = analyse(page), analyse(longer)
    return longer if (after.segments, after.encoding) == (before.segments, before.encoding) else None
