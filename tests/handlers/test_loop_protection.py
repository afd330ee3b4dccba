"""Loop protection is for machines answering machines, not for residents arranging a lift (docs/language.md).

A hard cap of automatic replies an hour (SMS_BOARD_MAX_REPLIES_PER_HOUR, default 30), the
same body repeated, or a text faster than a person could answer one the board sent: those
replies are withheld. A reply that confirms something the text changed never is.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from flask import Flask
from sqlalchemy import select

from sms_board import create_app
from sms_board.app import board_of
from sms_board.models import InboundMessage
from sms_board.sending.sender import drain
from sms_board.sending.transport import ConsoleTransport
from sms_board.text.templates import render
from tests.conftest import Database, Phone, Runner, app_config, session_of

SAM, HAL = "+447700900123", "+447700900456"
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _app(db: Database, tmp_path: Path, **config: str) -> Flask:
    app = create_app(app_config(db, tmp_path, **config))
    Runner(app)("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    return app


def _ref(reply: list[str]) -> str:
    found = re.search(r"#(R\d+)", " ".join(reply))
    assert found, reply
    return found.group(1)


def _withheld(app: Flask) -> str:
    """Why the last text got no reply."""
    with session_of(app) as session:
        row = session.scalar(select(InboundMessage).order_by(InboundMessage.id.desc()).limit(1))
        assert row is not None
        return row.error or ""


def test_arranging_a_lift_past_the_hourly_cap_gets_every_confirmation(db: Database, tmp_path: Path) -> None:
    app = _app(db, tmp_path, SMS_BOARD_MAX_REPLIES_PER_HOUR="3")
    client = app.test_client()
    sam, hal = Phone(client, SAM), Phone(client, HAL)
    for person, name in ((sam, "Sam"), (hal, "Hal")):
        assert len(person.text("JOIN ELM")) == 1
        assert len(person.text(f"NAME {name}")) == 1

    ref = _ref(sam.text("NEED Lift to the GP on Thursday"))  # Sam's fourth reply this hour
    assert "passed your offer on" in hal.text(f"CAN {ref}")[0]
    assert sam.text(f"OK {ref}")[0].startswith("Connected with Hal")
    assert hal.text(f"{ref} I can pick you up at 9") == []  # a relay: no reply, a text to Sam
    assert sam.text("MY") == []  # only a listing: past the cap it is withheld
    assert "loop protection" in _withheld(app)
    assert "Posted as #N" in sam.text("POST Thank you Hal!")[0]
    assert "is done" in sam.text(f"DONE {ref} 1h")[0]
    assert sam.text("STOP") == [render("stop_confirm")]
    assert sam.text("START")[0].startswith("Welcome back!")


def test_the_hourly_cap_is_30_replies_by_default(db: Database, tmp_path: Path) -> None:
    app = _app(db, tmp_path)
    assert board_of(app).settings.max_replies_per_hour == 30
    sam = Phone(app.test_client(), SAM)

    with time_machine.travel(NOON, tick=False) as clock:
        answered = []
        for n in range(1, 31):
            answered.append(len(sam.text(f"HELP {n}")))
            clock.shift(timedelta(seconds=16))  # slower than a flood (20 texts in 5 minutes)
        assert answered == [1] * 30
        assert sam.text("HELP 31") == []
    assert "30 automatic replies in the last hour" in _withheld(app)


def test_an_autoresponder_repeating_itself_stops_getting_replies(db: Database, tmp_path: Path) -> None:
    app = _app(db, tmp_path)
    autoresponder = Phone(app.test_client(), SAM)
    message = "Thanks for your message, I will reply soon"

    assert [len(autoresponder.text(message)) for _ in range(4)] == [1, 1, 1, 0]
    assert "the same text 4 times in 10 minutes, answered alike" in _withheld(app)
    assert len(autoresponder.text("HELP")) == 1  # a different text is answered


def test_a_phone_answering_the_boards_text_within_2_seconds_gets_no_reply(db: Database, tmp_path: Path) -> None:
    app = _app(db, tmp_path)
    board = board_of(app)
    client = app.test_client()
    sam, hal = Phone(client, SAM), Phone(client, HAL)
    with time_machine.travel(NOON, tick=False) as clock:
        sam.text("JOIN ELM")
        hal.text("JOIN ELM")
        ref = _ref(sam.text("NEED Lift to the GP on Thursday"))
        hal.text(f"CAN {ref}")  # Sam is told by a text the sender sends
        drain(board.sessions, ConsoleTransport(io.StringIO()), board.settings, sleep=lambda _seconds: None)

        clock.shift(timedelta(seconds=1))
        assert sam.text("HELP") == []  # an auto-reply to the board's text
        assert "answered the board's text within 2 s" in _withheld(app)

        clock.shift(timedelta(seconds=30))
        assert len(sam.text("HELP")) == 1  # a person, half a minute later
