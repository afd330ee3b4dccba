"""A Welsh or Polish resident's keywords in full: misspelt ones understood, the words DIGEST takes, and ASK.

On a `cy,en` board (and a `pl,en` one), through the signed webhook: `YMNUO ELM` joins as `YMUNO ELM`
does and sets Welsh; a Welsh word one letter from a keyword is left as a message; `CRYNODEB
WYTHNOSOL` and `PODSUMOWANIE WYŁĄCZ` change the digest as `DIGEST WEEKLY` and `DIGEST OFF` do;
`GOFYN O3` and `POPROŚ O3` ask for an offer as `ASK O3` does. Every answer in the resident's language.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from sms_board import create_app
from sms_board.models import InboundMessage, LanguageChoice, Subscriber
from tests.conftest import Phone, Runner, app_config, session_of

SIONED, TOM, ANIA = "+447700900321", "+447700900654", "+447700900987"


def board(db, tmp_path, languages: str) -> Flask:  # type: ignore[no-untyped-def]
    app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES=languages))
    Runner(app)("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    return app


@pytest.fixture
def welsh(db, tmp_path) -> Flask:
    return board(db, tmp_path, "cy,en")


@pytest.fixture
def polish(db, tmp_path) -> Flask:
    return board(db, tmp_path, "pl,en")


def person(app: Flask, number: str) -> Subscriber:
    with session_of(app) as session:
        return session.scalars(select(Subscriber).where(Subscriber.phone == number)).one()


def test_a_misspelt_welsh_keyword_joins_and_sets_welsh(welsh):
    replies = Phone(welsh.test_client(), SIONED).text("YMNUO ELM")

    assert replies == Phone(welsh.test_client(), TOM).text("YMUNO ELM")
    assert "Elm Street" in replies[0] and "Welcome" not in replies[0]
    with session_of(welsh) as session:
        choice = session.scalars(
            select(LanguageChoice).join(Subscriber).where(Subscriber.phone == SIONED)
        ).one()
        assert (choice.language, choice.wording) == ("cy", "YMNUO ELM")


def test_a_welsh_word_one_letter_from_a_keyword_is_a_message_not_the_keyword(welsh):
    phone = Phone(welsh.test_client(), SIONED)
    phone.text("YMUNO ELM")

    replies = phone.text(
        "Cangen newydd o'r llyfrgell ar agor ddydd Sadwrn"
    )  # a branch, not ANGEN (NEED)

    assert not any("#R" in reply for reply in replies)
    with session_of(welsh) as session:
        kept = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
        assert kept.in_inbox and kept.handler == "inbox"


def test_a_misspelt_polish_keyword_is_understood_on_a_polish_board(polish):
    replies = Phone(polish.test_client(), ANIA).text(
        "DOLACZ ELM"
    )  # DOŁĄCZ without its letters: exact
    assert replies == Phone(polish.test_client(), TOM).text(
        "DOLCAZ ELM"
    )  # a swapped pair: one edit
    assert person(polish, TOM).language == "pl"


@pytest.mark.parametrize(
    ("text", "frequency"),
    [
        ("CRYNODEB WYTHNOSOL", "weekly"),
        ("crynodeb dim", "off"),
        ("CRYNODEB DYDDIOL", "daily"),
        ("CRYNODEB WEEKLY", "weekly"),  # the English word after the Welsh keyword works too
    ],
)
def test_the_digest_words_in_welsh(welsh, text, frequency):
    phone = Phone(welsh.test_client(), SIONED)
    phone.text("YMUNO ELM")
    if frequency == "daily":
        phone.text("CRYNODEB DIM")

    replies = phone.text(text)

    assert person(welsh, SIONED).digest_frequency == frequency
    assert len(replies) == 1 and not re.search(r"\b(DAILY|WEEKLY|OFF|digest)\b", replies[0]), (
        replies
    )


@pytest.mark.parametrize(
    ("text", "frequency"),
    [
        ("PODSUMOWANIE TYGODNIOWO", "weekly"),
        ("podsumowanie wyłącz", "off"),
        ("PODSUMOWANIE WYLACZ", "off"),
    ],
)
def test_the_digest_words_in_polish(polish, text, frequency):
    phone = Phone(polish.test_client(), ANIA)
    phone.text("DOŁĄCZ ELM")

    replies = phone.text(text)

    assert person(polish, ANIA).digest_frequency == frequency
    assert len(replies) == 1 and not re.search(r"\b(DAILY|WEEKLY|OFF|digest)\b", replies[0]), (
        replies
    )


def test_a_welsh_digest_word_after_another_keyword_is_just_a_word(welsh):
    phone = Phone(welsh.test_client(), SIONED)
    phone.text("YMUNO ELM")

    replies = phone.text(
        "ANGEN dim ond bara a llaeth"
    )  # "nothing but bread and milk": DIM is OFF only after DIGEST

    assert "#R" in replies[0]
    with session_of(welsh) as session:
        from sms_board.models import Item

        assert session.scalars(select(Item.body)).one() == "dim ond bara a llaeth"


@pytest.mark.parametrize(
    ("languages", "join", "ask"),
    [("cy,en", "YMUNO ELM", "GOFYN"), ("pl,en", "DOŁĄCZ ELM", "POPROŚ")],
)
def test_the_packs_ask_asks_for_a_standing_offer(db, tmp_path, languages, join, ask):
    app = board(db, tmp_path, languages)
    tom, asker = Phone(app.test_client(), TOM), Phone(app.test_client(), SIONED)
    tom.text("JOIN ELM")
    tom.text("NAME Tom")
    ref = re.search(r"#(O\d+)", tom.text("OFFER Dog walking at weekends")[0]).group(1)
    asker.text(join)

    replies = asker.text(f"{ask} {ref}")

    assert len(replies) == 1 and ref in replies[0]
    assert f"would like your offer #{ref}" in tom.received()[-1].body
    assert ask in asker.text(f"{ask} O999")[0], "the hint names the pack's own word"
