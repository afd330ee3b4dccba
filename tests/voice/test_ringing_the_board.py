"""Ringing the board's number: a member hears their public areas' news, a stranger chooses an area and may
join it by keypad, a withheld number hears public news only; nothing private is ever read to a caller."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms_board.community.subscriptions import subscribe
from sms_board.models import Area, ConsentEvent, HearsBy, Item, Subscriber, Subscription
from sms_board.plumbing.utc import utcnow
from tests.conftest import BOARD_NUMBER, app_config, session_of, sign
from tests.voice.conftest import PRIYA, SAM, Line, ring_the_board

STRANGER = "+442920180456"


@pytest.fixture
def neighbourhood(app, areas, phone, runner):  # type: ignore[no-untyped-def]
    """Elm Street's notice, Oak Road's request, and a private carers' group's notice; Sam is in Elm and Carers."""
    runner("area", "add", "carers", "Foster Carers", "--private", "--postcode", "SE4")
    phone(SAM).text("JOIN ELM")
    phone(PRIYA).text("JOIN OAK")
    phone(SAM).text("POST Street party on Sunday")
    phone(PRIYA).text("NEED A lift to the surgery on Tuesday")
    with session_of(app) as session, session.begin():
        sam = session.scalar(select(Subscriber).where(Subscriber.phone == SAM))
        carers = session.scalar(select(Area).where(Area.slug == "carers"))
        subscribe(session, sam, carers, words="invite", wording="", channel="cli", now=utcnow())
    phone(SAM).text("POST CARERS Respite weekend booked for the foster families")
    with session_of(app) as session:
        private = session.scalar(select(Item).where(Item.body.like("%Respite%")))
        assert private is not None and private.area.slug == "carers"


def test_a_member_hears_their_public_areas_news_never_a_private_one(client, neighbourhood):
    line = ring_the_board(client, SAM)
    assert "Elm Street board" in line.script.words and "Foster Carers" not in line.script.words
    news = line.press("1")
    assert "Street party" in news.words
    assert "Respite" not in news.words and "surgery" not in news.words


def test_an_unknown_caller_chooses_an_area_joins_it_by_keypad_and_hears_its_news(app, client, neighbourhood):
    line = ring_the_board(client, STRANGER)
    menu = line.script.words
    assert "For Elm Street, press 1" in menu and "Foster Carers" not in menu
    oak = line.press(str(["Elm Street", "Oak Road", "Riverside"].index("Oak Road") + 1))
    assert "Oak Road. Press 1 to hear its news" in oak.words and "Press 7 to join Oak Road" in oak.words
    joined = line.press("7")
    assert "You have joined Oak Road" in joined.words and "surgery" in joined.words
    with session_of(app) as session:
        caller = session.scalar(select(Subscriber).where(Subscriber.phone == STRANGER))
        assert caller.hears_by == HearsBy.VOICE
        subscription = session.scalar(select(Subscription).where(Subscription.subscriber_id == caller.id))
        assert subscription.consent_channel == "voice"
        consent = session.scalar(select(ConsentEvent).where(ConsentEvent.subscriber_id == caller.id))
        assert consent.channel == "voice" and "Press 7 to join Oak Road" in consent.wording
        assert line.sid in consent.words


def test_a_withheld_number_hears_public_news_only_and_cannot_join(app, client, neighbourhood):
    line = ring_the_board(client, "anonymous")
    elm = line.press("1")
    assert "Press 7" not in elm.words
    news = line.press("1")
    assert "Street party" in news.words and "Respite" not in news.words
    assert "Press 9" not in news.words and "Press 0" not in news.words
    refused = line.press("7")
    assert "key 7 does nothing here" in refused.words
    with session_of(app) as session:
        assert session.scalar(select(Subscriber).where(Subscriber.phone.like("%anonymous%"))) is None


def test_past_nine_areas_a_caller_keys_two_digits_and_hash(client, runner, neighbourhood):
    for n in range(8):
        runner("area", "add", f"lane{n}", f"Lane {n}", "--postcode", f"SE2{n}")
    line = ring_the_board(client, STRANGER)
    menu = line.script.gathers[-1]
    assert menu.get("finishOnKey") == "#" and menu.get("numDigits") is None
    assert "then the hash key" in line.script.words
    chosen = line.press("11")
    assert "Riverside" in chosen.words or "Oak Road" in chosen.words


def test_with_voice_off_the_number_says_it_takes_texts_and_calls_are_not_served(db, tmp_path, neighbourhood):
    from sms_board import create_app

    app = create_app(app_config(db, tmp_path))  # SMS_BOARD_VOICE unset: off
    client = app.test_client()
    line = Line(client, caller=STRANGER, called=BOARD_NUMBER, direction="inbound")
    said = line.request("/voice/inbound")
    assert "takes text messages" in said.words and said.hangs_up
    params = line.params()
    url = "https://board.example.org/voice/call/1"
    assert client.post("/voice/call/1", data=params, headers={"X-Twilio-Signature": sign(url, params)}).status_code == 404


def test_an_unsigned_inbound_call_is_refused(client, neighbourhood):
    assert client.post("/voice/inbound", data={"CallSid": "CA1", "From": SAM}).status_code == 403


def test_call_script_prints_what_a_number_hears_now(runner, neighbourhood):
    member = runner("call-script", SAM, "--news")
    assert "Ringing the board" in member.output and "<Response>" in member.output
    assert "Elm Street board" in member.output and "Street party" in member.output
    assert "Respite" not in member.output
    stranger = runner("call-script", STRANGER)
    assert "For Elm Street, press 1" in stranger.output
    refused = runner("call-script", "not a number", ok=False)
    assert refused.exit_code == 2 and "is not a phone number" in refused.output


def test_a_voice_request_over_64_kb_is_refused_before_it_is_read(client):
    assert client.post("/voice/inbound", data={"From": SAM, "Padding": "x" * 70_000}).status_code == 413


def test_a_keypad_answer_signed_for_another_key_is_refused(client, neighbourhood):
    line = ring_the_board(client, SAM)
    action = line.script.gathers[-1].get("action") or ""
    assert action.startswith("https://board.example.org/voice/inbound/key?")
    params = line.params(Digits="1")
    signature = sign(action, params)
    path = action.removeprefix("https://board.example.org")
    assert client.post(path, data=params, headers={"X-Twilio-Signature": signature}).status_code == 200
    tampered = client.post(path, data={**params, "Digits": "9"}, headers={"X-Twilio-Signature": signature})
    assert tampered.status_code == 403
