"""A trusted helper's copies of what reaches the resident outside a text's handling: an organiser's broadcast,
the clock's reminder and expiry of her request, an organiser's reply from the inbox, a digest in the
helper's own language; and a carrier opt-out of the helper (Twilio 21610) ends his helping as his STOP
would (docs/helpers.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select, update

from sms_board import create_app
from sms_board.app import board_of
from sms_board.broadcast.broadcasts import create_broadcast, fan_out_broadcast, preview_broadcast
from sms_board.clock.jobs import run_due_jobs, tick
from sms_board.community.trusted_helpers import on_opt_out
from sms_board.models import Area, Campaign, CampaignStatus, InboundMessage, Outbox, TrustedHelper
from sms_board.plumbing.utc import utcnow
from sms_board.sending.sender import drain
from tests.conftest import ACCOUNT_SID, BOARD_NUMBER, Phone, Runner, app_config, session_of, sign
from tests.helpers.test_acting_for_a_resident import PRIYA, ROSE, SAM, neighbours, ref_in
from tests.support.fake_twilio import TwilioError
from tests.support.sender_clock import FakeClock
from tests.support.web import sign_in, submit

RUTH = "+447700900001"
WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def welsh_board(db, tmp_path) -> Flask:  # type: ignore[no-untyped-def]
    """English and Welsh; Rose (English) on Elm Street, her helper Sam (Welsh) on Oak Road, Priya on Elm."""
    app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="en,cy"))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("area", "add", "oak", "Oak Road", "--postcode", "SE6 3")
    client = app.test_client()
    rose, sam, priya = Phone(client, ROSE), Phone(client, SAM), Phone(client, PRIYA)
    rose.text("JOIN ELM")
    rose.text("NAME Rose")
    sam.text("YMUNO OAK")
    priya.text("JOIN ELM")
    rose.text("HELPER 07700 900222")
    sam.text("OK " + re.search(r"\b(H\d+)\b", rose.text("MY")[0]).group(1))  # type: ignore[union-attr]
    return app


def copies_to(app: Flask, number: str) -> list[Outbox]:
    with session_of(app) as session:
        return list(session.scalars(select(Outbox).where(Outbox.to_number == number, Outbox.kind == "copy")
                                    .order_by(Outbox.id)))


def test_a_broadcast_to_elm_reaches_roses_helper_once_in_his_language_until_helper_off(welsh_board):
    app = welsh_board
    factory, settings = board_of(app).sessions, board_of(app).settings
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2), tick=False):
        with session_of(app) as session:
            elm = session.scalar(select(Area).where(Area.slug == "elm"))
            preview = preview_broadcast(session, settings, [elm], {"en": "Bins on Friday", "cy": "Biniau ddydd Gwener"},
                                        urgent=False)
            campaign_id = create_broadcast(session, preview, urgent=False, now=utcnow(), confirmed=True).id
            session.commit()
        tick(factory, settings, utcnow())

        [own] = [row for row in Phone(app.test_client(), ROSE).received() if row.kind == "broadcast"]
        assert "Bins on Friday" in own.body
        [copy] = copies_to(app, SAM)
        assert copy.body.startswith("Ar ran Rose: ") and "Biniau ddydd Gwener" in copy.body
        assert "Bins on Friday" not in copy.body and copy.campaign_id == campaign_id
        assert copies_to(app, PRIYA) == []  # Priya helps nobody: her own broadcast, no copy

        with session_of(app) as session:  # a fan-out resumed writes no copy twice
            session.execute(update(Campaign).values(status=CampaignStatus.FANNING_OUT.value))
            session.commit()
        assert fan_out_broadcast(factory, settings, campaign_id, utcnow()).texts == 0
        assert len(copies_to(app, SAM)) == 1

        Phone(app.test_client(), ROSE).text("HELPER OFF")  # the copy not yet sent never goes
        assert [row.status for row in copies_to(app, SAM)] == ["cancelled"]


def test_a_digest_copy_is_in_the_helpers_language(welsh_board):
    app = welsh_board
    Phone(app.test_client(), PRIYA).text("POST Jumble sale at the church hall on Saturday")
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2), tick=False):
        Runner(app)("digest")
    [digest] = [row for row in Phone(app.test_client(), ROSE).received() if row.kind == "digest"]
    [copy] = copies_to(app, SAM)
    assert copy.body.startswith("Ar ran Rose: ") and "Jumble sale" in copy.body
    welsh = copy.body.removeprefix("Ar ran Rose: ")
    assert welsh != digest.body and digest.body.split("\n")[0] not in welsh  # the heading is Welsh, not hers


def test_a_long_digest_copy_pages_in_the_helpers_language_and_for_rose_more_leaves_her_own_place(welsh_board):
    app = welsh_board
    rose, sam, priya = (Phone(app.test_client(), number) for number in (ROSE, SAM, PRIYA))
    for what in ("Jumble sale", "Plant swap", "Litter pick", "Book club", "Carol singing", "Quiz night"):
        priya.text(f"POST {what} at the church hall on Saturday from ten until four, all welcome, bring a friend, "
                   "a cake or a plate of sandwiches, and a chair if you have a spare one")
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2), tick=False):
        Runner(app)("digest")
        [digest] = [row for row in rose.received() if row.kind == "digest"]
        [copy] = copies_to(app, SAM)
        assert re.search(r"\+\d+ more: text MORE", digest.body)
        # His first page, in Welsh, says how he reads on for her: never her "text MORE" (that pages his own).
        assert copy.body.startswith("Ar ran Rose: Newyddion Elm Street:")
        assert re.search(r"\n\+\d+ arall: tecstiwch FOR Rose MWY$", copy.body), copy.body
        assert "tecstiwch MWY" not in copy.body

        [second] = sam.text("FOR ROSE MORE")  # the next page of the same run's digest, in Welsh
        assert second.startswith("Ar ran Rose: Elm Street, rhagor:"), second
        [own] = rose.text("MORE")  # her own place is hers: her page 2, in English
        assert own.startswith("Elm Street, more:") and "rhagor" not in own
        [third] = sam.text("FOR ROSE MORE")  # and his is his: on from his page 2, not hers
        assert third.startswith("Ar ran Rose: Elm Street, rhagor:") and third != second
    read = "\n".join([copy.body, second, third])
    assert [read.count(what) for what in ("Jumble sale", "Plant swap")] == [1, 1]


def test_a_requests_reminder_and_expiry_and_an_organisers_reply_reach_the_helper(areas, phone, app, runner, client):
    runner("organiser", "add", RUTH, "elm")
    phone(RUTH).text("JOIN ELM")
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as clock:
        people = neighbours(phone)
        rose, sam = people["rose"], people["sam"]
        ref = ref_in(rose.text("NEED help with the shopping")[0])
        clock.shift(timedelta(days=7, hours=1))
        run_due_jobs(board_of(app).sessions, board_of(app).settings, utcnow())
        [reminder] = [row for row in sam.received() if "still need help" in row.body]
        assert reminder.body.startswith("For Rose: ") and ref in reminder.body
        clock.shift(timedelta(days=15))
        run_due_jobs(board_of(app).sessions, board_of(app).settings, utcnow())
        assert any(row.body.startswith("For Rose: ") and "taken down" in row.body for row in sam.received())

    rose.text("is the bin day changing")
    with session_of(app) as session:
        inbound_id = session.scalar(select(InboundMessage.id).where(InboundMessage.body == "is the bin day changing"))
    sign_in(client, RUTH)
    submit(client, "/dashboard/inbox", f"/dashboard/inbox/{inbound_id}/reply", {"text": "Yes, Wednesday."})
    assert sam.received()[-1].body == "For Rose: Yes, Wednesday.\n- Elm Street organisers"
    assert rose.received()[-1].body == "Yes, Wednesday.\n- Elm Street organisers"

    with session_of(app) as session:  # Elm Street now holds every post for an organiser
        session.execute(update(Area).where(Area.slug == "elm").values(moderation="all"))
        session.commit()
    held = ref_in(rose.text("POST Free piano, you collect")[0])
    decided = submit(client, "/dashboard/moderation", f"/dashboard/moderation/{held[1:]}",
                     {"decision": "reject", "reason": "selling is not allowed here"})
    assert decided.status_code == 302
    told = rose.received()[-1].body
    assert "selling is not allowed here" in told and sam.received()[-1].body == f"For Rose: {told}"


def test_a_carrier_opt_out_of_the_helper_ends_his_helping_and_rose_is_told(areas, phone, app, client):
    people = neighbours(phone)
    rose, sam, priya = people["rose"], people["sam"], people["priya"]
    ref = ref_in(rose.text("NEED help with the shopping")[0])
    priya.text(f"CAN {ref}")  # Sam gets a copy of the offer's notice
    [copy] = [row for row in sam.received() if row.body.startswith("For Rose: ")]

    # Twilio's callback, signed for the URL it calls: the carrier says Sam opted out.
    path, sid = f"/sms/status?outbox_id={copy.id}", "SM" + "1" * 32
    params = {"AccountSid": ACCOUNT_SID, "From": BOARD_NUMBER, "To": SAM, "MessageSid": sid, "SmsSid": sid,
              "MessageStatus": "undelivered", "SmsStatus": "undelivered", "ErrorCode": "21610"}
    signature = sign(board_of(app).settings.public_url + path, params)
    assert client.post(path, data=params, headers={"X-Twilio-Signature": signature}).status_code == 200

    with session_of(app) as session:
        [row] = session.scalars(select(TrustedHelper)).all()
        assert (row.status, row.ended_by) == ("ended", "STOP (carrier)")
    assert rose.received()[-1].body.startswith("Sam is no longer your helper")
    before = len(sam.received())
    second = ref_in(rose.text("NEED a lift to the GP")[0])
    priya.text(f"CAN {second}")  # Rose is told; Sam, no longer her helper (and opted out), gets nothing
    assert "For Rose" not in rose.received()[-1].body and len(sam.received()) == before


def test_twilio_refusing_a_text_to_the_helper_as_opted_out_ends_his_helping_too(areas, phone, app, fake_twilio):
    """The sender's own 21610 (Twilio refuses the send), as the `send` command hands it the helpers' rule."""
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        people = neighbours(phone)
        rose, priya = people["rose"], people["priya"]
        priya.text(f"CAN {ref_in(rose.text('NEED help with the shopping')[0])}")  # a copy waits for Sam
        fake_twilio.for_number(SAM, TwilioError(21610, message="Attempt to send to unsubscribed recipient"))
        settings, clock = board_of(app).settings, FakeClock()
        drain(board_of(app).sessions, fake_twilio.transport(settings, timeout=0.5), settings, now=clock.now,
              sleep=clock.sleep, on_opt_out=on_opt_out(settings))

    with session_of(app) as session:
        [row] = session.scalars(select(TrustedHelper)).all()
        assert (row.status, row.ended_by) == ("ended", "STOP (carrier)")
    assert rose.received()[-1].body.startswith("Sam is no longer your helper")
