"""How a subscriber hears the board: a landline enrolled by an organiser who rang them, DIGEST CALL and TEXT.

`sms-board subscribers add NUMBER AREA --voice --consent "…"` records the consent as an import
does (its words, when, who), and each refusal is one line: a landline without `--voice`, `--voice`
on a board that places no calls, no consent, a bad language, a number that opted out. A mobile
texts `DIGEST CALL` (`CRYNODEB GALWAD`, `PODSUMOWANIE TELEFON`) to have its digests read by a
call and `DIGEST TEXT` to go back; MY says which.
"""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import select

from sms_board import create_app
from sms_board.models import AuditEntry, ConsentEvent, HearsBy, Outbox, Subscriber, Subscription
from sms_board.text.segments import analyse
from tests.conftest import Phone, Runner, app_config, session_of

# Ofcom's drama ranges: a Cardiff and a Leeds landline, and a mobile.
CARDIFF, LEEDS, SAM = "+442920180123", "+441134960456", "+447700900123"
RUTH = "phoned by Ruth, 3 Dec"


def board(db, tmp_path, **settings: str) -> Flask:  # type: ignore[no-untyped-def]
    app = create_app(app_config(db, tmp_path, **{"SMS_BOARD_VOICE": "on", **settings}))
    Runner(app)("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    return app


@pytest.fixture
def voice_board(db, tmp_path) -> Flask:
    return board(db, tmp_path)


@pytest.fixture
def text_board(db, tmp_path) -> Flask:
    return board(db, tmp_path, SMS_BOARD_VOICE="off")


def person(app: Flask, number: str) -> Subscriber | None:
    with session_of(app) as session:
        return session.scalar(select(Subscriber).where(Subscriber.phone == number))


def refusal(app: Flask, *args: str) -> str:
    result = Runner(app)("subscribers", "add", *args, ok=False)
    assert result.exit_code == 1, result.output
    return result.stderr.strip()


def test_an_organiser_enrols_a_landline_for_calls_with_the_consent_they_were_given(voice_board):
    result = Runner(voice_board)("subscribers", "add", "029 2018 0123", "elm", "--voice", "--name", "Glenys",
                                 "--language", "en", "--consent", RUTH)

    assert result.stderr.strip() == "+44 2•••• ••123 subscribed to elm; their digests will be read to them by a call."
    with session_of(voice_board) as session:
        glenys = session.scalars(select(Subscriber).where(Subscriber.phone == CARDIFF)).one()
        assert (glenys.hears_by, glenys.name, glenys.language) == (HearsBy.VOICE, "Glenys", "en")
        subscription = session.scalars(select(Subscription).where(Subscription.subscriber_id == glenys.id)).one()
        assert (subscription.consent_text, subscription.consent_channel) == (RUTH, "import")
        event = session.scalars(select(ConsentEvent).where(ConsentEvent.subscriber_id == glenys.id)).one()
        assert (event.words, event.wording, event.channel) == (RUTH, None, "import")
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.action == "import")).all() == ["import"]
        assert session.scalars(select(Outbox).where(Outbox.to_number == CARDIFF)).all() == []  # no welcome text


def test_a_mobile_can_be_enrolled_for_calls_and_still_gets_its_welcome_by_text(voice_board):
    Runner(voice_board)("subscribers", "add", "07700 900123", "elm", "--voice", "--consent", RUTH)

    assert person(voice_board, SAM).hears_by == HearsBy.VOICE
    assert [row.kind for row in Phone(voice_board.test_client(), SAM).received()] == ["notify"]


def test_voice_on_a_board_that_places_no_calls_is_refused(text_board):
    assert refusal(text_board, "0113 496 0456", "elm", "--voice", "--consent", RUTH) \
        == "Error: this board doesn't place calls: set SMS_BOARD_VOICE=on"
    assert person(text_board, LEEDS) is None


def test_each_refusal_is_one_clear_line_and_writes_nothing(voice_board):
    assert refusal(voice_board, "0113 496 0456", "elm", "--consent", RUTH) \
        == "Error: a landline can't get texts: add --voice"
    assert refusal(voice_board, "0113 496 0456", "elm", "--voice") \
        == 'Error: say how they agreed with --consent, e.g. --consent "phoned by Ruth, 3 Dec".'
    assert "xx" in refusal(voice_board, "0113 496 0456", "elm", "--voice", "--language", "xx", "--consent", RUTH)
    assert refusal(voice_board, "0113 496 0456", "pine", "--voice", "--consent", RUTH).startswith("Error: no area")
    assert person(voice_board, LEEDS) is None


def test_adding_someone_to_another_area_keeps_how_they_hear_the_board(voice_board):
    Runner(voice_board)("area", "add", "oak", "Oak Road")
    phone = Phone(voice_board.test_client(), SAM)
    phone.text("JOIN ELM")
    phone.text("DIGEST CALL")

    Runner(voice_board)("subscribers", "add", SAM, "oak", "--consent", "paper form")

    assert person(voice_board, SAM).hears_by == HearsBy.VOICE


def test_a_number_that_opted_out_is_never_enrolled_again(voice_board):
    phone = Phone(voice_board.test_client(), SAM)
    phone.text("JOIN ELM")
    phone.text("STOP")

    assert refusal(voice_board, SAM, "elm", "--voice", "--consent", RUTH).startswith(
        "Error: refused: this number opted out by STOP")
    assert person(voice_board, SAM).hears_by == HearsBy.SMS


def test_digest_call_then_digest_text_by_sms(voice_board):
    phone = Phone(voice_board.test_client(), SAM)
    phone.text("JOIN ELM")

    called = phone.text("DIGEST CALL")
    assert called == ["Your digest will be read to you by a phone call to this number. "
                      "Text DIGEST TEXT to get it by text again."]
    assert person(voice_board, SAM).hears_by == HearsBy.VOICE
    assert "Digests: read to you by phone call (DIGEST TEXT for texts)" in phone.text("MY")[0]

    assert phone.text("DIGEST TEXT") == ["Your digest will come by text. "
                                         "Text DIGEST CALL to have it read to you by a phone call instead."]
    assert person(voice_board, SAM).hears_by == HearsBy.SMS
    assert "Digests: by text (DIGEST CALL to hear them by phone)" in phone.text("MY")[0]


def test_digest_call_on_a_board_without_calls_is_refused(text_board):
    phone = Phone(text_board.test_client(), SAM)
    phone.text("JOIN ELM")

    assert phone.text("DIGEST CALL") == ["This board doesn't make phone calls, so your digest stays a text."]
    assert person(text_board, SAM).hears_by == HearsBy.SMS
    assert "Digests" not in phone.text("MY")[0]  # no choice to speak of


def test_digest_and_help_more_name_digest_call_and_text_where_the_board_places_calls(voice_board):
    phone = Phone(voice_board.test_client(), SAM)
    phone.text("JOIN ELM")

    assert phone.text("DIGEST") == ["Your digest is daily. Text DIGEST DAILY/WEEKLY/OFF to change it, "
                                    "DIGEST CALL to hear it by phone."]
    help_more = phone.text("HELP MORE")
    assert len(help_more) == 1 and "DIGEST DAILY/WEEKLY/OFF/CALL/TEXT" in help_more[0]
    assert analyse(help_more[0]).segments == 1
    phone.text("DIGEST CALL")
    assert phone.text("DIGEST WHENEVER")[0].endswith("DIGEST TEXT to get it by text again.")


def test_digest_and_help_more_say_nothing_of_calls_on_a_board_without_them(text_board):
    phone = Phone(text_board.test_client(), SAM)
    phone.text("JOIN ELM")

    assert "CALL" not in phone.text("DIGEST")[0] and "CALL" not in phone.text("HELP MORE")[0]


@pytest.mark.parametrize(("languages", "call", "text"), [
    ("cy,en", "CRYNODEB GALWAD", "CRYNODEB TESTUN"),
    ("pl,en", "PODSUMOWANIE TELEFON", "PODSUMOWANIE SMS"),
])
def test_the_pack_words_for_digest_call_and_text_answer_in_the_residents_language(db, tmp_path, languages, call,
                                                                                   text):
    app = board(db, tmp_path, SMS_BOARD_LANGUAGES=languages)
    english = Phone(app.test_client(), "+447700900456")
    english.text("JOIN ELM")
    english.text("ENGLISH")
    phone = Phone(app.test_client(), SAM)
    phone.text(f"{call.split()[0].replace('CRYNODEB', 'YMUNO').replace('PODSUMOWANIE', 'DOŁĄCZ')} ELM")

    called = phone.text(call)
    assert person(app, SAM).hears_by == HearsBy.VOICE
    assert called != english.text("DIGEST CALL") and text in called[0]
    phone.text(text)
    assert person(app, SAM).hears_by == HearsBy.SMS


def test_the_export_has_the_hears_by_column(voice_board):
    Runner(voice_board)("subscribers", "add", CARDIFF, "elm", "--voice", "--consent", RUTH)
    Runner(voice_board)("subscribers", "add", SAM, "elm", "--consent", "paper form")

    exported = Runner(voice_board)("subscribers", "export").stdout.splitlines()

    assert exported[0].endswith(",language,hears_by")
    assert exported[1].startswith(CARDIFF) and exported[1].endswith(",voice")
    assert exported[2].startswith(SAM) and exported[2].endswith(",sms")
    assert json.dumps(exported)  # (nothing but text)
