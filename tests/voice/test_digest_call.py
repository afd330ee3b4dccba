"""A digest call, followed as Twilio follows it: the greeting, the news after a key, and the keypad."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms_board.app import board_of
from sms_board.community.subscriptions import get_or_create_subscriber, subscribe
from sms_board.models import (
    Area,
    ConsentAction,
    ConsentEvent,
    InboundMessage,
    Item,
    ItemKind,
    Outbox,
    Response,
    Subscriber,
)
from sms_board.plumbing.utc import utcnow
from sms_board.voice.script import machine_message, spoken_words
from tests.conftest import session_of, sign
from tests.voice.conftest import LANDLINE, PRIYA, SAM, answer_digest_call, digest_call_row


@pytest.fixture
def street(app, areas, phone):  # type: ignore[no-untyped-def]
    """Sam posts a notice and Priya asks for help on Elm Street; Glenys, on a landline, was enrolled by phone."""
    for number, name in [(SAM, "Sam"), (PRIYA, "Priya")]:
        person = phone(number)
        person.text("JOIN ELM")
        person.text(f"NAME {name}")
    phone(SAM).text("POST Bring and buy sale at the church hall on Saturday, see www.elmstreet.org.uk")
    phone(PRIYA).text("NEED Someone to collect a prescription; ring 07700 900456 after 5")
    with session_of(app) as session, session.begin():
        glenys = get_or_create_subscriber(session, LANDLINE, utcnow())
        glenys.name = "Glenys"
        elm = session.scalar(select(Area).where(Area.slug == "elm"))
        subscribe(session, glenys, elm, words="phoned by Ruth", wording="", channel="cli", now=utcnow())
        items = session.scalars(select(Item).order_by(Item.id)).all()
        return {item.kind: item.id for item in items}


def _items(street) -> list[int]:  # type: ignore[no-untyped-def]
    return [street[ItemKind.NOTICE], street[ItemKind.REQUEST]]


def test_the_greeting_names_the_area_and_reads_nothing_before_a_key(app, client, street):
    line = answer_digest_call(client, digest_call_row(app, LANDLINE, _items(street)), LANDLINE)
    words = line.script.words
    assert "Elm Street board" in words and "Press 1 to hear the news" in words
    assert "prescription" not in words and "Bring and buy" not in words
    assert line.script.gathers[-1].get("numDigits") == "1"


def test_key_1_reads_each_post_in_its_own_say_digit_by_digit_without_links(app, client, street):
    line = answer_digest_call(client, digest_call_row(app, LANDLINE, _items(street)), LANDLINE)
    script = line.press("1")
    posts = [say for say in script.says if "church hall" in say or "prescription" in say]
    assert len(posts) == 2
    assert "www" not in " ".join(posts) and "elmstreet" not in " ".join(posts)
    assert "0 7 7 0 0, 9 0 0 4 5 6" in posts[1]
    assert f"R {' '.join(str(street[ItemKind.REQUEST]))}" in posts[1]
    assert all(len(say) <= 4000 for say in script.says)


def test_keypad_3_offers_help_exactly_as_can_by_text(app, client, street):
    line = answer_digest_call(client, digest_call_row(app, LANDLINE, _items(street)), LANDLINE)
    line.press("1")
    said = line.press("3", gather=1)  # during the help request, the page's second post
    assert "passed on to Priya" in said.words
    with session_of(app) as session:
        glenys = session.scalar(select(Subscriber).where(Subscriber.phone == LANDLINE))
        offer = session.scalar(select(Response).where(Response.responder_id == glenys.id))
        assert offer is not None and offer.item_id == street[ItemKind.REQUEST]
        told = session.scalars(select(Outbox).where(Outbox.to_number == PRIYA, Outbox.kind == "notify")).all()
        assert any("Glenys" in row.body for row in told)
    with session_of(app) as session:
        # The call said what happened: no text is recorded as sent to the landline.
        assert session.scalars(select(Outbox).where(Outbox.to_number == LANDLINE, Outbox.kind == "reply")).all() == []
    # Twilio retrying the same action, or the key pressed again: one offer.
    again = line.press("3")
    assert "already" in again.words
    with session_of(app) as session:
        assert len(session.scalars(select(Response)).all()) == 1


def test_keypad_9_is_a_stop_nothing_more_by_call_or_text(app, client, street):
    line = answer_digest_call(client, digest_call_row(app, LANDLINE, _items(street)), LANDLINE)
    said = line.press("9")
    assert "will not be called or texted" in said.words and said.hangs_up
    with session_of(app) as session:
        glenys = session.scalar(select(Subscriber).where(Subscriber.phone == LANDLINE))
        assert glenys.opted_out
        event = session.scalar(select(ConsentEvent).where(ConsentEvent.subscriber_id == glenys.id,
                                                          ConsentEvent.action == ConsentAction.OPT_OUT))
        assert event.channel == "voice"
        stop = session.scalar(select(InboundMessage).where(InboundMessage.from_number == LANDLINE))
        assert stop.body == "STOP" and stop.message_sid.startswith(line.sid)


def test_no_key_gets_one_reprompt_then_the_machine_message(app, client, street):
    line = answer_digest_call(client, digest_call_row(app, LANDLINE, _items(street)), LANDLINE)
    reprompt = line.silence()
    assert "did not hear a key" in reprompt.words and "Press 1" in reprompt.words
    last = line.silence()
    assert "Ring 0 7 7 0 0, 9 0 0 0 0 0 any time" in last.words and last.hangs_up
    assert "prescription" not in last.words


def test_a_wrong_key_gets_a_spoken_correction(app, client, street):
    line = answer_digest_call(client, digest_call_row(app, LANDLINE, _items(street)), LANDLINE)
    said = line.press("8")
    assert "key 8 does nothing here" in said.words
    assert said.gathers, "the menu listens again"


def test_after_the_news_silence_twice_says_goodbye(app, client, street):
    line = answer_digest_call(client, digest_call_row(app, LANDLINE, _items(street)), LANDLINE)
    line.press("1")
    assert "did not hear a key" in line.silence().words
    assert line.silence().hangs_up


def test_a_long_digest_is_read_a_page_at_a_time(app, client, street, phone):
    for n in range(12):
        phone(SAM).text("POST " + " ".join(["word"] * 60) + f" number {n}")
    with session_of(app) as session:
        ids = [item.id for item in session.scalars(select(Item).where(Item.kind == ItemKind.NOTICE).order_by(Item.id))]
    line = answer_digest_call(client, digest_call_row(app, LANDLINE, ids), LANDLINE)
    first = line.press("1")
    spoken = sum(len(say.split()) for say in first.says)
    assert spoken <= 3 * 150 + 40
    assert "press 2 to hear it" in first.words
    rest = line.press("2")
    assert "number 12" not in first.words and "word" in rest.words


def test_forged_or_unsigned_call_requests_are_refused(app, client, street):
    row = digest_call_row(app, LANDLINE, _items(street))
    params = {"CallSid": "CA1", "From": "+447700900000", "To": LANDLINE}
    assert client.post(f"/voice/call/{row}", data=params).status_code == 403
    forged = sign("https://board.example.org/voice/call/999", params)
    assert client.post(f"/voice/call/{row}", data=params, headers={"X-Twilio-Signature": forged}).status_code == 403
    assert client.post(f"/voice/call/{row}/key?step=greeting", data={**params, "Digits": "9"}).status_code == 403


def test_a_text_row_is_no_call(app, client, street):
    with session_of(app) as session:
        text = session.scalar(select(Outbox).where(Outbox.kind != "call"))
    params = {"CallSid": "CA1", "From": "+447700900000", "To": LANDLINE}
    url = f"https://board.example.org/voice/call/{text.id}"
    assert client.post(f"/voice/call/{text.id}", data=params,
                       headers={"X-Twilio-Signature": sign(url, params)}).status_code == 404


def test_the_calls_engineers_words_and_machine_message(app, street):
    row_id = digest_call_row(app, LANDLINE, _items(street))
    board = board_of(app)
    with session_of(app) as session:
        words = spoken_words(session, board.settings, session.get(Outbox, row_id))
        elm = session.scalar(select(Area).where(Area.slug == "elm"))
        machine = machine_message(board.settings, [elm], "en")
    assert words.startswith("Hello, this is the Elm Street board") and "prescription" in words
    assert "Elm Street board with this week's news" in machine and "<Hangup" in machine
