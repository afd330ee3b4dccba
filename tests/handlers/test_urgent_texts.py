"""A cry for help reaches a person: "call 999" to the resident, a text at once to the organisers.

`HELP I have fallen` and `I've fallen and can't get up` (no keyword at all) are answered
"If you or someone is in danger, call 999", marked "may be urgent" at the top of the
organisers' inbox, and texted to the organisers of the sender's areas in the first lane,
even at night, once an hour per sender. The alert's ref (`U12`) lets an organiser answer
through the board, numbers hidden.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from sms_board import create_app
from sms_board.models import InboundMessage, Outbox
from tests.conftest import Database, Phone, Runner, app_config, session_of
from tests.support.web import sign_in

SAM, PRIYA, JOE, RUTH, ADMIN = "+447700900123", "+447700900456", "+447700900789", "+447700900001", "+447700900002"
DANGER = "If you or someone is in danger, call 999."


@pytest.fixture
def app(db: Database, tmp_path) -> Flask:  # type: ignore[no-untyped-def]
    """Always night: ordinary notices are held, so what goes at once shows."""
    return create_app(app_config(db, tmp_path, SMS_BOARD_QUIET_HOURS="00:00-23:59"))


@pytest.fixture
def street(areas, phone, runner):  # type: ignore[no-untyped-def]
    """Ruth organises Elm Street (Sam, Priya); Oak Road has no organiser; an administrator oversees."""
    runner("organiser", "add", RUTH, "elm")
    runner("admin", "add", ADMIN)
    people = {}
    for number, name, area in [(SAM, "Sam", "ELM"), (PRIYA, "Priya", "ELM"), (RUTH, "Ruth", "ELM"),
                               (JOE, "Joe", "OAK")]:
        person = phone(number)
        person.text(f"JOIN {area}")
        person.text(f"NAME {name}")
        people[name.lower()] = person
    people["admin"] = phone(ADMIN)
    return people


def alerts(person) -> list[Outbox]:  # type: ignore[no-untyped-def]
    return [row for row in person.received() if "may be urgent" in row.body.lower()]


# ── which texts may be an emergency ─────────────────────────────────────────

URGENT = [
    "I've fallen and can't get up",
    "I’ve fallen",
    "chest pain since this morning",
    "my husband can't breathe",
    "no heating and I'm 87",
    "HELP I have fallen and hurt my leg",
    "help my mum has collapsed",
    "Please send an ambulance",
    "someone is trying to break in",
    "I can smell gas in the flat",
]
NOT_URGENT = [
    "I fell off my chair laughing",
    "HELP I fell off my chair laughing at the panto",
    "HELP is the gas bill going up?",
    "Help wanted at the fete on Saturday",
    "fire station open day on Sunday",
    "no heating in the church hall this week",
    "the heart of our street is the corner shop",
    "emergency meeting about the parking on Thursday",
    "Lovely autumn, the leaves have fallen",
]


@pytest.mark.parametrize("words", URGENT)
def test_texts_that_may_be_an_emergency_are_told_to_call_999_and_marked(street, inbound_rows, words):
    reply = street["sam"].text(words)

    assert reply[0].splitlines()[0] == DANGER
    assert inbound_rows()[-1].urgent and inbound_rows()[-1].in_inbox
    assert len(alerts(street["ruth"])) == 1


@pytest.mark.parametrize("words", NOT_URGENT)
def test_everyday_texts_with_alarming_words_are_not_urgent(street, inbound_rows, words):
    reply = street["sam"].text(words)

    assert all(DANGER not in text for text in reply)
    assert not inbound_rows()[-1].urgent
    assert alerts(street["ruth"]) == []


# ── the organisers are told at once ────────────────────────────────────────


def test_the_organisers_are_texted_at_once_at_night_with_the_words_the_number_and_how_to_answer(street, app):
    street["sam"].text("I've fallen and can't get up")

    [alert] = alerts(street["ruth"])
    with session_of(app) as session:
        inbound_id = session.scalar(select(InboundMessage.id).where(InboundMessage.urgent))
    assert alert.status == "queued" and alert.send_after is None, "quiet hours do not hold it"
    assert alert.lane == 0 and alert.kind == "notify"
    assert "I've fallen and can't get up" in alert.body
    assert "+44 7---- --123" in alert.body and "7700900123" not in alert.body  # masked, smart-encoded
    assert "Sam" in alert.body and "Elm Street" in alert.body
    assert "told to call 999" in alert.body
    assert f"U{inbound_id} <message>" in alert.body and "dashboard inbox" in alert.body
    assert alerts(street["admin"]) == [], "Elm Street has its own organiser"
    assert alerts(street["sam"]) == []


def test_one_alert_per_sender_per_hour(street, inbound_rows):
    street["sam"].text("HELP I have fallen")
    reply = street["sam"].text("still can't get up, chest pain")

    assert reply[0].startswith(DANGER)
    assert [row.urgent for row in inbound_rows()[-2:]] == [True, True]
    assert len(alerts(street["ruth"])) == 1
    street["priya"].text("my neighbour has collapsed")
    assert len(alerts(street["ruth"])) == 2, "another sender is another alert"


def test_an_area_with_no_organiser_alerts_the_administrators(street):
    street["joe"].text("I can't breathe")

    assert len(alerts(street["admin"])) == 1
    assert alerts(street["ruth"]) == []


def test_a_sender_in_no_area_alerts_the_administrators(street, phone):
    phone("+447700900555").text("I've fallen")

    assert len(alerts(street["admin"])) == 1


# ── answering through the board ───────────────────────────────────────────


def ref_of(alert: Outbox) -> str:
    found = re.search(r"\b(U\d+) <message>", alert.body)
    assert found, alert.body
    return found.group(1)


def test_an_organiser_answers_with_the_ref_and_the_resident_gets_it_at_once_without_numbers(street, inbound_rows):
    street["sam"].text("I've fallen and can't get up")
    ref = ref_of(alerts(street["ruth"])[0])

    reply = street["ruth"].text(f"{ref} Are you hurt? Priya is on her way")

    [answer] = [row for row in street["sam"].received() if "Priya is on her way" in row.body]
    assert answer.body == "Are you hurt? Priya is on her way\n- Elm Street organisers"
    assert answer.status == "queued" and answer.send_after is None, "an answer to a cry for help is not held"
    assert RUTH not in answer.body
    assert "+44 7---- --123" in reply[0] and SAM not in reply[0]
    assert inbound_rows()[-2].dealt_with_at is not None


def test_the_ref_is_ordinary_text_from_anyone_who_does_not_look_after_the_sender(street):
    street["sam"].text("I've fallen and can't get up")
    ref = ref_of(alerts(street["ruth"])[0])

    street["joe"].text(f"{ref} hello Sam")
    street["priya"].text(f"{ref} hello Sam")

    assert [row for row in street["sam"].received() if "hello Sam" in row.body] == []


def test_the_ref_alone_says_how_to_answer(street):
    street["sam"].text("I've fallen and can't get up")
    ref = ref_of(alerts(street["ruth"])[0])

    assert f"{ref} <message>" in street["ruth"].text(ref)[0]


# ── the dashboard ──────────────────────────────────────────────────────────


def test_the_inbox_shows_texts_that_may_be_urgent_first_in_red_whatever_their_age(street, client):
    street["sam"].text("I've fallen and can't get up")
    street["priya"].text("is the bin day changing")
    street["sam"].text("lovely party yesterday")
    sign_in(client, RUTH)

    page = client.get("/dashboard/inbox").get_data(as_text=True)

    assert page.index("I&#39;ve fallen and can&#39;t get up") < page.index("lovely party yesterday")
    assert '<span class="tag urgent">May be urgent</span>' in page


def test_the_overview_says_a_text_may_be_urgent(street, client):
    street["sam"].text("I've fallen and can't get up")
    sign_in(client, RUTH)

    page = client.get("/dashboard").get_data(as_text=True)

    assert "1 text in the inbox may be urgent" in page


# ── what is not read as a cry for help, and what is published all the same ─


def test_a_need_with_urgent_words_is_posted_after_the_alarm(street):
    reply = street["sam"].text("NEED someone to sit with me, chest pain since lunch")

    assert reply[0].splitlines()[0] == DANGER
    assert any("Your request is #R" in text for text in reply)
    assert len(alerts(street["ruth"])) == 1


def test_an_organisers_urgent_broadcast_is_their_broadcast_not_a_cry_for_help(street):
    reply = street["ruth"].text("URGENT gas leak on Elm Street, stay indoors")

    assert all(DANGER not in text for text in reply) and "YES" in reply[0]
    assert alerts(street["admin"]) == []


def test_a_relay_between_connected_neighbours_is_relayed_not_alarmed(street):
    ref = re.search(r"#(R\d+)", street["sam"].text("NEED a lift to the GP")[0]).group(1)  # type: ignore[union-attr]
    street["priya"].text(f"CAN {ref}")
    street["sam"].text(f"OK {ref}")

    assert street["sam"].text(f"{ref} I've had a fall, can you come now") == []

    assert street["priya"].received()[-1].body == f"{ref} Sam: I've had a fall, can you come now"
    assert alerts(street["ruth"]) == []


def test_a_cry_for_help_from_an_opted_out_number_is_marked_and_the_administrators_told(street, inbound_rows):
    street["sam"].text("STOP")

    assert street["sam"].text("I've fallen and can't get up") == []

    assert inbound_rows()[-1].urgent and inbound_rows()[-1].in_inbox
    [alert] = alerts(street["admin"])
    assert "got no answer" in alert.body


# ── in every language the board speaks ─────────────────────────────────────

WELSH_DANGER, POLISH_DANGER = "Os oes rhywun mewn perygl, ffoniwch 999.", "W razie zagrożenia dzwoń pod 999."


@pytest.fixture
def languages(db: Database, tmp_path):  # type: ignore[no-untyped-def]
    """A board that speaks Welsh, Polish and English, always at night; Ruth organises Elm Street in Welsh."""
    app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,pl,en", SMS_BOARD_QUIET_HOURS="00:00-23:59"))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("organiser", "add", RUTH, "elm")
    ruth = Phone(app.test_client(), RUTH)
    ruth.text("CYMRAEG")
    return app, ruth


@pytest.mark.parametrize(("join", "words", "danger"), [
    ("YMUNO ELM", "Dw i wedi cwympo ac yn methu codi", WELSH_DANGER),
    ("YMUNO ELM", "Mae Mam yn methu anadlu", WELSH_DANGER),
    ("DOŁĄCZ ELM", "Upadłam w łazience", POLISH_DANGER),
    ("DOŁĄCZ ELM", "Ból w klatce od rana", POLISH_DANGER),
], ids=["cy-fallen", "cy-breathe", "pl-fallen", "pl-chest"])
def test_a_cry_for_help_in_welsh_or_polish_is_told_999_in_that_language_and_reaches_the_organiser(
        languages, inbound_rows, join, words, danger):
    app, ruth = languages
    sam = Phone(app.test_client(), SAM)
    sam.text(join)

    reply = sam.text(words)

    assert reply[0].splitlines()[0] == danger
    assert inbound_rows()[-1].urgent and inbound_rows()[-1].in_inbox
    [alert] = [row for row in ruth.received() if row.kind == "notify" and words in row.body]
    assert alert.body.startswith("Gallai fod yn frys:"), "in Ruth's language"
    assert alert.status == "queued" and alert.send_after is None and alert.lane == 0, "quiet hours do not hold it"
    assert "+44 7---- --123" in alert.body and "7700900123" not in alert.body


@pytest.mark.parametrize(("join", "words"), [
    ("YMUNO ELM", "Mae'r dail wedi cwympo dros y llwybr"),  # the leaves have fallen over the path
    ("DOŁĄCZ ELM", "Liście spadły na chodnik"),  # the leaves fell on the pavement
], ids=["cy", "pl"])
def test_everyday_welsh_and_polish_are_not_urgent(languages, inbound_rows, join, words):
    app, ruth = languages
    sam = Phone(app.test_client(), SAM)
    sam.text(join)

    reply = sam.text(words)

    assert all(danger not in text for text in reply for danger in (DANGER, WELSH_DANGER, POLISH_DANGER))
    assert not inbound_rows()[-1].urgent
    assert [row for row in ruth.received() if words in row.body] == []
