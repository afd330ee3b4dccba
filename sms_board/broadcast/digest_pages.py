"""Digest pages: each subscriber's news from an area, fitted to the segment budget.

A digest shows notices, then requests for help, then standing offers, with each
item's ref and its author's name (never a number). Pages are smart-encoded and at
most SMS_BOARD_DIGEST_SEGMENTS segments each; all but the last say how many items
follow, which MORE reads on. Once a calendar month a subscriber's digest ends with
how to stop, when that line fits in the segments the digest takes anyway. How a page and
an item's line on it are written is `digest_text`'s (community rewrites lines with it).
"""

from __future__ import annotations

from collections.abc import Sequence

from sms_board.models import ItemKind
from sms_board.text.digest_text import Entry, page
from sms_board.text.languages import SOURCE_LANGUAGE
from sms_board.text.segments import analyse, fit, smart_encode
from sms_board.text.templates import render

# Notices first, then requests for help, then standing offers (the template titles them).
SECTION_ORDER = {ItemKind.NOTICE: 0, ItemKind.REQUEST: 1, ItemKind.OFFER: 2}

def _longest_fitting(area_name: str, entry: Entry, more: int, first: bool, budget: int, language: str) -> Entry:
    """The entry cut (at a word where it can be) so that it fits a page on its own."""
    low, high = 0, len(entry.text)
    while low < high:
        middle = (low + high + 1) // 2
        if fit(page(area_name, [entry.shortened(middle)], more, first, language), budget):
            low = middle
        else:
            high = middle - 1
    return entry.shortened(low)


def paginate(area_name: str, entries: Sequence[Entry], budget: int, language: str = SOURCE_LANGUAGE) -> list[str]:
    """Digest pages in `language` of at most `budget` segments each; each but the last says how many items follow.

    A language whose words need UCS-2 fits fewer items on a page; MORE reads on as before.
    """
    area_name = smart_encode(area_name)
    pages: list[str] = []
    index = 0
    while index < len(entries):
        first = not pages
        on_page: list[Entry] = []
        while index < len(entries):
            more_after = len(entries) - index - 1
            if fit(page(area_name, [*on_page, entries[index]], more_after, first, language), budget):
                on_page.append(entries[index])
                index += 1
                continue
            if not on_page:
                # Too long even alone: the page carries as much of it as fits.
                on_page.append(_longest_fitting(area_name, entries[index], more_after, first, budget, language))
                index += 1
            break
        pages.append(page(area_name, on_page, len(entries) - index, first, language))
    return pages


def with_stop_line(page: str, language: str = SOURCE_LANGUAGE) -> str | None:
    """The page ending with the "how to stop" line, or None when that would cost another segment."""
    longer = smart_encode(page + "\n" + render("digest_stop_line", language))
    before, after = analyse(page), analyse(longer)
    return longer if (after.segments, after.encoding) == (before.segments, before.encoding) else None
