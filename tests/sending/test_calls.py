"""Placing calls: the sender's call lane against the fake Twilio, and Twilio's signed call callbacks.

Time is a frozen `time_machine` clock the tests move on; the sender sleeps by moving it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from conftest import BOARD_NUMBER, app_config, session_of, sign
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from sms_board import create_app
from sms_board.app import board_of
from sms_board.models import Call, HearsBy, Outbox, OutboxKind, Subscriber
from sms_board.plumbing.utc import utcnow
from sms_board.sending.delivery import claim
from sms_board.sending.outbox import enqueue, enqueue_call
from sms_board.sending.ratelimit import CALL_RATE, SlotLimiter
from sms_board.sending.sender import DrainReport, drain
from tests.support.fake_twilio import FakeTwilio, TwilioError
from tests.support.sender_clock import FakeClock, RecordingLimiter, assert_rate_kept

LANDLINE = "+442920180123"  # Ofcom's drama range for Cardiff
MOBILE = "+447700900101"
# A Wednesday in winter: London keeps UTC, so the times below are the area's clock too.
MIDDAY = datetime(2031, 1, 15, 12, 0, tzinfo=UTC)
PUBLIC = "https://board.example.org"


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(MIDDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def make_app(db, tmp_path: Path):  # type: ignore[no-untyped-def]
    def build(**settings: object) -> Flask:
        values = {"SMS_BOARD_RATE": "1000", "SMS_BOARD_SENDER_CONCURRENCY": "1", "SMS_BOARD_VOICE": "on",
                  "SMS_BOARD_CALL_HOURS": "", **settings}
        return create_app(app_config(db, tmp_path, **values))

    return build


def person(app: Flask, number: str, hears_by: HearsBy = HearsBy.VOICE) -> int:
    with session_of(app) as session:
        subscriber = Subscriber(phone=number, hears_by=hears_by)
        session.add(subscriber)
        session.commit()
        return subscriber.id


def queue_call(app: Flask, number: str = LANDLINE) -> int:
    with session_of(app) as session:
        subscriber = session.scalar(select(Subscriber).where(Subscriber.phone == number))
        if subscriber is None:
            subscriber = Subscriber(phone=number, hears_by=HearsBy.VOICE)
            session.add(subscriber)
            session.flush()
        row = enqueue_call(session, board_of(app).settings, subscriber, "Bins go out on Tuesday.", now=utcnow())
        session.commit()
        assert row is not None
        return row.id


def run_drain(app: Flask, fake: FakeTwilio, clock: Any, **options: object) -> DrainReport:
    settings = board_of(app).settings
    return drain(board_of(app).sessions, fake.transport(settings), settings, now=utcnow,
                 sleep=lambda seconds: clock.shift(timedelta(seconds=seconds)), **options)  # type: ignore[arg-type]


def row(app: Flask, row_id: int) -> Outbox:
    with session_of(app) as session:
        found = session.get(Outbox, row_id)
        assert found is not None
        return found


def calls(app: Flask) -> list[Call]:
    with session_of(app) as session:
        return list(session.scalars(select(Call).order_by(Call.id)))


def call_callback(client: FlaskClient, path: str, outbox_id: int, **form: str) -> int:
    """Twilio's callback about a call, signed as Twilio signs it."""
    url = f"{PUBLIC}{path}?outbox_id={outbox_id}"
    params = {"AccountSid": "AC" + "0" * 32, "From": BOARD_NUMBER, "To": LANDLINE, **form}
    response = client.post(f"{path}?outbox_id={outbox_id}", data=params,
                           headers={"X-Twilio-Signature": sign(url, params)})
    return response.status_code


# ── placing ────────────────────────────────────────────────────────────────


def test_a_due_call_is_placed_once_from_the_board_number_with_machine_detection(make_app, fake_twilio, clock):
    app = make_app()
    row_id = queue_call(app)

    report = run_drain(app, fake_twilio, clock)
    again = run_drain(app, fake_twilio, clock)

    assert (report.sent, again.handled) == (1, 0)
    [placed] = fake_twilio.calls
    assert (placed.to, placed.from_) == (LANDLINE, BOARD_NUMBER)
    assert placed.params["Url"] == f"{PUBLIC}/voice/call/{row_id}"
    assert placed.params["StatusCallback"] == f"{PUBLIC}/voice/status?outbox_id={row_id}"
    assert placed.params["MachineDetection"] == "DetectMessageEnd"
    assert placed.params["AsyncAmd"] == "true"
    assert placed.params["AsyncAmdStatusCallback"] == f"{PUBLIC}/voice/machine?outbox_id={row_id}"
    stored = row(app, row_id)
    assert (stored.status, stored.provider_sid, stored.segments, stored.encoding) == (
        "sent", placed.sid, 0, "voice")
    assert [(c.outbox_id, c.call_sid, c.status) for c in calls(app)] == [(row_id, placed.sid, "queued")]
    assert fake_twilio.requests == fake_twilio.calls  # no text went


def test_with_voice_off_no_call_is_placed_and_it_waits(make_app, fake_twilio, clock):
    app = make_app(SMS_BOARD_VOICE="off")
    row_id = queue_call(app)

    run_drain(app, fake_twilio, clock)

    assert fake_twilio.requests == []
    assert row(app, row_id).status == "queued"


def test_the_text_claim_never_takes_a_call(make_app, clock):
    app = make_app()
    call_id = queue_call(app)
    person(app, MOBILE, HearsBy.SMS)
    with session_of(app) as session:
        text = enqueue(session, board_of(app).settings, session.scalar(
            select(Subscriber).where(Subscriber.phone == MOBILE)), "Bins", OutboxKind.NOTIFY)
        session.commit()
        assert text is not None
        text_id = text.id
        claimed = claim(session, utcnow(), limit=5)
        session.commit()

    assert [c.id for c in claimed] == [text_id]
    assert row(app, call_id).status == "queued"


def test_a_call_waiting_for_its_rate_never_holds_up_a_text(make_app, fake_twilio, clock):
    app = make_app(SMS_BOARD_CALLS_PER_SECOND="0.01")  # one call every 100 s
    first, second = queue_call(app), queue_call(app, "+441134960001")
    person(app, MOBILE, HearsBy.SMS)
    with session_of(app) as session:
        enqueue(session, board_of(app).settings, session.scalar(
            select(Subscriber).where(Subscriber.phone == MOBILE)), "Bins", OutboxKind.NOTIFY)
        session.commit()
    # Another sender booked the call rate a while ahead: this drain's calls wait for it, the text does not.
    factory = board_of(app).sessions
    SlotLimiter(factory, 0.01, name=CALL_RATE, now=utcnow).take(30)
    text_gone_while_calls_waited = []

    def sleep(seconds: float) -> None:
        """A call waiting for its slot: the text must go meanwhile (the clock moves only after)."""
        for _ in range(500):
            if any(r.kind == "message" for r in fake_twilio.requests):
                break
            time.sleep(0.01)
        text_gone_while_calls_waited.append(any(r.kind == "message" for r in fake_twilio.requests))
        clock.shift(timedelta(seconds=seconds))

    settings = board_of(app).settings
    drain(factory, fake_twilio.transport(settings), settings, now=utcnow, sleep=sleep)

    texts = [r for r in fake_twilio.requests if r.kind == "message"]
    with session_of(app) as session:
        sent_at = {r.id: r.sent_at for r in session.scalars(select(Outbox))}
        text_sent = session.scalar(select(Outbox.sent_at).where(Outbox.kind == OutboxKind.NOTIFY))
    assert [t.to for t in texts] == [MOBILE]
    assert text_gone_while_calls_waited and all(text_gone_while_calls_waited)
    assert text_sent is not None
    assert sent_at[first] >= MIDDAY + timedelta(seconds=3000)
    assert sent_at[second] - sent_at[first] >= timedelta(seconds=99.9)


def test_a_call_refused_by_twilio_fails_and_is_never_placed_again(make_app, fake_twilio, clock):
    app = make_app()
    row_id = queue_call(app)
    fake_twilio.next(TwilioError(13224, message="The phone number you are attempting to call is not valid"))

    run_drain(app, fake_twilio, clock)
    run_drain(app, fake_twilio, clock)

    assert len(fake_twilio.calls) == 1
    assert row(app, row_id).status == "failed"
    assert calls(app) == []


@pytest.mark.postgres_only("two sender processes at once need a database that takes concurrent writers; "
                            "SQLite runs one sender")
def test_two_senders_keep_to_one_call_a_second_together_and_never_place_a_call_twice(make_app,
                                                                                      threaded_fake_twilio):
    app = make_app()  # SMS_BOARD_CALLS_PER_SECOND defaults to 1
    numbers = [f"+44292018{n:04d}" for n in range(12)]
    for number in numbers:
        queue_call(app, number)
    clock = FakeClock()
    slots: list[tuple[datetime, float]] = []
    reports: list[DrainReport] = []

    def sender() -> None:  # a second process: its own call limiter, sessions and HTTP client
        settings, factory = board_of(app).settings, board_of(app).sessions
        limiter = RecordingLimiter(factory, 1, name=CALL_RATE, now=clock.now, sleep=clock.sleep, slots=slots)
        reports.append(drain(factory, threaded_fake_twilio.transport(settings, timeout=5.0), settings,
                             now=clock.now, sleep=clock.sleep, call_limiter=limiter))

    senders = [threading.Thread(target=sender) for _ in range(2)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join(timeout=60)

    assert sorted(c.to for c in threaded_fake_twilio.calls) == numbers  # each number called once
    assert sum(r.sent for r in reports) == 12
    assert len(slots) == 12 and clock.elapsed >= 11
    assert_rate_kept(slots, 1)


# ── hours ──────────────────────────────────────────────────────────────────


def test_a_call_waits_for_call_hours_to_open_on_the_area_clock(make_app, fake_twilio, clock):
    app = make_app(SMS_BOARD_CALL_HOURS="09:00-20:00")
    clock.move_to(MIDDAY.replace(hour=19, minute=30))
    row_id = queue_call(app)
    clock.move_to(MIDDAY.replace(hour=20, minute=30))  # a backlog took the call past 20:00

    run_drain(app, fake_twilio, clock)

    held = row(app, row_id)
    assert fake_twilio.calls == []
    assert (held.status, held.send_after) == ("held", MIDDAY.replace(day=16, hour=9, minute=0))
    clock.move_to(MIDDAY.replace(day=16, hour=9, minute=0))
    run_drain(app, fake_twilio, clock)
    assert len(fake_twilio.placed_calls) == 1


def test_a_call_queued_in_quiet_hours_is_held_until_both_quiet_and_call_hours_allow(make_app, fake_twilio, clock):
    app = make_app(SMS_BOARD_QUIET_HOURS="21:00-08:00", SMS_BOARD_CALL_HOURS="09:00-20:00")
    clock.move_to(MIDDAY.replace(hour=22))

    row_id = queue_call(app)
    run_drain(app, fake_twilio, clock)

    held = row(app, row_id)
    assert fake_twilio.calls == []
    assert (held.status, held.send_after) == ("held", MIDDAY.replace(day=16, hour=9))


# ── Twilio's callbacks ─────────────────────────────────────────────────────


def test_an_answered_call_is_stored_with_who_answered_and_for_how_long(make_app, fake_twilio, clock):
    app = make_app()
    row_id = queue_call(app)
    run_drain(app, fake_twilio, clock)
    [placed] = fake_twilio.placed_calls
    client = app.test_client()

    assert call_callback(client, "/voice/status", row_id, CallSid=placed.sid or "", CallStatus="ringing") == 200
    assert call_callback(client, "/voice/status", row_id, CallSid=placed.sid or "", CallStatus="completed",
                         AnsweredBy="human", CallDuration="95") == 200

    [call] = calls(app)
    assert (call.status, call.answered_by, call.duration_seconds) == ("completed", "human", 95)
    assert call.ended_at is not None and call.ended_at >= call.placed_at
    assert row(app, row_id).status == "delivered"


def test_busy_twice_then_no_answer_redials_an_hour_apart_then_gives_up(make_app, fake_twilio, clock):
    app = make_app()
    row_id = queue_call(app)
    client = app.test_client()
    waits = []
    for answer in ("busy", "busy", "no-answer"):
        run_drain(app, fake_twilio, clock)
        placed = fake_twilio.placed_calls[-1]
        call_callback(client, "/voice/status", row_id, CallSid=placed.sid or "", CallStatus=answer)
        stored = row(app, row_id)
        if stored.status == "held":
            waits.append(stored.send_after - utcnow())
            clock.move_to(stored.send_after)

    assert len(fake_twilio.placed_calls) == 3
    assert len({c.sid for c in fake_twilio.placed_calls}) == 3
    assert waits == [timedelta(hours=1)] * 2
    assert [c.status for c in calls(app)] == ["busy", "busy", "no-answer"]
    assert row(app, row_id).status == "undelivered"
    run_drain(app, fake_twilio, clock)
    assert len(fake_twilio.placed_calls) == 3


def test_a_redial_never_lands_outside_call_hours(make_app, fake_twilio, clock):
    app = make_app(SMS_BOARD_CALL_HOURS="09:00-20:00")
    clock.move_to(MIDDAY.replace(hour=19, minute=30))
    row_id = queue_call(app)
    run_drain(app, fake_twilio, clock)

    [placed] = fake_twilio.placed_calls
    call_callback(app.test_client(), "/voice/status", row_id, CallSid=placed.sid or "", CallStatus="busy")

    assert row(app, row_id).send_after == MIDDAY.replace(day=16, hour=9, minute=0)


def test_a_late_callback_from_an_earlier_try_moves_nothing(make_app, fake_twilio, clock):
    app = make_app()
    row_id = queue_call(app)
    client = app.test_client()
    run_drain(app, fake_twilio, clock)
    first = fake_twilio.placed_calls[0].sid or ""
    call_callback(client, "/voice/status", row_id, CallSid=first, CallStatus="busy")
    clock.move_to(row(app, row_id).send_after)
    run_drain(app, fake_twilio, clock)

    call_callback(client, "/voice/status", row_id, CallSid=first, CallStatus="busy")  # Twilio repeats itself

    assert row(app, row_id).status == "sent"
    assert len(fake_twilio.placed_calls) == 2


def test_a_call_callback_without_twilios_signature_is_refused(make_app, fake_twilio, clock):
    app = make_app()
    row_id = queue_call(app)
    run_drain(app, fake_twilio, clock)
    placed = fake_twilio.placed_calls[0]
    client = app.test_client()

    forged = {"CallSid": placed.sid or "", "CallStatus": "busy"}
    unsigned = client.post(f"/voice/status?outbox_id={row_id}", data=forged)
    wrong = client.post(f"/voice/status?outbox_id={row_id}", data=forged,
                        headers={"X-Twilio-Signature": sign(f"{PUBLIC}/voice/status?outbox_id={row_id}", forged,
                                                            token="not-the-token")})
    machine = client.post(f"/voice/machine?outbox_id={row_id}", data={**forged, "AnsweredBy": "machine_end_beep"})

    assert (unsigned.status_code, wrong.status_code, machine.status_code) == (403, 403, 403)
    assert row(app, row_id).status == "sent"
    assert calls(app)[0].status == "queued"
    assert fake_twilio.call_updates == []


def test_a_machine_answering_gets_the_machine_message_and_a_human_does_not(make_app, fake_twilio, clock):
    app = make_app()
    board_of(app).transport = fake_twilio.transport(board_of(app).settings)
    human_row, machine_row = queue_call(app), queue_call(app, "+441134960001")
    run_drain(app, fake_twilio, clock)
    human, machine = fake_twilio.placed_calls
    client = app.test_client()

    call_callback(client, "/voice/machine", human_row, CallSid=human.sid or "", AnsweredBy="human")
    call_callback(client, "/voice/machine", machine_row, CallSid=machine.sid or "", AnsweredBy="machine_end_beep")

    [(sid, update)] = fake_twilio.call_updates
    assert sid == machine.sid
    assert update["Twiml"].startswith("<?xml") and "<Response>" in update["Twiml"]
    assert [c.answered_by for c in calls(app)] == ["human", "machine_end_beep"]
