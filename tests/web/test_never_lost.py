"""Never lose a text, never send after STOP: the in-process half of the proof.

A process that dies is simulated here by an exception no handler catches, raised at the
exact point a SIGKILL would stop it; `tests/faults/` kills real processes.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from sms_board import inbound as pipeline
from sms_board.app import board_of
from sms_board.clock.jobs import run_due_jobs
from sms_board.inbound import routing
from sms_board.models import InboundMessage, Outbox, OutboxKind, Subscriber, Subscription
from sms_board.plumbing.utc import utcnow
from sms_board.sending.outbox import enqueue
from sms_board.sending.reachability import recipient_on_the_wire
from tests.conftest import ACCOUNT_SID, BOARD_NUMBER, post_inbound, session_of, sign

RESIDENT = "+447700900111"
URL = "https://board.example.org"


class ProcessDied(BaseException):
    """What a SIGKILL looks like from inside: nothing after this point runs, nothing catches it."""


def params(body: str, number: str = RESIDENT, sid: str | None = None) -> dict[str, str]:
    return {"MessageSid": sid or f"SM{uuid.uuid4().hex}", "AccountSid": ACCOUNT_SID, "From": number,
            "To": BOARD_NUMBER, "Body": body, "NumMedia": "0", "SmsStatus": "received"}


@pytest.fixture
def dies_after_storing(monkeypatch):  # type: ignore[no-untyped-def]
    """The next webhook's process dies right after its text is stored and committed."""
    real = routing.route_once
    calls = {"n": 0}

    def route_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise ProcessDied
        return real(*args, **kwargs)

    monkeypatch.setattr(routing, "route_once", route_once)
    return calls


def deliver_and_die(client, sms: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ProcessDied):
        client.post("/sms/inbound", data=sms, headers={"X-Twilio-Signature": sign(URL + "/sms/inbound", sms)})


def row(app: Flask, sid: str) -> InboundMessage:
    with session_of(app) as session:
        found = session.scalar(select(InboundMessage).where(InboundMessage.message_sid == sid))
        assert found is not None
        return found


def joined(app: Flask, number: str = RESIDENT) -> list[int]:
    with session_of(app) as session:
        return list(session.scalars(
            select(Subscription.area_id).join(Subscriber).where(Subscriber.phone == number,
                                                                Subscription.status == "active")))


def test_twilios_retry_of_a_text_whose_worker_died_gets_it_joined_and_answered(app, client, areas,
                                                                                dies_after_storing):
    sms = params("JOIN ELM")
    deliver_and_die(client, sms)
    assert row(app, sms["MessageSid"]).status == "received" and joined(app) == []

    replies = post_inbound(client, sms)  # Twilio got no answer and retries the same MessageSid

    assert replies[0].startswith("Welcome to Elm Street")
    assert len(joined(app)) == 1 and row(app, sms["MessageSid"]).status == "handled"
    assert post_inbound(client, sms) == replies  # a third delivery: the same answer, no second effect
    assert len(joined(app)) == 1


def test_the_clock_takes_over_a_text_left_unrouted_and_replies_by_sms(app, client, areas, dies_after_storing):
    sms = params("JOIN ELM")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        deliver_and_die(client, sms)
        board = board_of(app)
        assert run_due_jobs(board.sessions, board.settings, utcnow())["inbound_taken_over"] == 0  # within the lease
        traveller.shift(pipeline.LEASE + timedelta(seconds=1))

        assert run_due_jobs(board.sessions, board.settings, utcnow())["inbound_taken_over"] == 1

    assert len(joined(app)) == 1
    with session_of(app) as session:
        [reply] = session.scalars(select(Outbox).where(Outbox.kind == OutboxKind.REPLY.value)).all()
    assert (reply.status, reply.lane, reply.to_number) == ("queued", 0, RESIDENT)  # goes by REST, first lane
    assert reply.body.startswith("Welcome to Elm Street")
    assert post_inbound(client, sms) == []  # a late retry must not send the welcome a second time
    assert len(joined(app)) == 1


def test_a_text_that_kills_its_process_twice_goes_to_the_inbox(app, client, areas, monkeypatch):
    sms = params("JOIN ELM")
    monkeypatch.setattr(routing, "route_once", lambda *a, **k: (_ for _ in ()).throw(ProcessDied))
    board = board_of(app)
    with time_machine.travel(utcnow(), tick=False) as traveller:
        deliver_and_die(client, sms)
        traveller.shift(pipeline.LEASE + timedelta(seconds=1))
        with pytest.raises(ProcessDied):  # the clock's own takeover dies too
            run_due_jobs(board.sessions, board.settings, utcnow())
        monkeypatch.undo()
        assert run_due_jobs(board.sessions, board.settings, utcnow())["inbound_taken_over"] == 0

    stored = row(app, sms["MessageSid"])
    assert (stored.status, stored.in_inbox, stored.attempts) == ("error", True, 3)
    assert "left for an organiser" in (stored.error or "")
    assert joined(app) == []


def test_a_stop_opts_out_in_the_transaction_that_stores_it(app, client, areas, phone, dies_after_storing):
    resident = phone(RESIDENT)
    dies_after_storing["n"] = 1  # let the JOIN through
    resident.text("JOIN ELM")
    dies_after_storing["n"] = 0
    with session_of(app) as session:
        person = session.scalar(select(Subscriber).where(Subscriber.phone == RESIDENT))
        enqueue(session, board_of(app).settings, person, "Your neighbour replied", OutboxKind.NOTIFY)
        session.commit()

    stop = params("STOP")
    deliver_and_die(client, stop)  # stored, never routed

    with session_of(app) as session:
        person = session.scalar(select(Subscriber).where(Subscriber.phone == RESIDENT))
        waiting = session.scalars(select(Outbox.status).where(Outbox.kind == "notify")).all()
    assert person.opted_out_at is not None and waiting == ["cancelled"]
    assert joined(app) == []
    # Twilio's retry still gets the one confirmation.
    assert post_inbound(client, stop)[0].startswith("You're unsubscribed")


@pytest.mark.postgres_only(reason="the on-the-wire lock is PostgreSQL's (SQLite runs one sender and says so)")
def test_a_stop_is_stored_only_once_a_send_already_on_the_wire_is_over(app, areas, phone, db):
    phone(RESIDENT).text("JOIN ELM")
    board = board_of(app)
    with session_of(app) as session:
        subscriber_id = session.scalar(select(Subscriber.id).where(Subscriber.phone == RESIDENT))
    sent_at: list[float] = []
    stored: list[pipeline.InboundResult] = []

    def stop() -> None:
        stored.append(pipeline.receive(board.sessions, board.settings, params("STOP")))

    with recipient_on_the_wire(board.sessions, subscriber_id) as reachable:
        assert reachable
        texting = threading.Thread(target=stop)
        texting.start()
        time.sleep(0.3)  # the STOP arrives while the text is on its way to Twilio…
        assert texting.is_alive(), "the STOP must wait for the send in flight"
        sent_at.append(time.time())
    texting.join(timeout=10)

    assert stored and stored[0].replies[0].startswith("You're unsubscribed")
    assert row(app, stored[0].message_sid).received_at.timestamp() >= sent_at[0]  # …and is stored after it
    with recipient_on_the_wire(board.sessions, subscriber_id) as reachable:
        assert not reachable  # and no later send gets past the check


def test_a_status_callback_for_an_id_beyond_any_row_changes_nothing(app, client, areas, phone):
    phone(RESIDENT).text("JOIN ELM")
    sid = "SM" + "1" * 32
    with session_of(app) as session:
        reply = session.scalar(select(Outbox))
        reply.provider_sid = sid
        session.commit()
    for outbox_id in ("2147483648", "99999999999999999999", "-1", "12abc"):
        path = f"/sms/status?outbox_id={outbox_id}"
        form = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003", "AccountSid": ACCOUNT_SID}
        response = client.post(path, data=form, headers={"X-Twilio-Signature": sign(URL + path, form)})
        assert response.status_code == 200
    with session_of(app) as session:
        assert session.scalar(select(Outbox.status)) == "sent"


@pytest.mark.parametrize("signed", [True, False])
def test_a_body_over_64_kb_is_refused_before_it_is_read(app, client, signed):
    sms = params("POST " + "x" * (70 * 1024))
    headers = {"X-Twilio-Signature": sign(URL + "/sms/inbound", sms) if signed else "forged"}

    response = client.post("/sms/inbound", data=sms, headers=headers)

    assert response.status_code == 413
    with session_of(app) as session:
        assert session.scalars(select(InboundMessage)).all() == []


def test_a_long_but_real_text_is_still_taken(app, client, areas):
    assert post_inbound(client, params("POST " + "Lost cat, ginger, answers to Biscuit. " * 40))


def test_a_stop_taken_over_by_the_clock_still_gets_its_one_confirmation(app, client, areas, phone,
                                                                         dies_after_storing, fake_twilio):
    from sms_board.sending.sender import drain

    dies_after_storing["n"] = 1
    phone(RESIDENT).text("JOIN ELM")
    dies_after_storing["n"] = 0
    board = board_of(app)
    with time_machine.travel(utcnow(), tick=False) as traveller:
        deliver_and_die(client, params("STOP"))
        traveller.shift(pipeline.LEASE + timedelta(seconds=1))
        assert run_due_jobs(board.sessions, board.settings, utcnow())["inbound_taken_over"] == 1
        drain(board.sessions, fake_twilio.transport(board.settings), board.settings)

    [confirmation] = fake_twilio.accepted_to(RESIDENT)  # opted out, and told so once, by REST
    assert confirmation.body.startswith("You're unsubscribed")
