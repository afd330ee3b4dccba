"""Bad input about languages (issue 20, item 9): a language the board lacks, a Welsh keyword on an
English-only board, and texts that mix languages, each answered clearly with nothing lost."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from sms_board import create_app
from sms_board.models import InboundMessage, Item, LanguageChoice, Subscriber
from tests.conftest import Phone, Runner, app_config, session_of

SIONED, TOM = "+447700900321", "+447700900654"


@pytest.fixture
def bilingual(db, tmp_path):  # type: ignore[no-untyped-def]
    app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en"))
    Runner(app)("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    return app


def language_of(app, number: str) -> str | None:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return session.scalars(select(Subscriber.language).where(Subscriber.phone == number)).one()


@pytest.mark.parametrize("asked", ["IAITH XX", "IAITH", "iaith pwyleg", "IAITH PL"])
def test_iaith_with_a_language_the_board_lacks_answers_with_the_boards_languages_in_welsh(
    bilingual, asked
):
    phone = Phone(bilingual.test_client(), SIONED)
    phone.text("YMUNO ELM")

    assert phone.text(asked) == [
        "Mae'r bwrdd hwn yn siarad Cymraeg (IAITH CY), English (IAITH EN)."
    ]
    assert language_of(bilingual, SIONED) == "cy", "nothing changed"


def test_ymuno_on_an_english_only_board_is_kept_for_the_organisers_with_a_hint(app, areas, phone):
    sioned = phone(SIONED)

    replies = sioned.text("YMUNO ELM")

    assert replies == [
        "Thanks, an organiser will see this. To join, text JOIN <area or postcode>. "
        "Text HELP for help, STOP to stop."
    ]
    with session_of(app) as session:
        kept = session.scalars(
            select(InboundMessage).where(InboundMessage.body == "YMUNO ELM")
        ).one()
        assert kept.in_inbox and kept.handler == "inbox"
        assert session.scalars(select(LanguageChoice)).all() == []
        assert (
            session.scalars(select(Subscriber.language).where(Subscriber.phone == SIONED)).one()
            is None
        )


def test_a_text_mixing_languages_is_routed_and_answered_by_its_first_word(bilingual):
    sioned, tom = Phone(bilingual.test_client(), SIONED), Phone(bilingual.test_client(), TOM)
    sioned.text("JOIN ELM")
    tom.text("JOIN ELM")
    with session_of(bilingual) as session:  # their language not known (say, imported without one)
        session.execute(update(Subscriber).values(language=None))
        session.commit()

    welsh = sioned.text("ANGEN lift to the GP on Thursday please")
    english = tom.text("NEED lifft i'r meddyg ddydd Iau os gwelwch yn dda")

    assert welsh[0].startswith("Eich cais yw #R") and len(welsh) == 1
    assert english[0].startswith("Your request is #R") and len(english) == 1
    assert (language_of(bilingual, SIONED), language_of(bilingual, TOM)) == ("cy", "en")
    with session_of(bilingual) as session:
        bodies = set(session.scalars(select(Item.body)))
    assert bodies == {
        "lift to the GP on Thursday please",
        "lifft i'r meddyg ddydd Iau os gwelwch yn dda",
    }
