"""Typo tolerance and everyday English: "Lost cat" is not POST, "Same here" is not NAME.

The router skips the words of `sms_board/handlers/everyday_words.txt`. These tests
work that list out again from `tests/data/english-30000.txt` and the keywords the
router knows today, so a new keyword whose one-typo neighbourhood swallows an
everyday word fails here until `make words` is run.
"""

from __future__ import annotations

import pytest

from sms_board.handlers.router import KEYWORDS, Context, Keyword, everyday_words, lookup_keyword
from tests.support.everyday_words import ENGLISH, REGENERATE, english_words, everyday_neighbours


def _listed(near: dict[str, set[str]], words: set[str]) -> str:
    return ", ".join(f"{word} (one edit from {'/'.join(sorted(near[word]))})" for word in sorted(words)[:20])


def test_no_keyword_reads_an_everyday_word_as_its_typo():
    near = everyday_neighbours()
    missing = set(near) - everyday_words()
    assert not missing, (
        f"{len(missing)} everyday English words would be read as keyword typos: {_listed(near, missing)}. "
        f"Run `{REGENERATE}` and commit sms_board/handlers/everyday_words.txt."
    )


def test_a_new_keyword_that_would_swallow_everyday_words_is_caught_until_make_words_runs():
    def list_(ctx: Context) -> None:
        pass

    with KEYWORDS.temporarily("LIST", Keyword("LIST", list_)):
        missing = set(everyday_neighbours()) - everyday_words()
        assert lookup_keyword("LSIT") is KEYWORDS["LIST"]
    assert lookup_keyword("LSIT") is None, "the router's spellings follow the registry when a keyword goes"
    assert {"LAST", "LIFT", "MIST"} <= missing
    assert "LOST" not in missing  # shipped already: it is one edit from POST too


def test_the_shipped_everyday_words_are_exactly_what_make_words_writes():
    stale = everyday_words() - set(everyday_neighbours())
    assert not stale, (
        f"sms_board/handlers/everyday_words.txt lists words no keyword is one edit from any more: "
        f"{', '.join(sorted(stale)[:20])}. Run `{REGENERATE}` and commit it."
    )


def test_the_english_list_is_the_30000_words_the_data_readme_names():
    lines = ENGLISH.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 30000 and lines[:5] == ["the", "to", "and", "of", "a"]
    assert {"LOST", "SAME", "JOHN", "MOST", "OFFERS"} <= english_words()
    assert not {"JION", "HLEP", "LAEVE", "INFRO", "SOTP"} & english_words()


@pytest.mark.parametrize("word", ["LOST", "SAME", "JOHN", "MOST", "OFFERS", "NAMES", "LEAVES", "JOINT"])
def test_everyday_words_are_never_guessed(word):
    assert lookup_keyword(word) is None


@pytest.mark.parametrize(("typo", "meant"), [
    ("JION", "JOIN"), ("HLEP", "HELP"), ("LAEVE", "LEAVE"), ("PSOT", "POST"), ("OFEFR", "OFFER"),
    ("DIGSET", "DIGEST"), ("BROADCATS", "BROADCAST"), ("NAEM", "NAME"),
])
def test_real_misspellings_are_still_read_as_their_keyword(typo, meant):
    entry = lookup_keyword(typo)
    assert entry is not None and entry.name == meant
