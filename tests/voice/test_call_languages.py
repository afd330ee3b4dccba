"""A call speaks its listener's language in that language's voice, and offers the board's others by key."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms_board.community.subscriptions import get_or_create_subscriber, subscribe
from sms_board.models import Area, InboundMessage, Item, Response
from sms_board.plumbing.utc import utcnow
from tests.conftest import Runner, session_of
from tests.voice.conftest import LANDLINE, PRIYA, answer_digest_call, digest_call_row, voice_board


@pytest.fixture
def app(db, tmp_path):  # type: ignore[no-untyped-def]
    return voice_board(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en")


@pytest.fixture
def cardiff(app, phone):  # type: ignore[no-untyped-def]
    """Priya asks for help in Treganna; Glenys, a Welsh speaker on a landline, was enrolled by phone."""
    Runner(app)("area", "add", "treganna", "Treganna", "--postcode", "CF5")
    phone(PRIYA).text("YMUNO TREGANNA")
    phone(PRIYA).text("ENW Priya")
    phone(PRIYA).text("ANGEN Rhywun i nôl presgripsiwn")
    with session_of(app) as session, session.begin():
        glenys = get_or_create_subscriber(session, LANDLINE, utcnow())
        area = session.scalar(select(Area).where(Area.slug == "treganna"))
        subscribe(session, glenys, area, words="phoned by Ruth", wording="", channel="cli", now=utcnow())
        return session.scalar(select(Item.id))


def test_a_welsh_script_in_the_welsh_voice_with_english_on_a_key(app, client, cardiff):
    line = answer_digest_call(client, digest_call_row(app, LANDLINE, [cardiff], language="cy"), LANDLINE)
    says = list(line.script.root.iter("Say"))
    assert says[0].text.startswith("Helo, dyma hysbysfwrdd Treganna")
    assert (says[0].get("voice"), says[0].get("language")) == ("Polly.Gwyneth", "cy-GB")
    offer = says[-1]
    assert offer.text == "For this call in English, press 4." and offer.get("voice") == "Polly.Amy"
    news = line.press("1")
    assert "Cais am help" in news.words and "presgripsiwn" in news.words
    english = line.press("4")
    assert english.words.startswith("Hello, this is the Treganna board")


def test_an_unknown_language_hears_the_boards_first_and_is_offered_the_others(app, client, cardiff):
    line = answer_digest_call(client, digest_call_row(app, LANDLINE, [cardiff]), LANDLINE)
    assert line.script.says[0].startswith("Helo") and "press 4" in line.script.says[-1]


def test_keypad_3_in_welsh_is_gallaf_and_leaves_the_language_as_it_was(app, client, cardiff):
    line = answer_digest_call(client, digest_call_row(app, LANDLINE, [cardiff], language="cy"), LANDLINE)
    line.press("1")
    said = line.press("3", gather=0)
    assert "Diolch" in said.words and "Priya" in said.words
    with session_of(app) as session:
        assert session.scalar(select(Response.id)) is not None
        offer = session.scalar(select(InboundMessage).where(InboundMessage.from_number == LANDLINE))
        assert offer.body.startswith("GALLAF ")
