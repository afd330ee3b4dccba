"""A digest page in every language keeps each item's line findable, so a post taken down or
forgotten is rewritten in a Welsh or Polish digest as surely as in an English one."""

from __future__ import annotations

import pytest

from sms_board.text import languages
from sms_board.text.digest_text import item_lines_replaced
from sms_board.text.templates import render
from tests.text.template_samples import thing


@pytest.mark.parametrize("code", languages.available())
def test_a_post_taken_down_is_rewritten_on_a_page_in_every_language(code):
    sections = [
        {"kind": "request", "entries": [thing(ref="R1", name=None, text="Lift to the clinic?"),
                                        thing(ref="R12", name="Sam", text="Ladder for the gutters")]},
        {"kind": "offer", "entries": [thing(ref="O3", name="Ann", text="Spare seedlings")]},
    ]
    page = render("digest_page", code, area="Elm Street", sections=sections, more=4, first=True)

    rewritten = item_lines_replaced(page, {"R1": "(withdrawn)"})

    changed = [(before, after) for before, after in zip(page.split("\n"), rewritten.split("\n"), strict=True)
               if before != after]
    assert changed == [(next(line for line in page.split("\n") if line.startswith("#R1 ")), "#R1 (withdrawn)")]
    assert "Ladder for the gutters" in rewritten and "Spare seedlings" in rewritten
