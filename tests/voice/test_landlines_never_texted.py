"""A landline is never sent a text: not a reply, a notice, a broadcast or a digest.

Whatever writes a text, the board decides in one place that a landline takes none
(`sending.reachability.takes_texts`): `enqueue` writes no row for one, a reply to one is kept
as cancelled and never answered, and the sender cancels any other text to one, with its reason,
before it reaches Twilio (here the fake Twilio, which records every request).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import select

from sms_board import create_app
from sms_board.app import board_of
from sms_board.models import HearsBy, Outbox, OutboxKind, OutboxStatus, Subscriber
from sms_board.sending.outbox import enqueue
from sms_board.sending.reachability import LANDLINE
from sms_board.sending.sender import drain
from tests.conftest import Phone, Runner, app_config, session_of

CARDIFF, LEEDS, SAM, PRIYA = "+442920180123", "+441134960456", "+447700900123", "+447700900456"


@pytest.fixture
def board(db, tmp_path) -> Flask:
    app = create_app(app_config(db, tmp_path, SMS_BOARD_VOICE="on"))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("subscribers", "add", CARDIFF, "elm", "--voice", "--consent", "phoned by Ruth, 3 Dec")
    Phone(app.test_client(), SAM).text("JOIN ELM")
    return app


def texts_to(app: Flask, number: str) -> list[Outbox]:
    with session_of(app) as session:
        return list(session.scalars(select(Outbox).where(Outbox.to_number == number).order_by(Outbox.id)))


def send(app: Flask, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    settings = board_of(app).settings
    drain(board_of(app).sessions, fake_twilio.transport(settings), replace(settings, rate=1000))


def test_a_broadcast_reaches_the_mobile_and_never_the_landline(board, fake_twilio):
    Runner(board)("broadcast", "--area", "elm", "--yes", "Bins go out on Tuesday")

    send(board, fake_twilio)

    assert len(fake_twilio.accepted_to(SAM)) == 1
    assert fake_twilio.accepted_to(CARDIFF) == []
    assert [(row.kind, row.status, row.error_message) for row in texts_to(board, CARDIFF)] \
        == [(OutboxKind.BROADCAST, OutboxStatus.CANCELLED, LANDLINE)]


def test_a_digest_text_never_reaches_the_landline(board, fake_twilio):
    priya = Phone(board.test_client(), PRIYA)
    priya.text("JOIN ELM")
    priya.text("NAME Priya")
    priya.text("OFFER ladder to lend")
    Runner(board)("digest")

    send(board, fake_twilio)

    assert [row.kind for row in texts_to(board, SAM) if row.kind == OutboxKind.DIGEST] == [OutboxKind.DIGEST]
    # The landline's digest is read to it by a call; no text is ever handed to Twilio for it.
    handed = fake_twilio.accepted_to(CARDIFF)
    assert [r for r in handed if not r.params.get("Url")] == []
    assert len([r for r in handed if r.params.get("Url")]) == 1
    assert all(row.status == OutboxStatus.CANCELLED and row.error_message == LANDLINE
               for row in texts_to(board, CARDIFF) if row.kind != OutboxKind.CALL)


def test_a_notice_to_a_landline_is_never_written(board):
    settings = board_of(board).settings
    with session_of(board) as session:
        landline = session.scalars(select(Subscriber).where(Subscriber.phone == CARDIFF)).one()
        assert landline.hears_by == HearsBy.VOICE
        assert enqueue(session, settings, landline, "Your offer was taken", OutboxKind.NOTIFY) is None
        session.commit()
    assert texts_to(board, CARDIFF) == []


def test_a_text_from_a_landline_gets_no_reply_by_text(board, fake_twilio):
    replies = Phone(board.test_client(), CARDIFF).text("HELP")

    assert replies == []
    send(board, fake_twilio)
    assert fake_twilio.accepted_to(CARDIFF) == []
    assert {(row.kind, row.status, row.error_message) for row in texts_to(board, CARDIFF)} \
        == {(OutboxKind.REPLY, OutboxStatus.CANCELLED, LANDLINE)}


def test_a_landline_new_to_the_board_hears_it_by_voice_from_the_start(board):
    assert Phone(board.test_client(), LEEDS).text("JOIN ELM") == []

    with session_of(board) as session:
        assert session.scalars(select(Subscriber.hears_by).where(Subscriber.phone == LEEDS)).one() == HearsBy.VOICE
    assert {row.status for row in texts_to(board, LEEDS)} == {OutboxStatus.CANCELLED}


def test_a_mobile_whose_digests_are_calls_still_gets_its_replies_and_notices_by_text(board, fake_twilio):
    phone = Phone(board.test_client(), SAM)
    phone.text("DIGEST CALL")
    settings = board_of(board).settings
    with session_of(board) as session:
        sam = session.scalars(select(Subscriber).where(Subscriber.phone == SAM)).one()
        enqueue(session, settings, sam, "Your offer was taken", OutboxKind.NOTIFY)
        session.commit()

    assert phone.text("MY")[0].startswith("Nothing open.")
    send(board, fake_twilio)
    assert [request.body for request in fake_twilio.accepted_to(SAM)][-1] == "Your offer was taken"
