"""The simulator's landline (development boards only): ring the board, read what it says, press keys."""

from __future__ import annotations

import html
import re

import pytest

from tests.conftest import Runner, development_board
from tests.support.web import csrf_token
from tests.voice.conftest import LANDLINE, SAM


@pytest.fixture
def app(db, tmp_path):  # type: ignore[no-untyped-def]
    return development_board(db, tmp_path, SMS_BOARD_VOICE="on")


def _press(client, page: str, digits: str | None) -> str:  # type: ignore[no-untyped-def]
    form = {name: html.unescape(value) for name, value in re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page)}
    form["digits"] = digits or ""
    answer = client.post("/simulator/landline", data=form)
    assert answer.status_code == 200, answer.data
    return answer.get_data(as_text=True)


def test_a_landline_rings_the_board_chooses_an_area_and_hears_its_news(app, client, phone):
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    phone(SAM).text("JOIN ELM")
    phone(SAM).text("POST Street party on Sunday")
    page = client.get(f"/simulator/landline?from={LANDLINE}").get_data(as_text=True)
    assert "Ring the board" in page
    rang = client.post("/simulator/landline", data={"csrf_token": csrf_token(client, "/simulator/landline"),
                                                    "from": LANDLINE, "action": "/voice/inbound"})
    heard = rang.get_data(as_text=True)
    assert "For Elm Street, press 1." in heard
    area = _press(client, heard, "1")
    assert "Press 7 to join Elm Street" in area
    news = _press(client, area, "1")
    assert "Street party on Sunday" in news
    assert "The call has ended" in _press(client, _press(client, news, ""), "")


def test_the_landline_refuses_what_is_not_a_step_of_a_call(client):
    refused = client.post("/simulator/landline", data={"csrf_token": csrf_token(client, "/simulator/landline"),
                                                       "from": LANDLINE, "action": "/dashboard"})
    assert refused.status_code == 400
