"""`POST /sms/status`: Twilio's delivery callbacks, signed with the real RequestValidator."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest
from conftest import ACCOUNT_SID, BOARD_NUMBER, session_of, sign
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from sms_board.app import board_of
from sms_board.models import Outbox, OutboxKind, OutboxStatus, Subscriber
from sms_board.plumbing.utc import utcnow
from sms_board.sending.delivery import claim
from sms_board.sending.outcomes import record_result
from sms_board.sending.sender import drain
from sms_board.sending.transport import AmbiguousError

ALICE = "+447700900201"
PUBLIC = "https://board.example.org"


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


def add_text(app: Flask, status: OutboxStatus = OutboxStatus.SENT, sid: str | None = None, number: str = ALICE) -> int:
    with session_of(app) as session:
        person = session.scalar(select(Subscriber).where(Subscriber.phone == number)) or Subscriber(phone=number)
        session.add(person)
        session.flush()
        row = Outbox(
            to_number=number, subscriber_id=person.id, body="Street party Saturday", kind=OutboxKind.NOTIFY.value,
            status=status.value, segments=1, encoding="GSM-7", attempts=1, provider_sid=sid,
            sent_at=utcnow() if sid else None, updated_at=utcnow(),
        )
        session.add(row)
        session.commit()
        return row.id


def row(app: Flask, row_id: int) -> Outbox:
    with session_of(app) as session:
        found = session.get(Outbox, row_id)
        assert found is not None
        return found


def report(client: FlaskClient, outbox_id: int | str | None, sid: str, status: str, error_code: str | None = None,
           path: str | None = None) -> int:
    """Post a callback the way Twilio does, signed for the URL it calls."""
    path = path or ("/sms/status" + (f"?outbox_id={outbox_id}" if outbox_id is not None else ""))
    params = {
        "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "From": BOARD_NUMBER, "To": ALICE,
        "MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
    }
    if error_code:
        params["ErrorCode"] = error_code
    response = client.post(path, data=params, headers={"X-Twilio-Signature": sign(PUBLIC + path, params)})
    return response.status_code


def test_sent_then_delivered_is_recorded_for_a_real_send(app, client, fake_twilio):
    row_id = add_text(app, OutboxStatus.QUEUED)
    settings = board_of(app).settings
    drain(board_of(app).sessions, fake_twilio.transport(settings), settings)
    [seen] = fake_twilio.requests
    path = seen.status_callback.removeprefix(PUBLIC)

    assert report(client, None, seen.sid, "sent", path=path) == 200
    assert report(client, None, seen.sid, "delivered", path=path) == 200

    delivered = row(app, row_id)
    assert (delivered.status, delivered.provider_sid) == ("delivered", seen.sid)
    assert delivered.delivered_at is not None and delivered.status_updated_at is not None


@pytest.mark.parametrize("late", ["sent", "queued", "sending", "accepted", "undelivered", "failed"])
def test_a_late_callback_never_undoes_delivered(app, client, late):
    sid = new_sid()
    row_id = add_text(app, sid=sid)

    assert report(client, row_id, sid, "delivered") == 200
    assert report(client, row_id, sid, late, error_code="30003" if late in {"undelivered", "failed"} else None) == 200

    assert row(app, row_id).status == "delivered"
    assert row(app, row_id).error_code is None


def test_twilio_queued_never_puts_the_text_back_in_our_queue(app, client):
    sid = new_sid()
    row_id = add_text(app, sid=sid)

    report(client, row_id, sid, "queued")

    assert row(app, row_id).status == "sent"


def test_out_of_order_callbacks_end_at_the_strongest_status(app, client):
    sid = new_sid()
    row_id = add_text(app, sid=sid)

    for status in ["undelivered", "sent", "queued", "delivered", "sent"]:
        assert report(client, row_id, sid, status, error_code="30005" if status == "undelivered" else None) == 200

    assert (row(app, row_id).status, row(app, row_id).error_code) == ("delivered", None)


@pytest.mark.parametrize("code", ["30007", "30003"])
def test_undelivered_keeps_the_carriers_error_code_and_the_subscriber(app, client, code):
    sid = new_sid()
    row_id = add_text(app, sid=sid)

    assert report(client, row_id, sid, "undelivered", error_code=code) == 200
    assert report(client, row_id, sid, "undelivered", error_code=code) == 200  # Twilio repeats itself

    undelivered = row(app, row_id)
    assert (undelivered.status, undelivered.error_code) == ("undelivered", code)
    with session_of(app) as session:
        person = session.scalar(select(Subscriber).where(Subscriber.phone == ALICE))
        assert person.opted_out_at is None and person.undeliverable_at is None


def test_failed_with_21610_opts_the_number_out_and_cancels_what_waits(app, client):
    sid = new_sid()
    row_id = add_text(app, sid=sid)
    waiting = add_text(app, OutboxStatus.QUEUED)

    assert report(client, row_id, sid, "failed", error_code="21610") == 200

    assert (row(app, row_id).status, row(app, row_id).error_code) == ("failed", "21610")
    assert row(app, waiting).status == "cancelled"
    with session_of(app) as session:
        assert session.scalar(select(Subscriber).where(Subscriber.phone == ALICE)).opted_out_at is not None


def test_an_unknown_outbox_id_answers_200_and_is_logged(app, client, caplog):
    caplog.set_level(logging.WARNING, logger="sms_board.sending.outcomes")

    assert report(client, 999999, new_sid(), "delivered") == 200
    assert report(client, "not-a-number", new_sid(), "delivered") == 200

    assert "unknown text (outbox=999999" in caplog.text


def test_a_callback_whose_sid_belongs_to_another_text_changes_nothing(app, client):
    sid = new_sid()
    row_id = add_text(app, sid=sid)
    other = add_text(app, sid=new_sid())

    assert report(client, other, sid, "failed", error_code="30008") == 200
    assert report(client, row_id, new_sid(), "failed", error_code="30008") == 200

    assert (row(app, row_id).status, row(app, other).status) == ("sent", "sent")


def test_a_callback_without_the_outbox_id_is_matched_by_sid(app, client):
    sid = new_sid()
    row_id = add_text(app, sid=sid)

    assert report(client, None, sid, "delivered") == 200

    assert row(app, row_id).status == "delivered"


def test_a_callback_with_a_bad_signature_is_refused(app, client):
    sid = new_sid()
    row_id = add_text(app, sid=sid)
    params = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "21610"}

    url = f"{PUBLIC}/sms/status?outbox_id={row_id}"

    forged = client.post(url, data=params, headers={"X-Twilio-Signature": sign(url, params, token="guessed")})
    unsigned = client.post(url, data=params)

    assert (forged.status_code, unsigned.status_code) == (403, 403)
    assert row(app, row_id).status == "sent"
    # A short plain-text reason for whoever reads Twilio's debugger, not the dashboard's HTML page.
    assert (forged.mimetype, unsigned.mimetype) == ("text/plain", "text/plain")
    assert f"checked against {url} (SMS_BOARD_PUBLIC_URL)" in forged.get_data(as_text=True)
    assert "no X-Twilio-Signature" in unsigned.get_data(as_text=True)
    assert "Administrators only" not in forged.get_data(as_text=True) + unsigned.get_data(as_text=True)


def test_a_signed_callback_replayed_for_another_text_or_to_the_other_webhook_is_refused(app, client):
    """The signature covers the URL: one text's callback cannot be pointed at another text, nor at /sms/inbound."""
    sid = new_sid()
    mine, other = add_text(app, sid=sid), add_text(app, sid=new_sid())
    params = {"AccountSid": ACCOUNT_SID, "MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "21610"}
    signature = {"X-Twilio-Signature": sign(f"{PUBLIC}/sms/status?outbox_id={mine}", params)}

    elsewhere = client.post(f"/sms/status?outbox_id={other}", data=params, headers=signature)
    without_id = client.post("/sms/status", data=params, headers=signature)
    to_inbound = client.post(f"/sms/inbound?outbox_id={mine}", data=params, headers=signature)

    assert (elsewhere.status_code, without_id.status_code, to_inbound.status_code) == (403, 403, 403)
    assert row(app, mine).status == row(app, other).status == "sent"
    with session_of(app) as session:
        assert session.scalar(select(Subscriber.opted_out_at).where(Subscriber.phone == ALICE)) is None


@pytest.mark.parametrize("signed", [True, False])
def test_a_callback_over_64_kb_is_refused_before_it_is_read(app, client, signed):
    row_id = add_text(app, sid=new_sid())
    url = f"{PUBLIC}/sms/status?outbox_id={row_id}"
    params = {"MessageSid": new_sid(), "MessageStatus": "failed", "ErrorCode": "21610", "Padding": "x" * 70_000}
    headers = {"X-Twilio-Signature": sign(url, params) if signed else "forged"}

    assert client.post(url, data=params, headers=headers).status_code == 413
    assert row(app, row_id).status == "sent"


def test_a_callback_settles_an_ambiguous_send(app, client):
    row_id = add_text(app, OutboxStatus.UNKNOWN)
    sid = new_sid()

    report(client, row_id, sid, "delivered")

    settled = row(app, row_id)
    assert (settled.status, settled.provider_sid) == ("delivered", sid)


def test_a_callback_that_beats_the_sender_is_not_overwritten(app, client):
    """Twilio can call back before the sender has committed what its own HTTP call returned."""
    first, second = add_text(app, OutboxStatus.QUEUED), add_text(app, OutboxStatus.QUEUED)
    factory = board_of(app).sessions
    with factory.begin() as session:
        claim(session, utcnow(), limit=2)
    sid_first, sid_second = new_sid(), new_sid()

    report(client, first, sid_first, "delivered")
    report(client, second, sid_second, "sent")
    with factory.begin() as session:
        record_result(session, first, sid_first, utcnow())
        record_result(session, second, AmbiguousError("read timeout"), utcnow() + timedelta(seconds=1))

    assert (row(app, first).status, row(app, first).provider_sid) == ("delivered", sid_first)
    assert (row(app, second).status, row(app, second).provider_sid) == ("sent", sid_second)
