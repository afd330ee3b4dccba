"""A neighbour without a mobile offered help by keypad; the requester says OK: the board rings them and puts them through."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from sms_board import create_app
from sms_board.app import board_of
from sms_board.models import (
    Match,
    MatchStatus,
    Outbox,
    OutboxKind,
)
from sms_board.plumbing.utc import utcnow
from sms_board.sending.sender import drain
from tests.conftest import BOARD_NUMBER, Phone, Runner, app_config, session_of, sign
from tests.support.fake_twilio import FakeTwilio
from tests.support.landlines import landline_offers

PRIYA = "+447700900456"
MAVIS = "+442920180123"  # a landline (Ofcom's drama range for Cardiff)
PUBLIC = "https://board.example.org"


@pytest.fixture
def board(db, tmp_path: Path) -> Flask:
    app = create_app(app_config(db, tmp_path, SMS_BOARD_VOICE="on", SMS_BOARD_CALL_HOURS=""))
    Runner(app)("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    return app


def asked_and_accepted(app: Flask) -> tuple[Phone, str, list[str]]:
    priya = Phone(app.test_client(), PRIYA)
    priya.text("JOIN ELM")
    posted = priya.text("NEED Lift to the GP on Thursday morning")[0]
    ref = re.search(r"#(R\d+)", posted).group(1)  # type: ignore[union-attr]
    landline_offers(app, ref, MAVIS)
    return priya, ref, priya.text(f"OK {ref}")


def rows_to(app: Flask, number: str) -> list[Outbox]:
    with session_of(app) as session:
        return list(session.scalars(select(Outbox).where(Outbox.to_number == number).order_by(Outbox.id)))


def twilio_asks(client, path: str, **form: str):  # type: ignore[no-untyped-def]
    params = {"CallSid": "CA" + "1" * 32, "AccountSid": "AC" + "0" * 32, "From": BOARD_NUMBER, "To": MAVIS, **form}
    return client.post(path, data=params, headers={"X-Twilio-Signature": sign(PUBLIC + path, params)})


def place_calls(app: Flask, fake: FakeTwilio) -> None:
    settings = board_of(app).settings
    drain(board_of(app).sessions, fake.transport(settings), settings, sleep=lambda seconds: None)


def test_ok_to_a_landline_helper_rings_them_and_puts_them_through_from_the_board_number(board, fake_twilio):
    _, ref, replies = asked_and_accepted(board)

    assert "the board will ring them and put them through to this phone" in replies[0]
    [call] = rows_to(board, MAVIS)  # a call, never a text to a landline
    assert (call.kind, call.status) == (OutboxKind.CALL, "queued")
    assert "said yes to your offer of help with" in call.body and f"{ref[0]} {ref[1]}" in call.body
    assert PRIYA not in call.body

    place_calls(board, fake_twilio)
    [placed] = fake_twilio.placed_calls
    assert placed.params["Url"] == f"{PUBLIC}/voice/bridge/{call.id}"
    assert "MachineDetection" not in placed.params  # the helper's key press is the proof of a person

    client = board.test_client()
    spoken = twilio_asks(client, f"/voice/bridge/{call.id}")
    assert spoken.status_code == 200 and spoken.mimetype == "text/xml"
    assert b"<Gather" in spoken.data and b"said yes to your offer" in spoken.data
    assert PRIYA.encode() not in spoken.data and b"<Dial" not in spoken.data

    through = twilio_asks(client, f"/voice/bridge/{call.id}", Digits="1")
    assert re.search(rf'<Dial callerId="\{BOARD_NUMBER}"><Number>\{PRIYA}</Number></Dial>',
                     through.get_data(as_text=True))


def test_a_bridge_whose_connection_ended_never_dials_the_requester(board, fake_twilio):
    asked_and_accepted(board)
    [call] = rows_to(board, MAVIS)
    with session_of(board) as session:
        match = session.scalar(select(Match))
        assert match is not None
        match.status, match.ended_at = MatchStatus.ENDED, utcnow() + timedelta(seconds=1)
        session.commit()

    answer = twilio_asks(board.test_client(), f"/voice/bridge/{call.id}", Digits="1")

    assert b"<Hangup" in answer.data and b"<Dial" not in answer.data


def test_the_bridge_route_refuses_a_request_twilio_did_not_sign(board, fake_twilio):
    asked_and_accepted(board)
    [call] = rows_to(board, MAVIS)
    client = board.test_client()

    unsigned = client.post(f"/voice/bridge/{call.id}", data={"Digits": "1"})
    forged = client.post(f"/voice/bridge/{call.id}", data={"Digits": "1"},
                         headers={"X-Twilio-Signature": sign(f"{PUBLIC}/voice/bridge/{call.id}", {"Digits": "1"},
                                                             token="not-the-token")})

    assert (unsigned.status_code, forged.status_code) == (403, 403)
    assert PRIYA.encode() not in unsigned.data + forged.data


def test_with_voice_off_a_landline_helper_gets_no_call(db, tmp_path):
    app = create_app(app_config(db, tmp_path))
    Runner(app)("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")

    asked_and_accepted(app)

    assert [r.kind for r in rows_to(app, MAVIS) if r.kind == OutboxKind.CALL] == []


@pytest.mark.parametrize("ending", ["STOP", "DONE", "CLOSE"])
def test_a_bridge_still_waiting_is_cancelled_when_the_requester_ends_it_first(board, fake_twilio, ending):
    priya, ref, _ = asked_and_accepted(board)

    priya.text(f"{ending} {ref}" if ending != "STOP" else ending)
    place_calls(board, fake_twilio)

    [call] = rows_to(board, MAVIS)
    assert call.status == "cancelled" and fake_twilio.placed_calls == []
