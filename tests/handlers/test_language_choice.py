"""A resident's language where they see it (MY), and an area's languages where residents are texted.

On a `cy,en` board MY ends with the resident's language and how to change it, in that language.
An area may speak only Welsh (`area add … --languages cy`): someone whose language is not known
(imported without one) and whose every area speaks Welsh only is texted in Welsh only; someone
also in an area that speaks both gets both; a chosen language always wins.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from sms_board import create_app
from sms_board.handlers.mine import MY_SEGMENTS
from sms_board.text.segments import UCS2, analyse
from tests.conftest import Phone, Runner, app_config

SIONED, TOM, ANIA = "+447700900321", "+447700900654", "+447700900987"
PAPER = "paper form at the 12 Nov meeting"
WELSH_STOP = "Rydych wedi dad-danysgrifio"
ENGLISH_STOP = "You're unsubscribed"


@pytest.fixture
def bilingual(db, tmp_path) -> Flask:
    app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en"))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("area", "add", "llan", "Llanfair", "--postcode", "LL61", "--languages", "cy")
    return app


def texter(app: Flask, number: str) -> Phone:
    return Phone(app.test_client(), number)


def imported(app: Flask, tmp_path: Path, *rows: str) -> None:
    listing = tmp_path / "list.csv"
    listing.write_text("number,area,name,consent_source,language\n" + "".join(f"{row}\n" for row in rows),
                       encoding="utf-8")
    Runner(app)("subscribers", "import", str(listing))


# ── MY ─────────────────────────────────────────────────────────────────────


def test_my_ends_with_the_residents_language_in_it(bilingual):
    welsh, english = texter(bilingual, SIONED), texter(bilingual, TOM)
    welsh.text("YMUNO ELM")
    english.text("JOIN ELM")

    [listing] = welsh.text("FY")
    assert listing.endswith("\nIaith: Cymraeg (IAITH i newid)")
    assert english.text("MY") == ["Nothing open. Text NEED <msg> to ask for help, OFFER <msg> to offer it.\n"
                                  "Language: English (LANGUAGE to change)"]
    english.text("IAITH CY")
    assert english.text("MY")[0].endswith("\nIaith: Cymraeg (IAITH i newid)")


def test_my_on_a_board_of_one_language_says_nothing_of_languages(app, areas, phone):
    sam = phone(TOM)
    sam.text("JOIN ELM")
    assert sam.text("MY") == ["Nothing open. Text NEED <msg> to ask for help, OFFER <msg> to offer it."]


def test_my_with_long_titles_keeps_the_language_line_within_its_room(bilingual):
    tom = texter(bilingual, TOM)
    tom.text("JOIN ELM")
    for thing in ("apples", "bikes", "chairs", "desks"):
        tom.text(f"OFFER Spare {thing} for anyone who can collect them from the back garden this week, ask first")

    [listing] = tom.text("MY")

    assert listing.endswith("\nLanguage: English (LANGUAGE to change)")
    assert analyse(listing).segments <= MY_SEGMENTS
    assert all(re.match(r"#O\w+ Spare \w+ for .*\.\.\.$", line) for line in listing.splitlines()[1:-1])


def test_my_measures_a_welsh_readers_room_in_ucs2_when_their_titles_need_it(bilingual):
    """Titles with Welsh letters make MY UCS-2: two texts hold 134 characters, not 306."""
    sioned = texter(bilingual, SIONED)
    sioned.text("YMUNO ELM")
    for thing in ("Dŵr potel", "Bara brith", "Cawl cennin"):
        sioned.text(f"CYNNIG {thing} i unrhyw un sy'n methu mynd i'r siop yr wythnos hon, gofynnwch")

    [listing] = sioned.text("FY")

    measured = analyse(listing)
    assert measured.encoding == UCS2 and measured.segments <= MY_SEGMENTS, listing
    lines = listing.splitlines()
    assert lines[-1] == "Iaith: Cymraeg (IAITH i newid)" and len(lines) == 5
    for thing, line in zip(("Dŵr potel", "Bara brith", "Cawl cennin"), lines[1:4], strict=True):
        assert re.match(rf"#O\d+ {thing} i unrhyw .*\u2026$", line), line


# ── an area's languages ────────────────────────────────────────────────────


def test_someone_not_known_in_an_area_that_speaks_welsh_only_is_texted_in_welsh_only(bilingual, tmp_path):
    imported(bilingual, tmp_path, f"{SIONED},llan,,{PAPER},", f"{ANIA},llan,,{PAPER},", f"{ANIA},elm,,{PAPER},")

    only_welsh = texter(bilingual, SIONED).text("STOP")
    both = texter(bilingual, ANIA).text("STOP")

    assert len(only_welsh) == 1 and only_welsh[0].startswith(WELSH_STOP)
    assert [text.startswith(start) for text, start in zip(both, (WELSH_STOP, ENGLISH_STOP), strict=True)] == \
        [True, True], "also in an area that speaks both: both, Welsh first"


def test_a_language_of_their_own_wins_over_the_areas(bilingual, tmp_path):
    imported(bilingual, tmp_path, f"{TOM},llan,,{PAPER},en")

    assert texter(bilingual, TOM).text("STOP") == [
        "You're unsubscribed and will get no more texts from this board. Reply START to rejoin."]


def test_joining_an_area_that_speaks_welsh_only_offers_welsh_and_nothing_else(bilingual):
    welcome = texter(bilingual, TOM).text("JOIN LLAN")  # JOIN is English: Tom's language is English
    assert len(welcome) == 1 and welcome[0].startswith("Welcome to Llanfair board.")
    assert welcome[0].endswith("\nCymraeg? Atebwch CYMRAEG.")

    welsh = texter(bilingual, SIONED).text("YMUNO LLAN")
    assert len(welsh) == 1 and welsh[0].startswith("Croeso i fwrdd Llanfair.") and "ENGLISH" not in welsh[0], \
        "Llanfair speaks Welsh only: no English offered"


def test_a_welcome_with_the_language_offer_still_says_where_posts_appear_in_either_language(bilingual):
    """The public-page sentence of issue 18 survives the line offering the board's other language."""
    Runner(bilingual)("area", "add", "oak", "Oak Road", "--postcode", "SE4 1", "--no-public-page")

    [english] = texter(bilingual, TOM).text("JOIN ELM")
    [welsh] = texter(bilingual, SIONED).text("YMUNO ELM")

    assert english.splitlines() == [
        "Welcome to Elm Street board. Text POST <msg> to share, NEED <msg> to ask for help, STOP to stop. "
        "Your posts appear at board.example.org/board/elm with your first name: text NAME <first name> to give it.",
        "Cymraeg? Atebwch CYMRAEG."]
    assert "Mae'ch postiadau'n ymddangos ar board.example.org/board/elm gyda'ch enw cyntaf" in welsh.splitlines()[0]
    assert welsh.splitlines()[-1] == "English? Reply ENGLISH."

    [no_page] = texter(bilingual, TOM).text("JOIN OAK")
    assert "board.example.org" not in no_page and "appear" not in no_page
    assert no_page.splitlines()[-1] == "Cymraeg? Atebwch CYMRAEG."
