"""Smart encoding replaces punctuation and spaces, never letters: every language's letters reach the handset as written."""

from __future__ import annotations

import json
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms_board.text.segments import (
    GSM7,
    UCS2,
    analyse,
    fit,
    is_gsm7,
    is_letter,
    smart_encode,
    split_segments,
    truncate_to_segments,
)

# Welsh writes a grave, an acute, a diaeresis or a circumflex on any vowel, w and y included.
WELSH_MARKS = ("\u0300", "\u0301", "\u0308", "\u0302")
WELSH_LETTERS = [unicodedata.normalize("NFC", base + mark) for base in "aeiouwyAEIOUWY" for mark in WELSH_MARKS]
WELSH_IN_GSM7 = [letter for letter in WELSH_LETTERS if is_gsm7(letter)]
WELSH_IN_UCS2 = [letter for letter in WELSH_LETTERS if not is_gsm7(letter)]
POLISH = "\u0105\u0107\u0119\u0142\u0144\u00f3\u015b\u017a\u017c\u0104\u0106\u0118\u0141\u0143\u00d3\u015a\u0179\u017b"
CIRCUMFLEXES = "\u0175\u0177\u00e2\u00ea\u00ee\u00f4\u00fb\u0174\u0176\u00c2\u00ca\u00ce\u00d4\u00db"  # ŵ ŷ â ê î ô û

# "Dŵr wedi'i ddiffodd — ŷ â ê" (the water is off), with the curly apostrophe a phone types.
WELSH_NOTICE = "D\u0175r wedi\u2019i ddiffodd \u2014 \u0177 \u00e2 \u00ea"


def test_welsh_has_56_letters_with_a_diacritic_13_of_them_in_gsm7():
    assert all(len(letter) == 1 for letter in WELSH_LETTERS)  # each one precomposed character
    assert len(set(WELSH_LETTERS)) == 56
    assert sorted(WELSH_IN_GSM7) == sorted("\u00c4\u00c9\u00d6\u00dc\u00e0\u00e4\u00e8\u00e9\u00ec\u00f2\u00f6\u00f9\u00fc")
    assert len(WELSH_IN_UCS2) == 43
    assert set(CIRCUMFLEXES) <= set(WELSH_IN_UCS2)


@pytest.mark.parametrize("letter", WELSH_IN_GSM7)
def test_a_welsh_letter_in_gsm7_keeps_a_text_gsm7_and_costs_nothing_extra(letter):
    text = "Croeso " + letter + "x" * 152  # 160 characters: one text
    assert smart_encode(text) == text
    info = analyse(smart_encode(text))
    assert (info.encoding, info.segments, info.units) == (GSM7, 1, 160)
    assert analyse(text + "x").segments == analyse("Croeso " + "x" * 154).segments == 2


@pytest.mark.parametrize("letter", WELSH_IN_UCS2)
def test_a_welsh_letter_outside_gsm7_makes_the_text_ucs2_and_survives_smart_encoding(letter):
    text = f"Dw{letter}r wedi ei ddiffodd"
    assert smart_encode(text) == text
    assert analyse(smart_encode(text)).encoding == UCS2
    # Typed as a base letter and a combining mark, it is kept as typed too.
    decomposed = unicodedata.normalize("NFD", text)
    assert smart_encode(decomposed) == decomposed


def test_a_gsm7_letter_typed_as_base_and_mark_is_sent_as_the_same_letter_in_gsm7():
    assert smart_encode("Caf" + "e\u0301") == "Caf\u00e9"
    assert analyse(smart_encode("Caf" + "e\u0301")).encoding == GSM7


@pytest.mark.parametrize("text", [
    POLISH,
    "Za\u017c\u00f3\u0142\u0107 g\u0119\u015bl\u0105 ja\u017a\u0144",  # Zażółć gęślą jaźń
    "\u0141\u00f3d\u017a, \u015al\u0105sk, \u017bory, Gda\u0144sk",
])
def test_polish_letters_make_the_text_ucs2_and_survive_smart_encoding(text):
    assert smart_encode(text) == text
    assert analyse(smart_encode(text)).encoding == UCS2


@pytest.mark.parametrize("letter", list(POLISH))
def test_each_polish_letter_forces_ucs2_and_is_kept(letter):
    assert not is_gsm7(letter)
    assert smart_encode(letter + "ok") == letter + "ok"


@pytest.mark.parametrize("text", [
    "gar\u00e7on", "\u0152uvre \u0153uf", "\u00de\u00f3r \u0110uro", "Siobh\u00e1n", "Hawai\u02bbi",
    "\u0391\u0398\u0397\u039d\u0391", "\u1d04\u1d00\u0280", "\u00e1\u00ed\u00f3\u00fa \u00e3\u00f5 \u00eb\u00ef",
])
def test_letters_of_any_language_are_never_swapped_for_look_alikes(text):
    assert smart_encode(text) == text


def test_the_welsh_notice_keeps_its_letters_and_loses_only_its_curly_punctuation():
    assert smart_encode(WELSH_NOTICE) == "D\u0175r wedi'i ddiffodd - \u0177 \u00e2 \u00ea"


@pytest.mark.parametrize(("count", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_welsh_in_ucs2_counts_70_alone_then_67_per_part(count, segments):
    info = analyse("\u0175" * count)
    assert (info.encoding, info.units, info.segments) == (UCS2, count, segments)


def test_a_surrogate_pair_counts_two_units_beside_welsh_letters():
    assert analyse("\u0175" * 68 + "\U0001f4a7").units == 70
    assert analyse("\u0175" * 68 + "\U0001f4a7").segments == 1
    assert analyse("\u0175" * 69 + "\U0001f4a7").segments == 2
    # 66 + 2 > 67: the pair moves whole to the next part.
    assert split_segments("\u0175" * 66 + "\U0001f4a7" + "\u0177" * 5) == ["\u0175" * 66, "\U0001f4a7" + "\u0177" * 5]


def test_a_letter_beyond_the_basic_plane_is_kept_and_counts_two_units():
    deseret = "\U00010437"  # a letter written as a surrogate pair
    assert is_letter(deseret)
    assert smart_encode("a " + deseret) == "a " + deseret
    assert analyse(deseret * 35).segments == 1
    assert analyse(deseret * 36).segments == 2


def test_smart_encoding_still_makes_curly_punctuation_gsm7_and_the_text_cheaper():
    text = "It\u2019s on \u2014 \u201cbring a chair\u201d\u2026 see you at\u00a0six." + " Thanks" * 16
    before, after = analyse(text), analyse(smart_encode(text))
    assert smart_encode(text).startswith("It's on - \"bring a chair\"... see you at six.")
    assert (before.encoding, after.encoding) == (UCS2, GSM7)
    assert after.segments < before.segments


# Text or emoji presentation, not part of a letter: dropped when that is what keeps a text from GSM-7.
VARIATION_SELECTORS = "\ufe0e\ufe0f"


def test_every_letter_and_mark_in_unicode_is_kept_or_only_composed():
    for code_point in range(sys.maxunicode + 1):
        ch = chr(code_point)
        category = unicodedata.category(ch)
        if category[0] == "L":
            assert smart_encode(ch) in {ch, unicodedata.normalize("NFC", ch)}, hex(code_point)
        elif category[0] == "M" and ch not in VARIATION_SELECTORS:
            written = "a" + ch
            assert smart_encode(written) in {written, unicodedata.normalize("NFC", written)}, hex(code_point)


def _letters(text: str) -> list[str]:
    return [ch for ch in text if unicodedata.category(ch)[0] == "L"]


mixed_texts = st.lists(st.sampled_from([
    *WELSH_LETTERS, *POLISH, "\u0436", "\u03b1", "\u00e7", "\u0153", "\u02bb", "a", "Z", " ", "\n",
    "\u2019", "\u201c", "\u2014", "\u2026", "\u00a0", "\u2009", "\u00bd", "\uff01", "\U0001f600", "\u20ac",
]), max_size=200).map("".join)


@settings(deadline=None)
@given(mixed_texts)
def test_smart_encoding_never_changes_the_letters_of_a_text(text):
    assert _letters(smart_encode(text)) == _letters(text)



@settings(deadline=None)
@given(st.one_of(mixed_texts, st.text(alphabet=["\u0175", "a", "\u2026", "\u2019"], min_size=60, max_size=400)),
       st.integers(min_value=1, max_value=4))
def test_a_text_cut_to_fit_still_fits_once_smart_encoded(text, max_segments):
    # As a broadcast is cut: smart-encoded, cut, then smart-encoded again on its way out.
    cut = truncate_to_segments(smart_encode(text), max_segments)
    assert fit(smart_encode(cut), max_segments)


def test_the_ellipsis_that_marks_a_cut_welsh_text_stays_one_code_unit():
    cut = truncate_to_segments("\u0175" * 200, 1)
    assert cut == "\u0175" * 69 + "\u2026"
    assert smart_encode(cut) == cut


def test_the_segments_command_prints_the_welsh_letters_intact(runner):
    shown = runner("segments", "--smart", WELSH_NOTICE).stdout.splitlines()
    assert shown == ["1 segment, UCS-2, 27 characters", "D\u0175r wedi'i ddiffodd - \u0177 \u00e2 \u00ea"]
    measured = json.loads(runner("segments", "--json", "--smart", WELSH_NOTICE).stdout)
    assert measured == {"encoding": UCS2, "segments": 1, "characters": 27,
                        "text": "D\u0175r wedi'i ddiffodd - \u0177 \u00e2 \u00ea"}
