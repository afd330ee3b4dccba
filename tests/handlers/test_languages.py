"""A board that speaks Welsh and English: each resident is texted in their language, chosen by what they text.

`SMS_BOARD_LANGUAGES=cy,en`: Welsh is the board's first language. A resident's language is set by
the first keyword they text that belongs to one language, or by a word that chooses one, and is
kept with its wording; until it is known every text goes once in each language, Welsh first.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from sms_board import create_app
from sms_board.models import LanguageChoice, Subscriber
from sms_board.plumbing.config import ConfigError, load_settings
from tests.conftest import Phone, Runner, app_config, session_of

SIONED, TOM, ANIA = "+447700900321", "+447700900654", "+447700900987"


@pytest.fixture
def bilingual(db, tmp_path) -> Flask:
    app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en"))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    return app


def texter(app: Flask, number: str) -> Phone:
    return Phone(app.test_client(), number)


def language_of(app: Flask, number: str) -> tuple[str | None, list[tuple[str, str, str]]]:
    with session_of(app) as session:
        person = session.scalars(select(Subscriber).where(Subscriber.phone == number)).one()
        choices = session.scalars(select(LanguageChoice).where(LanguageChoice.subscriber_id == person.id)
                                  .order_by(LanguageChoice.id)).all()
        return person.language, [(c.language, c.wording, c.channel) for c in choices]


def test_a_welsh_keyword_sets_welsh_and_the_answer_comes_in_welsh_alone(bilingual):
    replies = texter(bilingual, SIONED).text("YMUNO ELM")

    assert len(replies) == 1
    assert "Elm Street" in replies[0] and "Welcome" not in replies[0]
    assert language_of(bilingual, SIONED) == ("cy", [("cy", "YMUNO ELM", "sms")])


def test_an_english_keyword_sets_english(bilingual):
    replies = texter(bilingual, TOM).text("JOIN ELM")

    assert len(replies) == 1 and replies[0].startswith("Welcome to Elm Street")
    assert language_of(bilingual, TOM)[0] == "en"


def test_a_text_in_no_language_is_answered_in_each_language_welsh_first(bilingual):
    replies = texter(bilingual, ANIA).text("AREAS")  # AREAS is English: it sets English
    assert len(replies) == 1

    unknown = texter(bilingual, "+447700900111").text("ELM?")  # no keyword: the inbox hint, in both
    assert len(unknown) == 2
    assert unknown[1].startswith(("You", "Thanks", "We", "Text", "Your", "Neighbourhood"))  # English second
    assert language_of(bilingual, "+447700900111")[0] is None


def test_choosing_a_language_by_its_word_or_by_code_is_kept_with_its_wording(bilingual):
    phone = texter(bilingual, TOM)
    phone.text("JOIN ELM")

    welsh = phone.text("CYMRAEG")
    assert welsh == ["Iaith negeseuon y bwrdd hwn o hyn ymlaen: Cymraeg. Tecstiwch IAITH i weld y lleill."]
    english = phone.text("iaith en")
    assert english == ["Texts from this board will now come in English. Text LANGUAGE to see the others."]
    assert language_of(bilingual, TOM) == ("en", [("en", "JOIN ELM", "sms"), ("cy", "CYMRAEG", "sms"),
                                                 ("en", "iaith en", "sms")])


def test_a_language_the_board_does_not_speak_gets_the_list_of_those_it_does(bilingual):
    phone = texter(bilingual, TOM)
    phone.text("JOIN ELM")

    assert phone.text("LANGUAGE XX") == ["This board speaks Cymraeg (LANGUAGE CY), English (LANGUAGE EN)."]
    assert phone.text("POLSKI") == ["This board speaks Cymraeg (LANGUAGE CY), English (LANGUAGE EN)."]
    assert language_of(bilingual, TOM)[0] == "en"


def test_stopio_is_a_stop_and_is_confirmed_in_welsh(bilingual):
    phone = texter(bilingual, SIONED)
    phone.text("YMUNO ELM")

    replies = phone.text("STOPIO")

    assert replies == ["Rydych wedi dad-danysgrifio ac ni chewch ragor o negeseuon gan y bwrdd hwn. "
                       "Atebwch DECHRAU i ailymuno."]
    with session_of(bilingual) as session:
        assert session.scalars(select(Subscriber).where(Subscriber.phone == SIONED)).one().opted_out_at is not None


def test_carrier_stop_words_stay_stop_in_every_language(bilingual):
    phone = texter(bilingual, SIONED)
    phone.text("YMUNO ELM")
    phone.text("STOP")
    with session_of(bilingual) as session:
        assert session.scalars(select(Subscriber).where(Subscriber.phone == SIONED)).one().opted_out_at is not None


def test_an_english_only_board_does_not_read_welsh_keywords_and_records_no_language(app, areas, phone):
    replies = phone(TOM).text("YMUNO ELM")
    assert not replies[0].startswith("Welcome")
    with session_of(app) as session:
        assert session.scalars(select(LanguageChoice)).all() == []


@pytest.mark.parametrize(("raw", "error"), [
    ("xx,en", "no language pack for xx"),
    ("cy,cy", "names cy twice"),
])
def test_a_board_refuses_a_language_it_has_no_pack_for_in_one_line(raw, error):
    with pytest.raises(ConfigError, match=error):
        load_settings({"SMS_BOARD_LANGUAGES": raw})


def test_a_sign_in_code_goes_in_the_organisers_language_in_the_same_statement(bilingual):
    import re

    from sms_board.models import Outbox
    from tests.support.web import ask_for_code, enter_code

    Runner(bilingual)("organiser", "add", SIONED, "elm")
    texter(bilingual, SIONED).text("CYMRAEG")
    client = bilingual.test_client()

    ask_for_code(client, SIONED)

    with session_of(bilingual) as session:
        body = session.scalars(select(Outbox.body).where(Outbox.to_number == SIONED).order_by(Outbox.id.desc())).first()
    assert "sign-in code" not in body  # the Welsh text alone
    code = re.search(r"\d{6}", body).group(0)
    assert enter_code(client, code).headers["Location"] == "/dashboard"


def test_help_more_in_welsh_is_help_more(bilingual):
    phone = texter(bilingual, SIONED)
    phone.text("YMUNO ELM")

    assert phone.text("CYMORTH MWY") == phone.text("HELP MORE")


def test_an_organiser_of_a_bilingual_board_finds_the_per_language_broadcast_in_help_more(bilingual):
    phone = texter(bilingual, SIONED)
    phone.text("YMUNO ELM")
    assert "DARLLEDU CY" not in " ".join(phone.text("CYMORTH MWY")), "residents are not told of BROADCAST"
    Runner(bilingual)("organiser", "add", SIONED, "elm")

    welsh = " ".join(phone.text("CYMORTH MWY"))
    assert "Fersiwn i bob iaith (CY/EN): DARLLEDU CY <neges>." in welsh
    phone.text("ENGLISH")
    assert "A version per language (CY/EN): BROADCAST CY <msg>." in " ".join(phone.text("HELP MORE"))
