"""Calls on the dashboard's overview: placed, answered and by machine per day; their cost in the spend; voice off."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from sms_board import create_app
from sms_board.app import board_of
from sms_board.broadcast.billing import segments_this_month
from sms_board.models import Call, HearsBy, Subscriber
from sms_board.plumbing.utc import utcnow
from sms_board.sending.calls import CallReport, record_call_status, record_placed
from sms_board.sending.delivery import claim_call, hand_over
from sms_board.sending.outbox import enqueue_call
from tests.conftest import Phone, Runner, app_config, session_of
from tests.support.web import sign_in

ADMIN = "+447700900002"
LANDLINES = ("+442920180101", "+442920180102", "+442920180103")


def board_with_landlines(db, tmp_path, **settings: str):  # type: ignore[no-untyped-def]
    app = create_app(app_config(db, tmp_path, SMS_BOARD_CALL_HOURS="", **settings))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("admin", "add", ADMIN)
    Phone(app.test_client(), ADMIN).text("JOIN ELM")
    for number in LANDLINES:
        Phone(app.test_client(), number).text("JOIN ELM")
    with session_of(app) as session:
        session.execute(Subscriber.__table__.update().where(Subscriber.phone.in_(LANDLINES))
                        .values(hears_by=HearsBy.VOICE))
        session.commit()
    return app


def call_each(app, endings: list[dict[str, str]]) -> None:  # type: ignore[no-untyped-def]
    """A call placed to each landline, ended as Twilio would say."""
    settings, now = board_of(app).settings, utcnow()
    with session_of(app) as session:
        for number in LANDLINES[:len(endings)]:
            person = session.scalar(select(Subscriber).where(Subscriber.phone == number))
            enqueue_call(session, settings, person, "Bins go out on Tuesday.", now=now)  # type: ignore[arg-type]
        session.flush()
        for n, ending in enumerate(endings):
            claimed = claim_call(session, now, lambda moment, zone: None)
            assert claimed is not None
            sid = f"CA{n:032x}"
            hand_over(session, claimed.id, sid, now)
            record_placed(session, claimed.id, sid, now)
            session.flush()
            record_call_status(session, settings, CallReport.from_callback({"CallSid": sid, **ending}), now)
        session.commit()


def overview(app, between_tags: str = "") -> str:  # type: ignore[no-untyped-def]
    """The overview's words (tags replaced by `between_tags`: a space keeps table cells apart)."""
    client = app.test_client()
    sign_in(client, ADMIN)
    shown = client.get("/dashboard")
    assert shown.status_code == 200
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", between_tags, shown.get_data(as_text=True))))


def test_the_overview_counts_calls_placed_answered_and_by_machine(db, tmp_path):
    app = board_with_landlines(db, tmp_path, SMS_BOARD_VOICE="on")
    call_each(app, [{"CallStatus": "completed", "AnsweredBy": "human", "CallDuration": "125"},
                    {"CallStatus": "completed", "AnsweredBy": "machine_end_beep", "CallDuration": "20"},
                    {"CallStatus": "no-answer"}])

    page = overview(app, " ")

    assert "Calls per day" in page
    assert "placed answered by a machine" in page
    assert re.search(r"\d{4}-\d\d-\d\d 3 1 1", page), "today's row: 3 placed, 1 answered, 1 by a machine"


def test_a_call_counts_in_the_spend_as_the_segments_its_minutes_cost(db, tmp_path):
    # 125 s is three started minutes: 3 × 0.015 ÷ 0.04 = 1.125, so 2 segments; 20 s is one minute, 1 segment.
    app = board_with_landlines(db, tmp_path, SMS_BOARD_VOICE="on")
    settings = board_of(app).settings
    with session_of(app) as session:
        texts = segments_this_month(session, settings, utcnow())

    call_each(app, [{"CallStatus": "completed", "AnsweredBy": "human", "CallDuration": "125"},
                    {"CallStatus": "completed", "AnsweredBy": "machine_end_beep", "CallDuration": "20"},
                    {"CallStatus": "busy"}])

    with session_of(app) as session:
        costs = [c.segments for c in session.scalars(select(Call).order_by(Call.id))]
        spent = segments_this_month(session, settings, utcnow())
    assert costs[:2] == [2, 1]
    # The busy call costs nothing, but it will be redialled: the next try counts at the longest a call lasts.
    assert costs[2] == 0
    assert spent == texts + 2 + 1 + 2


def test_with_voice_off_the_overview_says_the_telephone_residents_digests_wait(db, tmp_path):
    app = board_with_landlines(db, tmp_path)

    page = overview(app)

    assert "3 residents hear the board by telephone, but calls are off (SMS_BOARD_VOICE=off)" in page
    assert "Calls per day" not in page
