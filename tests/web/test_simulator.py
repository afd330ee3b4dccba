"""The phone simulator and the home page: a tester texts the board from a browser.

The simulator texts the board as any number and shows any number's thread (sign-in codes
included), with no sign-in: it exists only on a development board, the console transport
with no Twilio credentials, and is a 404 everywhere else.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms_board import create_app
from sms_board.models import Campaign, InboundMessage, Outbox
from tests.conftest import app_config, development_board, session_of
from tests.support.web import ask_for_code, csrf_token, operator_health, text_message

ADMIN, ORGANISER = "+447700900009", "+447700900001"


@pytest.fixture
def app(db, tmp_path):  # type: ignore[no-untyped-def]
    """A development board (console transport, no Twilio credentials): the simulator is there."""
    return development_board(db, tmp_path)


def test_simulator_texts_the_board_and_shows_the_reply(areas, client, inbound_rows):
    page = client.get("/simulator?from=%2B447700900123")
    assert page.status_code == 200 and b"Phone simulator" in page.data

    sent = text_message(client, "+447700900123", "JOIN ELM")
    assert sent.status_code == 302
    thread = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "JOIN ELM" in thread and "Welcome to Elm Street board." in thread
    assert thread.index(">JOIN ELM<") < thread.index("Welcome to Elm Street board."), "the reply follows the text"
    row = inbound_rows()[-1]
    assert row.from_number == "+447700900123" and row.message_sid.startswith("SMlocal")


def test_simulator_shows_texts_queued_for_the_phone(areas, client):
    for number, text in [("+447700900123", "JOIN ELM"), ("+447700900123", "NAME Sam"), ("+447700900123", "NEED Lift"),
                         ("+447700900456", "JOIN ELM"), ("+447700900456", "CAN R1")]:
        text_message(client, number, text)
    thread = client.get("/simulator?from=%2B447700900123").get_data(as_text=True)
    assert "can help with #R1" in thread and "notify" in thread


def test_simulator_refuses_a_non_number_clearly(areas, client, inbound_rows):
    sent = text_message(client, "hello", "JOIN ELM")
    assert sent.status_code == 400 and "is not a phone number" in sent.get_data(as_text=True)
    assert inbound_rows() == []


@pytest.mark.parametrize("config", [
    {},  # the console transport with Twilio credentials: a staging board Twilio's webhooks reach
    {"SMS_BOARD_DEVELOPMENT": "off"},
    {"SMS_BOARD_TRANSPORT": "twilio"},
    {"SMS_BOARD_TRANSPORT": None},  # credentials choose the twilio transport
], ids=["console-with-credentials", "console-with-credentials-development-off", "twilio", "twilio-by-default"])
def test_the_simulator_is_not_found_unless_on_a_development_board(db, tmp_path, runner, config):
    """The attack of issue 17: ask for an administrator's code, read it in the simulator, text as an organiser."""
    board = create_app(app_config(db, tmp_path, **config))
    client = board.test_client()
    runner("admin", "add", ADMIN)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("organiser", "add", ORGANISER, "elm")
    assert ask_for_code(client, ADMIN).status_code == 302

    assert client.get("/simulator").status_code == 404
    shown = client.get(f"/simulator?from={ADMIN.replace('+', '%2B')}")
    assert shown.status_code == 404 and "sign-in code" not in shown.get_data(as_text=True)
    token = csrf_token(client, "/login")
    for body in ["BROADCAST ELM evacuate now, details at http://evil.example", "YES"]:
        sent = client.post("/simulator", data={"csrf_token": token, "from": ORGANISER, "body": body})
        assert sent.status_code == 404
    with session_of(board) as session:
        assert session.scalars(select(InboundMessage)).all() == []
        assert session.scalars(select(Campaign)).all() == []
        [code] = session.scalars(select(Outbox)).all()
        assert code.to_number == ADMIN, "only the code, texted to the administrator's own phone"
    assert "simulator" not in client.get("/").get_data(as_text=True).lower()


def test_on_a_development_board_the_simulator_is_served(client, runner, inbound_rows):
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    shown = client.get("/simulator")
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store", "its threads hold sign-in codes"
    assert text_message(client, "+447700900123", "JOIN ELM").status_code == 302
    assert [row.body for row in inbound_rows()] == ["JOIN ELM"]
    assert "Open the phone simulator" in client.get("/").get_data(as_text=True)


def test_development_on_is_accepted_on_a_development_board(db, tmp_path):
    board = development_board(db, tmp_path, SMS_BOARD_DEVELOPMENT="on")
    assert board.test_client().get("/simulator").status_code == 200


def test_home_page_lists_public_areas_without_numbers(areas, client, phone):
    phone("+447700900123").text("JOIN ELM")
    page = client.get("/").get_data(as_text=True)
    assert "Elm Street" in page and "JOIN ELM" in page
    assert "7700900123" not in page


def test_healthz_reports_database_and_backlog(client):
    assert client.get("/healthz").get_json() == {"ok": True, "database": "ok"}
    health = operator_health(client)
    assert health["ok"] is True and health["outbox_backlog"] == 0


def test_public_board_shows_open_items_with_names_never_numbers(areas, client, phone):
    sam, priya = phone("+447700900123"), phone("+447700900456")
    for person, name in ((sam, "Sam"), (priya, "Priya")):
        person.text("JOIN ELM")
        person.text(f"NAME {name}")
    sam.text("POST Plant swap on Saturday")
    sam.text("NEED Lift to the GP on Thursday")
    priya.text("OFFER Dog walking at weekends")
    closed = priya.text("NEED Ladder for an hour")[0].split("#")[1].split(".")[0]
    priya.text(f"CLOSE {closed}")

    page = client.get("/board/elm").get_data(as_text=True)
    for text in ("Plant swap on Saturday", "Lift to the GP on Thursday", "Dog walking at weekends", "Sam", "Priya"):
        assert text in page
    assert page.index("Help needed") < page.index("Lift to the GP") < page.index("Neighbours offer")
    assert "Ladder for an hour" not in page
    assert "7700900123" not in page and "7700900456" not in page


def test_private_and_unknown_boards_are_not_found(client, runner):
    runner("area", "add", "tenants", "Tower Tenants", "--private")
    assert client.get("/board/tenants").status_code == 404
    assert client.get("/board/nowhere").status_code == 404


def test_simulator_refuses_an_empty_message(areas, client, inbound_rows):
    refused = text_message(client, "+447700900123", "   ")
    assert refused.status_code == 400 and "Type a message first" in refused.get_data(as_text=True)
    assert inbound_rows() == []


def test_simulator_shows_an_error_for_a_bad_from_instead_of_another_phone(areas, client):
    shown = client.get("/simulator?from=hello")
    page = shown.get_data(as_text=True)
    assert shown.status_code == 400 and "is not a phone number" in page
    assert 'value="+447700900123"' not in page, "it must not switch to a demo resident"


def test_simulator_marks_the_organiser_and_shows_their_sign_in_code(areas, client, runner):
    runner("organiser", "add", "+447700900001", "elm")
    assert "+447700900001</a> (organiser)" in client.get("/simulator").get_data(as_text=True)
    ask_for_code(client, "+447700900001")
    thread = client.get("/simulator?from=%2B447700900001").get_data(as_text=True)
    assert "Your sms-board sign-in code is" in thread
    runner("admin", "add", "+447700900001")  # as the demo's Ruth is: both
    assert "+447700900001</a> (organiser and administrator)" in client.get("/simulator").get_data(as_text=True)
