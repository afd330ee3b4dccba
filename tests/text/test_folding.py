"""Folding a word for matching, and cleaning a body: the quick way for plain ASCII gives what the full Unicode way gives."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from sms_board.text.words import _EDGE_PUNCT, _UNDECOMPOSED, clean_body, fold


def folded_the_long_way(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    return _EDGE_PUNCT.sub("", "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper())


def cleaned_the_long_way(body: str) -> str:
    kept = "".join(ch for ch in body if ch in "\n\t" or unicodedata.category(ch)[0] != "C" or ch == "\u200d")
    return kept.strip()


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_plain_ascii_folds_as_the_full_unicode_way_folds_it(text):
    assert fold(text) == folded_the_long_way(text)


@given(st.text())
def test_any_text_folds_as_the_full_unicode_way_folds_it(text):
    assert fold(text) == folded_the_long_way(text)


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_plain_ascii_is_cleaned_as_the_full_unicode_way_cleans_it(body):
    assert clean_body(body) == cleaned_the_long_way(body)


def test_folding_reads_accents_strokes_and_edge_punctuation_away():
    assert fold("  Élm St!") == "ELM ST"
    assert fold("dołącz") == "DOLACZ"
    assert fold("Ymuno,") == "YMUNO"
    assert fold("JOIN ELM") == "JOIN ELM"


def test_cleaning_drops_control_characters_and_keeps_the_words():
    assert clean_body("  POST lost cat\x00\x07  ") == "POST lost cat"
    assert clean_body("NEED a lift\n\tto the GP ") == "NEED a lift\n\tto the GP"
    assert clean_body("Diolch 👍🏽 ") == "Diolch 👍🏽"
