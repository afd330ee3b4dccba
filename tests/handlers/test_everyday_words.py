"""Typo tolerance and everyday words in every language: "Lost cat" is not POST, "Cangen" is not ANGEN.

The router skips the words of each pack's `translations/<code>/everyday_words.txt`. These tests
work those lists out again from each language's whole word list (English:
`tests/data/english-30000.txt`; Welsh and Polish: their pack's `words.txt.gz`) and the keywords
of every pack the router knows today, so a new keyword whose one-typo neighbourhood swallows an
everyday word of any language fails here until `make words` is run.
"""

from __future__ import annotations

from functools import cache

import pytest

from sms_board.handlers.router import (
    KEYWORDS,
    Context,
    Keyword,
    everyday_words,
    lookup_keyword,
    read_keyword,
)
from sms_board.text import languages
from sms_board.text.words import fold
from tests.support.everyday_words import (
    ENGLISH,
    REGENERATE,
    english_words,
    everyday_neighbours,
    shipped,
    tolerant,
    words_of,
)

WELSH_BOARD = ("cy", "en")
ALL = ("cy", "en", "pl")


@cache
def _neighbours(code: str) -> dict[str, set[str]]:
    """`everyday_neighbours(code)` with the registry as shipped, worked out once for the tests that share it."""
    return everyday_neighbours(code)


def _listed(near: dict[str, set[str]], words: set[str]) -> str:
    return ", ".join(f"{word} (one edit from {'/'.join(sorted(near[word]))})" for word in sorted(words)[:20])


def test_welsh_polish_and_english_have_typo_tolerance():
    assert set(tolerant()) == {"en", "cy", "pl"}


@pytest.mark.parametrize("code", ["en", "cy", "pl"])
def test_no_keyword_of_any_pack_reads_an_everyday_word_as_its_typo(code):
    near = _neighbours(code)
    missing = set(near) - languages.pack(code).everyday_words()
    assert not missing, (
        f"{len(missing)} everyday words of {code} would be read as keyword typos: {_listed(near, missing)}. "
        f"Run `{REGENERATE}` and commit {shipped(code)}."
    )


@pytest.mark.parametrize("code", ["en", "cy", "pl"])
def test_the_shipped_everyday_words_are_exactly_what_make_words_writes(code):
    stale = languages.pack(code).everyday_words() - set(_neighbours(code))
    assert not stale, (
        f"{shipped(code)} lists words no keyword is one edit from any more: "
        f"{', '.join(sorted(stale)[:20])}. Run `{REGENERATE}` and commit it."
    )


@pytest.mark.parametrize("code", ["cy", "pl"])
def test_no_word_of_the_whole_list_is_read_as_a_misspelt_keyword_on_a_board_of_every_language(code):
    """Every word of the pack's list, as the router reads a first word: a keyword exactly, or nothing."""
    misread = {}
    for word in sorted(words_of(code)):
        spelling = read_keyword(word, ALL)
        if spelling is not None and word not in KEYWORDS and spelling.word != word:
            misread[word] = spelling.word
    assert misread == {}


def test_a_new_keyword_that_would_swallow_everyday_words_is_caught_until_make_words_runs():
    def list_(ctx: Context) -> None:
        pass

    with KEYWORDS.temporarily("LIST", Keyword("LIST", list_)):
        missing = set(everyday_neighbours()) - everyday_words()
        assert lookup_keyword("LSIT") is KEYWORDS["LIST"]
    assert lookup_keyword("LSIT") is None, "the router's spellings follow the registry when a keyword goes"
    assert {"LAST", "LIFT", "MIST"} <= missing
    assert "LOST" not in missing  # shipped already: it is one edit from POST too


def test_the_english_list_is_the_30000_words_the_data_readme_names():
    lines = ENGLISH.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 30000 and lines[:5] == ["the", "to", "and", "of", "a"]
    assert {"LOST", "SAME", "JOHN", "MOST", "OFFERS"} <= english_words()
    assert not {"JION", "HLEP", "LAEVE", "INFRO", "SOTP"} & english_words()


def test_the_welsh_and_polish_lists_are_the_ones_their_packs_name():
    welsh, polish = languages.pack("cy").words(), languages.pack("pl").words()
    assert len(welsh) == 351885 + 1 and "ymuno" in welsh and "cangen" in welsh and "joio" in welsh
    assert len(polish) == 50000 and polish[:3] == ["w", "i", "nie"] and "pomocy" in polish
    assert not {"YMNUO", "GADEAL", "CYMROTH"} & words_of("cy")
    assert not {"POMCO", "WIECJE", "PODSUMOWNIE"} & words_of("pl")


@pytest.mark.parametrize("word", ["LOST", "SAME", "JOHN", "MOST", "OFFERS", "NAMES", "LEAVES", "JOINT"])
def test_everyday_words_are_never_guessed(word):
    assert lookup_keyword(word) is None


@pytest.mark.parametrize(("word", "near"), [
    ("CANGEN", "ANGEN"), ("ANGEL", "ANGEN"), ("ADAEL", "GADAEL"), ("CYMUNO", "YMUNO"), ("JOIO", "JOIN"),
    ("ANGER", "ANGEN"), ("DAWN", "IAWN"), ("BOYS", "BRYS"),  # English words near Welsh keywords
])
def test_welsh_and_english_everyday_words_are_not_read_as_welsh_keywords(word, near):
    assert lookup_keyword(word, WELSH_BOARD) is None, near


@pytest.mark.parametrize(("word", "near"), [("POMOCY", "POMOC"), ("MORZE", "MORE"), ("OBSZAR", "OBSZARY"),
                                            ("RAPORT", "REPORT"), ("PILNIE", "PILNE")])
def test_polish_everyday_words_are_not_read_as_keywords(word, near):
    assert lookup_keyword(word, ("pl", "en")) is None, near


@pytest.mark.parametrize(("typo", "meant"), [
    ("JION", "JOIN"), ("HLEP", "HELP"), ("LAEVE", "LEAVE"), ("PSOT", "POST"), ("OFEFR", "OFFER"),
    ("DIGSET", "DIGEST"), ("BROADCATS", "BROADCAST"), ("NAEM", "NAME"),
])
def test_real_misspellings_are_still_read_as_their_keyword(typo, meant):
    entry = lookup_keyword(typo)
    assert entry is not None and entry.name == meant


@pytest.mark.parametrize(("typo", "meant", "word"), [
    ("YMNUO", "JOIN", "JOIN"), ("GADEAL", "LEAVE", "LEAVE"), ("CYMROTH", "HELP", "HELP"), ("ANEGN", "NEED", "NEED"),
    ("GOFNY", "NEED", "ASK"), ("CRYNODBE", "DIGEST", "DIGEST"),
])
def test_welsh_misspellings_are_read_as_their_keyword_on_a_welsh_board(typo, meant, word):
    spelling = read_keyword(typo, WELSH_BOARD)
    assert spelling is not None and spelling.keyword.name == meant
    assert (spelling.language, spelling.english) == ("cy", word)
    assert lookup_keyword(typo) is None, "an English-only board reads no Welsh, nor its typos"


@pytest.mark.parametrize(("typo", "meant"), [
    (fold("DOLĄCZ"), "JOIN"), ("DOLCAZ", "JOIN"), ("POMCO", "HELP"), ("WIECJE", "MORE"), ("PODSUMOWNIE", "DIGEST"),
])
def test_polish_misspellings_are_read_as_their_keyword_on_a_polish_board(typo, meant):
    entry = lookup_keyword(typo, ("pl", "en"))
    assert entry is not None and entry.name == meant


@pytest.mark.parametrize("typo", ["STOPOI", "DECHARU", "ZATRZYMJA", "ANGHOFOI"])
def test_a_misspelt_stop_start_or_forget_of_a_pack_is_never_guessed(typo):
    assert lookup_keyword(typo, ALL) is None
