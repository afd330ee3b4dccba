"""The area word after POST / NOTICE / NEED / ASK / OFFER: a target, never part of the post.

The board's own "Which area?" reply teaches `POST ELM <msg>`, so residents write it whatever
the number of areas they are in. Through the signed webhook, as a phone sends it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms_board.models import Item
from tests.conftest import session_of

SAM, PRIYA = "+447700900123", "+447700900456"


def stored(app) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """Every item as the board keeps it: (kind, area slug, text)."""
    with session_of(app) as session:
        return [(item.kind, item.area.slug, item.body) for item in session.scalars(select(Item).order_by(Item.id))]


@pytest.fixture
def sam(areas, phone):  # type: ignore[no-untyped-def]
    """Sam lives on Elm Street only."""
    resident = phone(SAM)
    resident.text("JOIN ELM")
    resident.text("NAME Sam")
    return resident


@pytest.mark.parametrize(("text", "kind"), [
    ("NEED ELM Someone to water my tomatoes", "request"),
    ("ASK elm Someone to water my tomatoes", "request"),
    ("OFFER Elm: Someone to water my tomatoes", "offer"),
    ("POST Elm Street Someone to water my tomatoes", "notice"),
    ("NOTICE Elm St Someone to water my tomatoes", "notice"),
    ("post ELM, Someone to water my tomatoes", "notice"),
])
def test_the_area_word_of_a_one_area_resident_is_the_target_not_the_text(sam, app, text, kind):
    reply = sam.text(text)[0]

    assert "#" in reply, reply
    assert stored(app) == [(kind, "elm", "Someone to water my tomatoes")]
    listing = sam.text("MY")[0]
    assert "Someone to water" in listing and "ELM" not in listing


def test_the_area_word_alone_is_an_empty_post(sam, app):
    assert sam.text("POST ELM")[0] == sam.text("POST")[0]
    assert stored(app) == []


@pytest.mark.parametrize("text", ["POST OAK Street party Saturday", "NEED Oak Road Someone to water my tomatoes",
                                  "OFFER oak: lifts to the shops"])
def test_an_area_the_resident_is_not_in_is_refused_with_how_to_join_or_post_at_home(sam, app, text):
    reply = sam.text(text)

    keyword = text.split()[0].upper()
    assert reply == [f"You're not in Oak Road: text JOIN OAK first, or {keyword} ELM <msg> for Elm Street."]
    assert stored(app) == []


def test_the_refusal_names_every_area_the_resident_is_in(sam, app):
    sam.text("JOIN RIVER")

    reply = sam.text("POST OAK Street party Saturday")[0]

    assert reply == ("You're not in Oak Road: text JOIN OAK first, or POST ELM <msg> for Elm Street, "
                     "POST RIVER <msg> for Riverside.")
    assert stored(app) == []


def test_the_way_out_the_refusal_teaches_keeps_the_other_areas_name_in_the_text(sam, app):
    assert sam.text("POST Oak Road closed on Tuesday")[0].startswith("You're not in Oak Road")

    assert "to Elm Street" in sam.text("POST ELM Oak Road closed on Tuesday")[0]
    assert stored(app) == [("notice", "elm", "Oak Road closed on Tuesday")]


def test_naming_an_area_before_joining_any_says_to_join_it(areas, phone, app):
    reply = phone(PRIYA).text("POST OAK Street party Saturday")

    assert reply == ["You're not in Oak Road: text JOIN OAK first."]
    assert stored(app) == []


def test_a_resident_in_two_areas_names_either_by_slug_or_name(sam, app):
    sam.text("JOIN OAK")

    assert "to Oak Road" in sam.text("POST Oak Road Street party Saturday")[0]
    assert "#R" in sam.text("NEED elm Lift to the GP")[0]
    assert stored(app) == [("notice", "oak", "Street party Saturday"), ("request", "elm", "Lift to the GP")]


@pytest.mark.parametrize("text", [
    "POST Elms are being cut down on Friday",  # ELMS: one edit from ELM, and English
    "POST Oat milk spare, free to a good home",  # OAT: one edit from OAK
    "NEED Eml bin collected",  # a typo of ELM is still a word of the text, as JOIN reads areas
    "OFFER Rivers of tea at the fete",  # RIVERS: RIVER with an ending
    "POST Elmstead Road is closed",
    "NEED SE6 residents to sign the petition",  # a postcode is no area word
])
def test_an_ordinary_first_word_that_resembles_an_area_is_kept(sam, app, text):
    reply = sam.text(text)[0]

    assert "#" in reply and "not in" not in reply, reply
    [(_kind, slug, body)] = stored(app)
    assert (slug, body) == ("elm", text.split(" ", 1)[1])


def test_a_private_area_the_resident_is_not_in_is_an_ordinary_word(sam, app, runner):
    runner("area", "add", "tenants", "Tower Tenants", "--private")

    reply = sam.text("POST Tenants meeting moved to 7pm")[0]

    assert "to Elm Street" in reply and "Tower Tenants" not in reply
    assert stored(app) == [("notice", "elm", "Tenants meeting moved to 7pm")]


def test_an_offer_posted_with_the_area_word_is_asked_for_by_its_ref(sam, phone, app):
    priya = phone(PRIYA)
    priya.text("JOIN ELM")
    offer = priya.text("OFFER ELM Lifts to the shops")[0]
    assert stored(app) == [("offer", "elm", "Lifts to the shops")]
    ref = offer.split("#", 1)[1].split()[0].rstrip(".")

    assert sam.text(f"ASK {ref}")[0].startswith(f"We've asked your neighbour about #{ref}")
