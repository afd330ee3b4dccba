"""STOP from the very next recipient in line while a broadcast goes out: nothing reaches them after it.

A 300-recipient broadcast drains at 20 texts a second through the real sender
into the fake Twilio; the STOPs come through gunicorn, signed. To make each STOP
land exactly where it matters, just before the sender claims that recipient's
text, the test briefly holds the sender's shared rate row (`sender_state`, which
every send must book a slot from): once all of the sender's threads wait on it,
nothing is in flight, the recipient at the head of the queue texts STOP, and
the rate row is let go within a few milliseconds of seeing the STOP's inbound
row stored. The sender then claims at once; a STOP that has taken effect "in the
transaction that stores the text" (docs/reliability.md) leaves that recipient's text
unclaimable, anything later lets it through.

The oracle: any request to that number that reached the fake Twilio after the
STOP's inbound row's `received_at` (both taken from this machine's clock).
"""

from __future__ import annotations

import random
import threading
import time

import pytest
from sqlalchemy import select, text

from sms_board.inbound import receive
from sms_board.models import InboundMessage

from .outbox import Audit, count_status, rows
from .procs import drama_number, text_params, twiml_messages, wait_for
from .rig import SCALE, TIME_LIMIT, Rig

pytestmark = [pytest.mark.faults, pytest.mark.timeout(TIME_LIMIT)]

RECIPIENTS = 300
RATE = 20
CONCURRENCY = 4


def join_everyone(rig: Rig, area: str, numbers: list[str]) -> None:
    """Each recipient texts JOIN, through the webhook's own pipeline (in this process: it is set-up, not the test)."""
    for number in numbers:
        result = receive(rig.sessions, rig.board.settings, text_params(number, f"JOIN {area}"))
        assert result.status == "handled", result


def senders_waiting_on_the_rate_row(rig: Rig) -> int:
    return int(rig.schema.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name AND wait_event_type = 'Lock'",
        name=rig.schema.application_name("sender")))


def test_stop_from_the_next_recipient_in_line_stops_their_broadcast_text(rig: Rig, rng: random.Random, note):
    twilio = rig.twilio()
    sender = rig.sender("sender", SMS_BOARD_RATE=str(RATE), SMS_BOARD_SENDER_CONCURRENCY=str(CONCURRENCY)).start()
    stops: list[dict] = []
    for broadcast in range(SCALE.broadcasts):
        area = f"street{broadcast}"
        numbers = [drama_number(1 + broadcast * RECIPIENTS + n) for n in range(RECIPIENTS)]
        rig.cli("area", "add", area, f"Street {broadcast}", "--postcode", f"SE{20 + broadcast}")
        join_everyone(rig, area, numbers)
        rig.cli("broadcast", "--area", area, "--yes", "Water off on the street tomorrow 10am-2pm. Fill a kettle!")
        seen = rig.fake.count()
        wait_for(lambda seen=seen: rig.fake.count() >= seen + 5, 30, "the broadcast to start")
        for _ in range(SCALE.stops_per_broadcast):
            time.sleep(rng.uniform(0.1, 0.4))  # the broadcast runs freely for a while
            stops.append(stop_the_next_in_line(rig, twilio, rng))
            assert sender.alive(), sender.tail()
        wait_for(lambda: not count_status(rig, "queued", "sending"), 60, "the broadcast to finish")
    sender.stop()

    requests = rig.fake.requests()
    late: list[str] = []
    for stop in stops:
        with rig.sessions() as session:
            row = session.scalar(select(InboundMessage).where(InboundMessage.message_sid == stop["sid"]))
        assert row is not None and row.status == "handled" and row.handler == "stop", (stop, row and row.status)
        stored = row.received_at.timestamp()
        for request in requests:
            if request["to"] == stop["number"] and request["t_wall"] > stored:
                late.append(
                    f"{stop['number']}: a text reached Twilio {1000 * (request['t_wall'] - stored):.0f} ms after "
                    f"their STOP was stored ({1000 * (request['t_wall'] - stop['answered']):+.0f} ms from the STOP's "
                    f"answer; the rate row was let go {1000 * (stop['released'] - stored):.0f} ms after storing)")
    audit = Audit(rows(rig, kind="broadcast"), requests)
    cancelled = sum(1 for r in audit.rows if r.status == "cancelled")
    note(broadcasts=SCALE.broadcasts, recipients=SCALE.broadcasts * RECIPIENTS, rate_per_second=RATE,
         stops=len(stops), stop_races_lost=len(late), broadcast_texts_cancelled_by_stop=cancelled,
         requests=len(requests), duplicates=len(audit.duplicates),
         stop_answer_ms_median=sorted(s["took_ms"] for s in stops)[len(stops) // 2])

    assert all(s["replies"] for s in stops), "a STOP was not confirmed"
    assert audit.duplicates == []
    assert late == [], f"{len(late)} of {len(stops)} STOPs were overtaken by a text:\n" + "\n".join(late)
    assert cancelled == len(stops)
    assert {r.status for r in audit.rows} == {"sent", "cancelled"}


def stop_the_next_in_line(rig: Rig, twilio, rng: random.Random) -> dict:  # type: ignore[no-untyped-def]
    """Hold the sender, have the head of the queue text STOP, let the sender go just after the STOP is stored."""
    with rig.schema.engine.connect() as hold:
        hold.execute(text("SELECT 1 FROM sender_state FOR UPDATE"))
        wait_for(lambda: senders_waiting_on_the_rate_row(rig) >= CONCURRENCY, 10,
                 "every sender thread to wait for its next slot")
        number = rig.schema.scalar("SELECT to_number FROM outbox WHERE status = 'queued' ORDER BY lane, id LIMIT 1")
        params = text_params(number, "STOP")
        answer: dict = {}

        def text_stop() -> None:
            answer["sent"] = time.time()
            response = twilio.text(params)
            answer["answered"] = time.time()
            answer["status"] = response.status_code
            answer["replies"] = twiml_messages(response.content) if response.status_code == 200 else []

        with rig.schema.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as look:
            stored = text("SELECT 1 FROM inbound_messages WHERE message_sid = :sid")
            phone = threading.Thread(target=text_stop)
            phone.start()
            wait_for(lambda: look.execute(stored, {"sid": params["MessageSid"]}).first(), 10,
                     "the STOP to be stored", every=0)
        time.sleep(rng.uniform(0.0, 0.005))
        released = time.time()
        hold.rollback()  # the sender books its slot and claims at once
    phone.join(timeout=30)
    assert answer.get("status") == 200, answer
    return {"number": number, "sid": params["MessageSid"], "released": released, "answered": answer["answered"],
            "replies": answer["replies"], "took_ms": round(1000 * (answer["answered"] - answer["sent"]))}
