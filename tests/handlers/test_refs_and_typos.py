"""Refs that aren't refs and typos that aren't typos: texts real residents send (issue 10, docs/language.md).

A token is a ref only when it names an existing item; typo tolerance is for misspellings,
never for English words, plurals, or a guess between two things the router knows.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from sms_board.handlers.router import lookup_keyword
from sms_board.models import Item, ItemKind, Subscriber, Subscription
from tests.conftest import session_of

SAM, HAL, ALEX = "+447700900123", "+447700900456", "+447700900789"


@pytest.fixture
def elm(areas, phone):
    """Sam, Hal and Alex live on Elm Street and have names."""
    people = {}
    for number, name in [(SAM, "Sam"), (HAL, "Hal"), (ALEX, "Alex")]:
        person = phone(number)
        person.text("JOIN ELM")
        person.text(f"NAME {name}")
        people[name.lower()] = person
    return people


def ref_in(text: str, letter: str) -> str:
    found = re.search(rf"#({letter}\d+)", text)
    assert found, f"no #{letter} ref in {text!r}"
    return found.group(1)


def items(app) -> list[Item]:
    with session_of(app) as session:
        return list(session.scalars(select(Item).order_by(Item.id)))


# ── a token is a ref only when it names an existing item ───────────────────


@pytest.mark.parametrize("text", [
    "O2 signal is down again on Oak Road",  # O2, the mobile network
    "N1 bus diverted via Upper Street",  # London postcodes
    "E1 market is on today",
    "W2 parking permits are going up",
    "#5 is the best bus",
])
def test_a_text_that_starts_like_a_ref_to_nothing_reaches_the_organisers(elm, inbound_rows, text):
    reply = elm["alex"].text(text)

    assert not any("not connected" in r for r in reply)
    row = inbound_rows()[-1]
    assert row.in_inbox and row.handler == "inbox"


def test_o2_with_a_notice_as_number_2_is_ordinary_text_not_a_wrong_connection(elm, inbound_rows):
    sam, alex = elm["sam"], elm["alex"]
    sam.text("NEED Lift to the GP")  # #R1
    assert "#N2" in alex.text("POST Jumble sale on Saturday")[0]

    reply = alex.text("O2 signal is down again on Oak Road")

    assert not any("not connected" in r for r in reply)
    assert inbound_rows()[-1].in_inbox


def test_a_ref_to_a_real_item_i_am_not_connected_on_still_says_so(elm):
    request = ref_in(elm["sam"].text("NEED Lift to the GP")[0], "R")

    assert "You're not connected on" in elm["alex"].text(f"{request} I can drive")[0]


@pytest.mark.parametrize("ask", ["ASK O2", "ASK O999", "ASK #2", "ASK 2"])
def test_ask_with_a_ref_that_names_no_offer_gets_a_hint_not_a_public_request(elm, app, ask):
    elm["sam"].text("NEED Lift to the GP")  # #R1
    elm["hal"].text("POST Jumble sale on Saturday")  # #N2, a notice, not an offer
    before = len(items(app))

    reply = elm["alex"].text(ask)

    assert len(reply) == 1 and "ASK <offer ref>" in reply[0]
    assert "We can't find" in reply[0]
    assert len(items(app)) == before


def test_ask_with_real_words_is_still_a_help_request(elm, app):
    reply = elm["alex"].text("ASK 2 volunteers for the litter pick")

    assert "Your request is #R" in reply[0]
    assert items(app)[-1].body == "2 volunteers for the litter pick"


def test_ask_with_the_ref_of_an_offer_asks_for_it(elm):
    offer = ref_in(elm["hal"].text("OFFER I can walk dogs")[0], "O")

    assert "asked your neighbour about" in elm["alex"].text(f"ASK {offer}")[0]


# ── typos: SHARE is never guessed, and every word the router knows counts ──


def _connected(elm) -> str:
    sam, hal = elm["sam"], elm["hal"]
    ref = ref_in(sam.text("NEED Lift to the GP on Thursday")[0], "R")
    hal.text(f"CAN {ref}")
    sam.text(f"OK {ref}")
    return ref


@pytest.mark.parametrize("typo", ["SHART", "SHRAE", "SAHRE", "SHARES"])
def test_a_typo_of_share_never_gives_my_number_away(elm, inbound_rows, typo):
    ref = _connected(elm)

    reply = elm["hal"].text(f"{typo} {ref}")

    assert not any("has your number" in r for r in reply)
    assert not any(HAL in text.body for text in elm["sam"].received())
    assert inbound_rows()[-1].in_inbox


def test_share_written_out_still_gives_my_number_to_my_match(elm):
    ref = _connected(elm)

    assert "Sam now has your number" in elm["hal"].text(f"SHARE {ref}")[0]
    assert HAL in elm["sam"].received()[-1].body


@pytest.mark.parametrize(("typo", "also_near"), [
    ("USUBSCRIBE", "UNSUBSCRIBE, a STOP word, as well as SUBSCRIBE"),
    ("NSUBSCRIBE", "UNSUBSCRIBE, a STOP word, as well as SUBSCRIBE"),
    ("NEND", "END, a STOP word, as well as NEED"),
    ("SHART", "START as well as SHARE"),
])
def test_a_typo_one_edit_from_a_stop_start_or_yes_word_is_not_guessed(typo, also_near):
    assert lookup_keyword(typo) is None, also_near


def test_a_misspelt_unsubscribe_never_joins_an_area(areas, phone, app):
    reply = phone(SAM).text("Usubscribe")

    assert reply == ["To stop all texts from this board, reply STOP."]
    with session_of(app) as session:
        assert not list(session.scalars(select(Subscription)))


# ── plurals and other English words are never keywords ────────────────────


@pytest.mark.parametrize("word", [
    "OFFERS", "NAMES", "POSTS", "LEAVES", "POSTED", "JOINING", "CLOSING", "SHARED", "DIGESTS", "INTROS", "UNLINKS",
    "STOPPED", "CANCELLED",
])
def test_a_keyword_with_an_ending_is_an_english_word_not_a_keyword(word):
    assert lookup_keyword(word) is None


@pytest.mark.parametrize(("typo", "meant"), [("JION", "JOIN"), ("HLEP", "HELP"), ("LAEVE", "LEAVE")])
def test_real_misspellings_still_work(typo, meant):
    entry = lookup_keyword(typo)
    assert entry is not None and entry.name == meant


def test_offers_of_help_welcome_publishes_no_offer(elm, app, inbound_rows):
    elm["alex"].text("Offers of help welcome")

    assert not [i for i in items(app) if i.kind == ItemKind.OFFER.value]
    assert inbound_rows()[-1].handler == "inbox"


def test_names_of_volunteers_leaves_my_name_alone(elm, app, inbound_rows):
    elm["alex"].text("Names of volunteers for the rota")

    with session_of(app) as session:
        alex = session.scalar(select(Subscriber).where(Subscriber.phone == ALEX))
        assert alex is not None and alex.name == "Alex"
    assert inbound_rows()[-1].handler == "inbox"


@pytest.mark.parametrize("text", [
    "Posts on the fence are broken", "Leaves blocking the drain", "Digests arrive too late for me",
    "Intros to the new neighbours were lovely",
])
def test_a_plural_first_word_is_ordinary_text_for_the_organisers(elm, app, inbound_rows, text):
    before = len(items(app))

    elm["alex"].text(text)

    assert len(items(app)) == before
    row = inbound_rows()[-1]
    assert row.in_inbox and row.handler == "inbox"
