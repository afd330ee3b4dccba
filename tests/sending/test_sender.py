"""The sender against a fake Twilio: real database, real twilio client, an injected clock.

Rate limiting runs on a `FakeClock`: nothing sleeps for real and no test reads
the wall clock; tests assert counts, the clock's timeline and the slots the
shared limiter handed out. Only the worker's tests at the end wait for real
(briefly: they poll every few hundredths of a second), as a deploy would.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import BOARD_NUMBER, Phone, app_config, session_of
from flask import Flask
from sqlalchemy import select

from sms_board import create_app
from sms_board.app import board_of
from sms_board.models import ConsentEvent, Outbox, OutboxKind, OutboxStatus, SenderState, Subscriber
from sms_board.sending.delivery import claim
from sms_board.sending.outbox import enqueue
from sms_board.sending.outcomes import MAX_ATTEMPTS
from sms_board.sending.ratelimit import SHARED_SECONDS, SlotLimiter
from sms_board.sending.sender import DrainReport, drain, run_forever
from tests.support.fake_twilio import Accept, Drop, FakeTwilio, Hang, HttpError, TwilioError
from tests.support.sender_clock import FakeClock, RecordingLimiter, assert_rate_kept

ALICE, BOB, CAROL = "+447700900101", "+447700900102", "+447700900103"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_app(db, tmp_path: Path):  # type: ignore[no-untyped-def]
    def build(**settings: object) -> Flask:
        values = {"SMS_BOARD_RATE": "1000", "SMS_BOARD_SENDER_CONCURRENCY": "1", **settings}
        return create_app(app_config(db, tmp_path, **values))

    return build


def queue(app: Flask, *numbers: str, body: str = "Bins go out on Tuesday") -> list[int]:
    """One queued text per number, as a handler or digest would write them; returns their ids."""
    settings = board_of(app).settings
    with session_of(app) as session:
        rows = []
        for number in numbers:
            person = session.scalar(select(Subscriber).where(Subscriber.phone == number))
            if person is None:
                person = Subscriber(phone=number)
                session.add(person)
                session.flush()
            rows.append(enqueue(session, settings, person, body, OutboxKind.NOTIFY))
        session.commit()
        return [row.id for row in rows if row is not None]


def outbox(app: Flask) -> list[Outbox]:
    with session_of(app) as session:
        return list(session.scalars(select(Outbox).order_by(Outbox.id)))


def subscriber(app: Flask, number: str) -> Subscriber:
    with session_of(app) as session:
        found = session.scalar(select(Subscriber).where(Subscriber.phone == number))
        assert found is not None
        return found


def run_drain(app: Flask, fake: FakeTwilio, clock: FakeClock, timeout: float = 0.5,
              **options: object) -> DrainReport:
    settings = board_of(app).settings
    return drain(
        board_of(app).sessions, fake.transport(settings, timeout=timeout), settings,
        now=clock.now, sleep=clock.sleep, **options,  # type: ignore[arg-type]
    )


def next_due(app: Flask, row_id: int) -> datetime:
    row = next(r for r in outbox(app) if r.id == row_id)
    assert row.status == OutboxStatus.QUEUED.value and row.send_after is not None
    return row.send_after


# ── sending ────────────────────────────────────────────────────────────────


def test_it_sends_each_queued_text_once_with_its_callback_url(make_app, fake_twilio, clock):
    app = make_app()
    ids = queue(app, ALICE, BOB, CAROL)

    report = run_drain(app, fake_twilio, clock)
    again = run_drain(app, fake_twilio, clock)

    assert (report.sent, again.handled) == (3, 0)
    seen = [(r.to, r.from_, r.body, r.status_callback) for r in fake_twilio.requests]
    assert seen == [
        (number, BOARD_NUMBER, "Bins go out on Tuesday", f"https://board.example.org/sms/status?outbox_id={row_id}")
        for number, row_id in zip((ALICE, BOB, CAROL), ids, strict=True)
    ]
    rows = outbox(app)
    assert [r.status for r in rows] == ["sent"] * 3
    assert [r.provider_sid for r in rows] == [r.sid for r in fake_twilio.requests]
    assert all(r.attempts == 1 and r.sent_at is not None for r in rows)


def test_texts_held_for_quiet_hours_go_once_their_time_has_come(make_app, fake_twilio, clock):
    app = make_app()
    [early, late] = queue(app, ALICE, BOB)
    with session_of(app) as session:
        session.get(Outbox, early).status = session.get(Outbox, late).status = OutboxStatus.HELD.value
        session.get(Outbox, early).send_after = clock.now() - timedelta(minutes=1)
        session.get(Outbox, late).send_after = clock.now() + timedelta(hours=9)
        session.commit()

    run_drain(app, fake_twilio, clock)

    assert [r.to for r in fake_twilio.requests] == [ALICE]
    assert [r.status for r in outbox(app)] == ["sent", "held"]


def test_a_429_storm_then_success_sends_once_with_growing_backoff(make_app, fake_twilio, clock):
    app = make_app()
    [row_id] = queue(app, ALICE)
    fake_twilio.next(HttpError(429), TwilioError(20429, status=429), HttpError(429))

    # An HTTP timeout a loaded machine cannot reach: a late answer would make the text `unknown`.
    reports, waits = [run_drain(app, fake_twilio, clock, timeout=5.0)], []
    while outbox(app)[0].status == OutboxStatus.QUEUED.value:
        due = next_due(app, row_id)
        waits.append((due - clock.now()).total_seconds())
        clock.move_to(due)
        reports.append(run_drain(app, fake_twilio, clock, timeout=5.0))

    [row] = outbox(app)
    assert (row.status, row.attempts) == ("sent", 4)
    assert len(fake_twilio.accepted) == 1 and len(fake_twilio.requests) == 4
    assert [r.retried for r in reports] == [1, 1, 1, 0] and reports[-1].sent == 1
    assert waits[0] > 0 and waits[1] > waits[0] and waits[2] > waits[1]


def test_a_429_makes_the_next_send_hold_off(make_app, fake_twilio, clock):
    app = make_app()
    queue(app, ALICE, BOB)
    fake_twilio.next(HttpError(429))

    run_drain(app, fake_twilio, clock)

    assert [r.to for r in fake_twilio.accepted] == [BOB]
    assert clock.elapsed >= 1.0


def test_a_500_is_retried_and_then_sent(make_app, fake_twilio, clock):
    app = make_app()
    [row_id] = queue(app, ALICE)
    fake_twilio.next(HttpError(500))

    first = run_drain(app, fake_twilio, clock)
    clock.move_to(next_due(app, row_id))
    second = run_drain(app, fake_twilio, clock)

    assert (first.retried, second.sent) == (1, 1)
    assert [r.to for r in fake_twilio.accepted] == [ALICE]
    assert outbox(app)[0].status == "sent"


def test_after_the_retry_cap_the_text_fails_with_the_reason(make_app, fake_twilio, clock):
    app = make_app()
    [row_id] = queue(app, ALICE)
    fake_twilio.for_number(ALICE, HttpError(503, "<html>Service Unavailable</html>"))

    run_drain(app, fake_twilio, clock)
    while outbox(app)[0].status == OutboxStatus.QUEUED.value:
        clock.move_to(next_due(app, row_id))
        run_drain(app, fake_twilio, clock)

    [row] = outbox(app)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert row.error_message.startswith(f"gave up after {MAX_ATTEMPTS} attempts")
    assert len(fake_twilio.requests) == MAX_ATTEMPTS and not fake_twilio.accepted


def test_21610_mid_drain_opts_the_number_out_and_cancels_its_other_texts(make_app, fake_twilio, clock):
    app = make_app()
    queue(app, ALICE, BOB, ALICE, CAROL, BOB, ALICE)
    fake_twilio.for_number(ALICE, TwilioError(21610, message="Attempt to send to unsubscribed recipient"))

    report = run_drain(app, fake_twilio, clock)

    assert [r.to for r in fake_twilio.requests if r.to == ALICE] == [ALICE]
    assert sorted(r.to for r in fake_twilio.accepted) == [BOB, BOB, CAROL]
    assert [(r.status, r.error_code) for r in outbox(app) if r.to_number == ALICE] == [
        ("failed", "21610"), ("cancelled", None), ("cancelled", None)]
    assert (report.sent, report.failed, report.cancelled) == (3, 1, 2)
    assert subscriber(app, ALICE).opted_out_at is not None
    assert subscriber(app, BOB).opted_out_at is None
    with session_of(app) as session:
        event = session.scalar(select(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber(app, ALICE).id))
        assert (event.action, event.channel) == ("opt_out", "carrier")


def test_21211_marks_the_number_undeliverable(make_app, fake_twilio, clock, caplog):
    app = make_app()
    queue(app, ALICE, ALICE)
    fake_twilio.next(TwilioError(21211, message=f"The 'To' number {ALICE} is not a valid phone number."))
    caplog.set_level(logging.DEBUG)

    run_drain(app, fake_twilio, clock)

    assert [(r.status, r.error_code) for r in outbox(app)] == [("failed", "21211"), ("cancelled", None)]
    assert subscriber(app, ALICE).undeliverable_at is not None
    assert subscriber(app, ALICE).opted_out_at is None
    assert len(fake_twilio.requests) == 1
    assert "undeliverable" in caplog.text or "cannot receive" in caplog.text
    assert ALICE not in caplog.text and ALICE[1:] not in caplog.text


@pytest.mark.parametrize("answer", [Drop(), Hang(seconds=2.0)], ids=["dropped", "timed-out"])
def test_an_ambiguous_send_becomes_unknown_and_is_never_sent_again(make_app, fake_twilio, clock, answer):
    app = make_app()
    queue(app, ALICE)
    fake_twilio.next(answer)

    report = run_drain(app, fake_twilio, clock)
    clock.advance(timedelta(hours=2))
    later = run_drain(app, fake_twilio, clock)

    assert (report.unknown, later.handled) == (1, 0)
    assert len(fake_twilio.requests) == 1
    assert outbox(app)[0].status == "unknown"


def test_a_text_left_sending_by_a_dead_sender_becomes_unknown(make_app, fake_twilio, clock):
    app = make_app()
    queue(app, ALICE)
    with board_of(app).sessions.begin() as session:
        claim(session, clock.now())  # …and the process dies before recording what happened

    soon = run_drain(app, fake_twilio, clock)
    status_soon = outbox(app)[0].status
    clock.advance(timedelta(minutes=6))
    later = run_drain(app, fake_twilio, clock)

    assert (status_soon, soon.handled) == ("sending", 0)  # another sender may still be mid-call
    assert later.unknown == 1 and outbox(app)[0].status == "unknown"
    assert fake_twilio.requests == []


def test_a_refused_account_stops_the_drain_and_keeps_the_texts_queued(make_app, fake_twilio, clock):
    app = make_app()
    queue(app, ALICE, BOB, CAROL)
    fake_twilio.next(TwilioError(20003, status=401, message="Authenticate"))

    report = run_drain(app, fake_twilio, clock)

    assert report.stopped_because and "Authenticate" in report.stopped_because
    assert len(fake_twilio.requests) == 1
    assert [(r.status, r.attempts) for r in outbox(app)] == [("queued", 0)] * 3


def test_opted_out_numbers_never_reach_twilio(make_app, fake_twilio, clock):
    app = make_app()
    queue(app, ALICE, BOB, CAROL)
    Phone(app.test_client(), ALICE).text("STOP")
    with session_of(app) as session:  # opted out by other means while a text was still queued
        session.scalar(select(Subscriber).where(Subscriber.phone == BOB)).opted_out_at = clock.now()
        session.commit()

    report = run_drain(app, fake_twilio, clock)

    assert [r.to for r in fake_twilio.requests] == [CAROL]
    assert [r.status for r in outbox(app) if r.kind != "reply"] == ["cancelled", "cancelled", "sent"]
    assert report.sent == 1


# ── rate and concurrency ───────────────────────────────────────────────────


def test_fifty_texts_at_ten_a_second_take_at_least_four_point_nine_seconds(make_app, fake_twilio, clock):
    app = make_app(SMS_BOARD_RATE="10", SMS_BOARD_SENDER_CONCURRENCY="4")
    queue(app, *(f"+4477009002{n:02d}" for n in range(50)))
    slots: list[tuple[datetime, float]] = []
    limiter = RecordingLimiter(board_of(app).sessions, 10, now=clock.now, sleep=clock.sleep, slots=slots)

    # The rate is read from the fake clock; the HTTP timeout only has to outlast a loaded machine.
    report = run_drain(app, fake_twilio, clock, limiter=limiter, timeout=5.0)

    assert report.sent == 50 and len(fake_twilio.accepted) == 50
    assert clock.elapsed >= 4.9
    assert_rate_kept(slots, 10)


def test_the_segment_unit_counts_segments(make_app, fake_twilio, clock):
    app = make_app(SMS_BOARD_RATE="10", SMS_BOARD_RATE_UNIT="segment")
    three_segments = "Road closed for the street party. " * 12
    queue(app, *(f"+4477009003{n:02d}" for n in range(10)), body=three_segments)
    assert {r.segments for r in outbox(app)} == {3}
    slots: list[tuple[datetime, float]] = []
    limiter = RecordingLimiter(board_of(app).sessions, 10, now=clock.now, sleep=clock.sleep, slots=slots)

    run_drain(app, fake_twilio, clock, limiter=limiter, timeout=5.0)

    assert len(fake_twilio.accepted) == 10
    assert clock.elapsed >= 2.7  # 30 segments at 10 a second: the tenth text starts at 2.7 s
    assert sum(units for _, units in slots) == 30
    assert_rate_kept(slots, 10)


def test_it_keeps_the_configured_number_of_sends_in_flight(make_app, threaded_fake_twilio, clock):
    app = make_app(SMS_BOARD_SENDER_CONCURRENCY="4")
    queue(app, *(f"+4477009004{n:02d}" for n in range(8)))
    threaded_fake_twilio.next(*[Accept(latency=0.3)] * 8)

    # A timeout well above the latency: on a loaded CI machine a new connection and the fake's
    # thread can take longer than the 0.2 s a 0.5 s timeout would leave.
    report = run_drain(app, threaded_fake_twilio, clock, timeout=5.0)

    assert report.sent == 8
    assert threaded_fake_twilio.max_in_flight == 4


def test_two_senders_never_send_a_text_twice_and_share_the_rate(make_app, threaded_fake_twilio, clock):
    app = make_app(SMS_BOARD_RATE="20", SMS_BOARD_SENDER_CONCURRENCY="3")
    numbers = [f"+4477009005{n:02d}" for n in range(60)]
    queue(app, *numbers)
    slots: list[tuple[datetime, float]] = []
    reports: list[DrainReport] = []

    def sender() -> None:  # a second process: its own limiter object, sessions and HTTP client
        factory = board_of(app).sessions
        limiter = RecordingLimiter(factory, 20, now=clock.now, sleep=clock.sleep, slots=slots)
        # 5 s, not 0.5: on a busy machine a send answered late would count as unknown, not sent.
        reports.append(run_drain(app, threaded_fake_twilio, clock, timeout=5.0, limiter=limiter))

    senders = [threading.Thread(target=sender) for _ in range(2)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join(timeout=60)

    sent_to = sorted(r.to for r in threaded_fake_twilio.requests)
    assert sent_to == numbers  # every number once: no row claimed twice
    assert sum(r.sent for r in reports) == 60
    assert {r.status for r in outbox(app)} == {"sent"}
    assert clock.elapsed >= 59 / 20
    assert_rate_kept(slots, 20)


def test_two_limiters_booking_blocks_from_one_row_never_hand_out_slots_closer_than_one_over_the_rate(
        make_app, clock):
    factory = board_of(make_app()).sessions
    slots: list[tuple[datetime, float]] = []
    limiters = [RecordingLimiter(factory, 100, now=clock.now, sleep=clock.sleep, slots=slots) for _ in range(2)]
    assert {limiter.slots_per_booking for limiter in limiters} == {5}  # 50 ms of slots a booking at 100/s

    def send(limiter: SlotLimiter, units: float) -> None:
        for _ in range(20):
            limiter.wait(units)

    threads = [threading.Thread(target=send, args=(limiter, units))
               for limiter in limiters for units in (1, 1, 2)]  # three sender threads a process
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(slots) == 120
    assert_rate_kept(slots, 100)
    # The last slot starts once every other slot's time has passed (it may be a 2-unit one).
    last_units = max(slots)[1]
    assert clock.elapsed >= (sum(units for _, units in slots) - last_units) / 100


def test_a_sender_alone_on_the_rate_books_a_block_at_a_time_and_beside_another_a_slot_at_a_time(make_app, clock):
    factory = board_of(make_app()).sessions
    alone = SlotLimiter(factory, 100, now=clock.now, sleep=clock.sleep)
    other = SlotLimiter(factory, 100, now=clock.now, sleep=clock.sleep)
    ms = timedelta(milliseconds=1)

    def booked_until() -> datetime:
        with factory() as session:
            return session.scalars(select(SenderState.next_slot_at)).one()

    first = alone.take()  # nothing known of the row yet: one slot, 0–10 ms
    assert booked_until() - first == 10 * ms
    alone.take()  # it queued behind its own booking: 10–20 ms, and it has the row to itself
    assert booked_until() - first == 20 * ms
    alone.take()  # so the next booking is a whole block: 20–70 ms
    assert booked_until() - first == 70 * ms
    assert [alone.take() - first for _ in range(4)] == [30 * ms, 40 * ms, 50 * ms, 60 * ms]  # from the block
    assert booked_until() - first == 70 * ms

    assert other.take() - first == 70 * ms  # another sender books in the row: 70–80 ms
    assert alone.take() - first == 80 * ms  # a whole block still (80–130 ms), but behind someone else's booking:
    assert [alone.take() - first for _ in range(4)] == [90 * ms, 100 * ms, 110 * ms, 120 * ms]
    assert alone.take() - first == 130 * ms  # so one slot a booking from now on
    assert booked_until() - first == 140 * ms

    clock.advance(timedelta(seconds=SHARED_SECONDS))  # nobody else for a second: whole blocks again
    again = alone.take()
    assert booked_until() - again == 50 * ms


def test_a_block_a_drain_did_not_use_goes_back_so_the_next_sender_waits_one_slot_not_the_block(
        make_app, fake_twilio, clock):
    # One thread: with two, whether the idle one's slot came back before the other asked again
    # decided (by scheduling) whether the next free moment was one slot or two after the send.
    app = make_app(SMS_BOARD_RATE="100", SMS_BOARD_SENDER_CONCURRENCY="1")
    queue(app, ALICE)
    slots: list[tuple[datetime, float]] = []
    first = RecordingLimiter(board_of(app).sessions, 100, now=clock.now, sleep=clock.sleep, slots=slots)

    run_drain(app, fake_twilio, clock, limiter=first)  # books a slot, sends one text

    second = SlotLimiter(board_of(app).sessions, 100, now=clock.now, sleep=clock.sleep)
    [(sent_at, _)] = slots
    assert second.take() - sent_at <= timedelta(seconds=1 / 100)


def test_a_block_is_not_given_back_once_another_sender_has_booked_after_it(make_app, clock):
    factory = board_of(make_app()).sessions
    slots: list[tuple[datetime, float]] = []
    first, second, third = (RecordingLimiter(factory, 100, now=clock.now, sleep=clock.sleep, slots=slots)
                            for _ in range(3))
    unused = first.take()  # 0–10 ms booked (one thread asking: one slot)
    first.give_back(unused)  # nothing to send: back on the first limiter's list
    second.take()  # 10–20 ms booked
    first.give_back_unused()  # 0–10 ms cannot go back: the row's next free slot is at 20 ms

    later = third.take()

    assert later - unused == timedelta(milliseconds=20)
    assert_rate_kept(slots, 100)


def test_segments_taken_from_blocks_keep_their_full_length(make_app, clock):
    factory = board_of(make_app()).sessions
    slots: list[tuple[datetime, float]] = []
    limiter = RecordingLimiter(factory, 100, now=clock.now, sleep=clock.sleep, slots=slots)

    starts = [limiter.take(units) for units in (1, 3, 2, 10, 1)]

    offsets = [round((start - starts[0]).total_seconds() * 1000) for start in starts]
    # 1 and 3 fit the first 50 ms block; 2 does not fit the 10 ms left, so a second block is
    # booked and joins those 10 ms; 10 units (100 ms) is longer than a block: booked alone, it
    # too starts where the free time before it does.
    assert offsets == [0, 10, 40, 60, 160]
    assert_rate_kept(slots, 100)


def test_three_segment_texts_at_a_hundred_segments_a_second_keep_the_rate(make_app, fake_twilio, clock):
    app = make_app(SMS_BOARD_RATE="100", SMS_BOARD_RATE_UNIT="segment", SMS_BOARD_SENDER_CONCURRENCY="3")
    queue(app, *(f"+4477009006{n:02d}" for n in range(20)), body="Road closed for the street party. " * 12)
    slots: list[tuple[datetime, float]] = []
    limiter = RecordingLimiter(board_of(app).sessions, 100, now=clock.now, sleep=clock.sleep, slots=slots)

    run_drain(app, fake_twilio, clock, limiter=limiter)

    assert len(fake_twilio.accepted) == 20
    assert sum(units for _, units in slots) == 60
    assert_rate_kept(slots, 100)
    last_end = max(start + timedelta(seconds=units / 100) for start, units in slots)
    assert (last_end - clock.start).total_seconds() >= 0.6 - 1e-6  # 60 segments at 100 a second fill 0.6 s
    # Each sender waits for its text's first segment and books the other two after it. After the
    # last first-segment slot come at most the three senders' owed segments (0.06 s) and that
    # slot itself (0.01 s): the last text cannot have started before 0.53 s.
    assert clock.elapsed >= 0.53 - 1e-6


def test_after_a_429_no_slot_already_booked_in_the_block_is_handed_out(make_app, clock):
    factory = board_of(make_app()).sessions
    limiter = SlotLimiter(factory, 100, now=clock.now, sleep=clock.sleep)
    first = limiter.take()
    limiter.take()  # and a whole block booked after it (the limiter has the row to itself)

    limiter.hold_off(1.0)

    assert limiter.take() - first >= timedelta(seconds=1.0)


# ── the command ────────────────────────────────────────────────────────────


def test_send_drains_once_and_reports_counts_on_stderr(make_app, fake_twilio):
    from conftest import Runner

    app = make_app()
    queue(app, ALICE, BOB)
    fake_twilio.for_number(BOB, TwilioError(21614, message="not a mobile number"))
    board_of(app).transport = fake_twilio.transport(board_of(app).settings)

    result = Runner(app)("send")

    assert "Done: 1 sent, 0 to retry, 1 failed" in result.stderr
    assert result.stdout == ""
    assert [r.status for r in outbox(app)] == ["sent", "failed"]


def test_send_stops_with_one_line_when_twilio_refuses_the_account(make_app, fake_twilio):
    from conftest import Runner

    app = make_app()
    queue(app, ALICE)
    fake_twilio.next(TwilioError(20003, status=401, message="Authenticate"))
    board_of(app).transport = fake_twilio.transport(board_of(app).settings)

    result = Runner(app)("send", ok=False)

    assert result.exit_code == 1
    assert "Twilio refused the account" in result.stderr
    assert outbox(app)[0].status == "queued"


# ── the worker: `send --forever` ───────────────────────────────────────────


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def deploy_when(condition: Callable[[], bool]) -> threading.Thread:
    """What a deploy does to the worker: once `condition` holds, SIGTERM to this process.

    The signal is only sent while the worker's own handler is in place: the default one would end pytest.
    """
    untouched = signal.getsignal(signal.SIGTERM)

    def deploy() -> None:
        wait_until(lambda: signal.getsignal(signal.SIGTERM) != untouched)
        wait_until(condition)
        if signal.getsignal(signal.SIGTERM) != untouched:
            os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=deploy, daemon=True)
    thread.start()
    return thread


def counts_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.endswith(" cancelled")]


def test_send_forever_sends_texts_as_they_arrive_and_stops_on_sigterm(make_app, fake_twilio, monkeypatch):
    from conftest import Runner

    monkeypatch.setenv("SMS_BOARD_LOG_LEVEL", "WARNING")
    app = make_app()
    queue(app, ALICE)
    board_of(app).transport = fake_twilio.transport(board_of(app).settings)
    handler_before = signal.getsignal(signal.SIGTERM)
    deploy = deploy_when(lambda: len(fake_twilio.accepted_to(BOB)) == 1)
    writer = threading.Thread(target=lambda: (wait_until(lambda: len(fake_twilio.accepted) == 1), queue(app, BOB)))
    writer.start()

    result = Runner(app)("send", "--forever", "--poll", "0.05")

    writer.join(timeout=20)
    deploy.join(timeout=20)
    assert [r.status for r in outbox(app)] == ["sent", "sent"]  # BOB's text was written while it ran
    assert result.stderr.splitlines()[-1] == "Stopped."
    assert sum(int(line.split()[0]) for line in counts_in(result.stderr)) == 2
    assert all(line.endswith("0 to retry, 0 failed, 0 unknown, 0 cancelled") for line in counts_in(result.stderr))
    assert signal.getsignal(signal.SIGTERM) == handler_before  # the worker's handler left with it


def test_send_forever_says_it_will_try_again_when_twilio_refuses_the_account(make_app, fake_twilio, monkeypatch):
    from conftest import Runner

    monkeypatch.setenv("SMS_BOARD_LOG_LEVEL", "WARNING")
    app = make_app()
    queue(app, ALICE)
    fake_twilio.next(TwilioError(20003, status=401, message="Authenticate"))
    board_of(app).transport = fake_twilio.transport(board_of(app).settings)
    deploy = deploy_when(lambda: len(fake_twilio.requests) == 1)

    result = Runner(app)("send", "--forever", "--poll", "0.05")

    deploy.join(timeout=20)
    lines = result.stderr.splitlines()
    assert lines[-1] == "Stopped."
    assert lines[-2].startswith("Twilio refused the account: ")
    assert lines[-2].endswith(". Check the TWILIO_* settings. Trying again in a minute.")
    assert len(fake_twilio.requests) == 1  # it waits rather than hammering the account
    assert outbox(app)[0].status == "queued"


def test_the_worker_sends_once_the_refused_account_works_again(make_app, fake_twilio):
    app = make_app()
    queue(app, ALICE)
    fake_twilio.next(TwilioError(20003, status=401, message="Authenticate"))
    board = board_of(app)
    reports: list[DrainReport] = []
    stop = threading.Event()

    def report_to(report: DrainReport) -> None:
        reports.append(report)
        if report.sent or len(reports) > 5:
            stop.set()

    worker = threading.Thread(target=run_forever, args=(board.sessions, fake_twilio.transport(board.settings),
                                                        board.settings),
                              kwargs={"stop": stop, "poll": 0.01, "retry_after": 0.05, "report_to": report_to})
    worker.start()
    worker.join(timeout=20)
    stop.set()

    assert [(bool(r.stopped_because), r.sent) for r in reports] == [(True, 0), (False, 1)]
    assert [r.status for r in outbox(app)] == ["sent"]
