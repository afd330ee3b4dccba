"""Floods and repeats as organisers and residents notice them.

A flood is held and the area's organisers are told once per flood (masked number, count);
it lifts by itself. The very same text more than five times in five minutes gets one
answer, then silence, and does nothing more.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from sms_board import create_app
from sms_board.models import InboundMessage, Item
from tests.conftest import Phone, Runner, app_config, session_of

ALICE, RUTH, OLIVE, ADMIN = "+447700900101", "+447700900001", "+447700900002", "+447700900003"
WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def board(db, tmp_path, clock):  # type: ignore[no-untyped-def]
    """Loop protection's hourly cap out of the way, so only the flood and repeat rules speak."""
    app = create_app(app_config(db, tmp_path, SMS_BOARD_MAX_REPLIES_PER_HOUR="500"))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("area", "add", "oak", "Oak Road", "--postcode", "SE6 3")
    runner("organiser", "add", RUTH, "elm")
    runner("organiser", "add", OLIVE, "oak")
    runner("admin", "add", ADMIN)
    return app


def alerts(app, number: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [row.body for row in Phone(app.test_client(), number).received() if row.kind == "notify"]


def test_a_flood_is_told_to_the_areas_organisers_exactly_once_and_lifts_by_itself(board, clock):
    alice = Phone(board.test_client(), ALICE)
    alice.text("JOIN ELM")
    for n in range(1, 31):
        alice.text(f"HELP {n}")

    assert alerts(board, RUTH) == [
        "Flood held: +44 7---- --101 sent 21 texts in 5 minutes (Elm Street). They're kept in the inbox, "
        "unanswered; it lifts by itself when the texts slow down. STOP from them still works."]
    assert alerts(board, OLIVE) == [] and alerts(board, ADMIN) == [], "only the flooder's areas' organisers"

    clock.shift(timedelta(minutes=6))
    assert len(alice.text("HELP")) == 1, "lifted by itself"
    for n in range(25):
        alice.text(f"again {n}")
    assert len(alerts(board, RUTH)) == 2, "a new flood is a new alert"


def test_a_flood_from_a_number_in_no_area_is_told_to_the_administrators(board):
    stranger = Phone(board.test_client(), ALICE)
    for n in range(22):
        stranger.text(f"hello {n}")
    assert len(alerts(board, ADMIN)) == 1 and alerts(board, RUTH) == []


def test_the_same_text_more_than_five_times_gets_one_answer_then_silence(board, clock):
    alice = Phone(board.test_client(), ALICE)
    alice.text("JOIN ELM")
    clock.shift(timedelta(minutes=1))

    answers = [alice.text("POST Free piano, collect by Friday") for _ in range(8)]

    assert [len(a) for a in answers[:5]] == [1] * 5 and all(a[0].startswith("Posted as") for a in answers[:5])
    assert answers[5] == ["We've had this same text 6 times in a few minutes, so we'll stop answering it for now. "
                          "An organiser can see it. Text HELP if you're stuck."]
    assert answers[6:] == [[], []]
    with session_of(board) as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 5, "the repeats changed nothing"
        assert session.scalar(select(func.count()).select_from(InboundMessage).where(
            InboundMessage.in_inbox.is_(True))) == 1
    assert alice.text("MY")[0].startswith("Open:\n#N"), "another text is answered as usual"
    clock.shift(timedelta(minutes=6))
    assert alice.text("POST Free piano, collect by Friday")[0].startswith("Posted as"), "five minutes later, afresh"


def test_stop_always_works_however_often_a_text_was_repeated(board):
    alice = Phone(board.test_client(), ALICE)
    alice.text("JOIN ELM")
    for _ in range(7):
        alice.text("STOP")
    with session_of(board) as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage).where(
            InboundMessage.error.like("the same text%"))) == 0
    assert Phone(board.test_client(), ALICE).text("START")[0].startswith("Welcome back")
