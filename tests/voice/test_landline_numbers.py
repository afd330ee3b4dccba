"""Which numbers are landlines (`text.phone.is_landline`): the one place the board decides it."""

from __future__ import annotations

import pytest

from sms_board.text.phone import is_landline, normalise


@pytest.mark.parametrize(("written", "landline"), [
    ("029 2018 0000", True), ("029 2018 0999", True),  # Ofcom's Cardiff drama range
    ("0113 496 0000", True), ("0113 496 0999", True),  # and Leeds'
    ("020 7946 0123", True),
    ("07700 900123", False),  # the mobile drama range
    ("+1 202 555 0123", False),  # FIXED_LINE_OR_MOBILE: texted as a mobile
    ("0800 111 1111", False),  # freephone: no text, but not a landline either
])
def test_it_tells_a_landline_from_a_mobile_as_written(written, landline):
    number = normalise(written)
    assert number is not None
    assert is_landline(number) is landline
