"""The sender's SQL per text: rows claimed a batch per statement, outcomes stored a batch per statement.

Five sender threads are made to come for their slots together, round after round (the test's
limiter lets them through only as a group), so what they do is the same every run: one
claim of five rows, five recipient checks (one per text: each holds its recipient's row for
the length of its own send), and one statement storing the five outcomes. A claim or a
record per text, a second statement per claim or per record, or a pool checkout per
statement fails here; nothing is timed (`bench/bench_sender.py` times).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime

from conftest import app_config
from sqlalchemy import event

from sms_board import create_app
from sms_board.app import board_of
from sms_board.sending.ratelimit import SlotLimiter
from sms_board.sending.sender import drain
from tests.sending.test_sender import outbox, queue
from tests.support.sender_clock import FakeClock
from tests.support.statements import counting

THREADS, ROUNDS = 5, 4
TEXTS = THREADS * ROUNDS


class Together(SlotLimiter):
    """The real limiter; a thread gets its slot only once every sender thread is asking for one."""

    def __init__(self, *args: object, threads: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.together = threading.Barrier(threads, timeout=30)

    def wait(self, units: float = 1) -> datetime:
        self.together.wait()
        return super().wait(units)


def test_twenty_texts_by_five_threads_take_four_claims_four_records_and_a_check_each(db, tmp_path, fake_twilio):
    # 200 a second: blocks of up to 10 slots, so a claim may take all five threads' rows.
    app = create_app(app_config(db, tmp_path, SMS_BOARD_RATE="200", SMS_BOARD_SENDER_CONCURRENCY=str(THREADS)))
    queue(app, *(f"+4477009008{n:02d}" for n in range(TEXTS)))
    board, clock = board_of(app), FakeClock()
    limiter = Together(board.sessions, 200, now=clock.now, sleep=clock.sleep, threads=THREADS)
    checkouts: list[object] = []

    def counted(*args: object) -> None:
        checkouts.append(args)

    event.listen(board.engine.pool, "checkout", counted)

    with counting(app) as log:
        report = drain(board.sessions, fake_twilio.transport(board.settings, timeout=5.0), board.settings,
                       now=clock.now, sleep=clock.sleep, limiter=limiter)
    event.remove(board.engine.pool, "checkout", counted)

    assert report.sent == TEXTS and {row.status for row in outbox(app)} == {"sent"}
    assert len(fake_twilio.accepted) == TEXTS
    kinds = Counter(kind for kind in log.kinds() if kind.split(" ")[1] in {"outbox", "subscribers"})
    assert kinds == {
        # the drain's look at the outbox: stale rows, held rows, unreachable recipients, anything due
        "UPDATE outbox": 3 + ROUNDS + ROUNDS,  # … then a claim and a record of five rows each round
        "SELECT outbox LIMIT": 1 + ROUNDS + 1,  # anything due; a claim's search each round; the last finds none
        "SELECT subscribers": TEXTS,  # the recipient check, held for its send
    }
    per_text = sum(kinds.values()) / TEXTS
    assert per_text <= 1.9  # one row claimed and stored per statement: 4.2
    # The limiter books a slot for each thread asking until it has seen its bookings follow one
    # another in the row (nobody else books there), then a whole block of 10: at most 1 + 1 + 10
    # + 10 slots in four bookings for the 20 texts (how many threads ask at once is the
    # scheduler's), where a booking per thread asking was up to 20. Besides them: on PostgreSQL
    # the first booking ever finds no row for its one statement and books again in a
    # transaction, and the drain hands back the unused end of the last block.
    bookings = 4
    assert log.kinds().count("UPDATE sender_state") <= bookings + 2
    # A checkout for the drain's look, each claim, each check, each record and the last claim;
    # and the limiter's, one a statement above.
    assert 1 + ROUNDS + TEXTS + ROUNDS + 1 < len(checkouts) <= 1 + ROUNDS + TEXTS + ROUNDS + 1 + bookings + 2
