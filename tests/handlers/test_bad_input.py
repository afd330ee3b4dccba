"""Texts a careful board must survive: odd bodies, odd senders, floods, loops and repeated hints.

Each text goes through the signed webhook; each test checks what the sender gets
back (a clear reply, or deliberately none) and that the text itself was kept.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from conftest import (
    ACCOUNT_SID,
    BOARD_NUMBER,
    Database,
    Phone,
    Runner,
    app_config,
    post_inbound,
    session_of,
    sign,
    twiml_messages,
)
from flask import Flask
from sqlalchemy import func, inspect, select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from sms_board import create_app
from sms_board.app import board_of
from sms_board.inbound import MAX_STORED_BODY
from sms_board.models import (
    Area,
    ConsentEvent,
    InboundMessage,
    InboundStatus,
    Item,
    Outbox,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from sms_board.text.templates import render

ALICE = "+447700900101"
BOB = "+447700900102"
STOP_CONFIRMATION = render("stop_confirm")
FORM = "application/x-www-form-urlencoded"


def sms(body: str | None, number: str | None = ALICE, **extra: str) -> dict[str, str]:
    params = {
        "MessageSid": f"SM{uuid.uuid4().hex}", "AccountSid": ACCOUNT_SID, "To": BOARD_NUMBER,
        "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", **extra,
    }
    if number is not None:
        params["From"] = number
    if body is not None:
        params["Body"] = body
    return params


def last_row(app: Flask) -> InboundMessage:
    with session_of(app) as session:
        row = session.scalar(select(InboundMessage).order_by(InboundMessage.id.desc()).limit(1))
        assert row is not None
        return row


def items(app: Flask) -> list[Item]:
    with session_of(app) as session:
        return list(session.scalars(select(Item).order_by(Item.id)))


def count(app: Flask, model: type) -> int:
    with session_of(app) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def statuses(app: Flask, number: str) -> dict[str, str]:
    """Area slug → subscription status for one number."""
    with session_of(app) as session:
        rows = session.execute(
            select(Area.slug, Subscription.status).join(Subscription.area).join(Subscription.subscriber)
            .where(Subscriber.phone == number)
        ).all()
        return dict(rows)


@pytest.fixture
def alice(phone, areas) -> Phone:  # type: ignore[no-untyped-def]
    """A resident of Elm Street."""
    resident = phone(ALICE)
    assert resident.text("JOIN ELM")[0].startswith("Welcome to Elm Street")
    return resident


# --- odd bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", "   \n\t  ", None], ids=["empty", "whitespace", "no-body-param"])
def test_an_empty_text_is_kept_and_gets_one_hint_on_what_to_do(client, app: Flask, body: str | None) -> None:  # type: ignore[no-untyped-def]
    first = post_inbound(client, sms(body))
    again = post_inbound(client, sms(body))

    assert len(first) == 1
    assert "JOIN" in first[0] and "HELP" in first[0]
    assert again == []
    row = last_row(app)
    assert row.body == (body or "")
    assert row.from_number == ALICE
    assert count(app, InboundMessage) == 2


def test_a_1600_character_text_is_kept_whole(alice: Phone, app: Flask) -> None:
    long_text = ("Has anyone seen the council about the broken street lights on Elm Street? " * 30)[:1600]

    reply = alice.text(long_text)

    assert len(reply) == 1
    row = last_row(app)
    assert row.body == long_text
    assert row.in_inbox


def test_a_1600_character_post_is_published_cut_down_and_says_so(alice: Phone, app: Flask) -> None:
    notice = ("Jumble sale at the church hall on Saturday from ten, all welcome. " * 30)[:1595]

    reply = alice.text("POST " + notice)

    assert len(reply) == 1
    assert reply[0].startswith("Posted as #N")
    assert "cut to 480 characters" in reply[0]
    [item] = items(app)
    assert item.body == notice[:480]
    assert len(last_row(app).body) == 1600


def test_emoji_and_mixed_scripts_are_posted_verbatim(alice: Phone, app: Flask) -> None:
    reply = alice.text("POST Кот 🐈 lost — 猫")

    assert len(reply) == 1
    assert reply[0].startswith("Posted as #N")
    [item] = items(app)
    assert item.body == "Кот 🐈 lost — 猫"
    assert last_row(app).body == "POST Кот 🐈 lost — 猫"


def test_nul_bytes_are_kept_visibly_and_left_out_of_the_post(alice: Phone, app: Flask) -> None:
    reply = alice.text("POST Lost\x00 cat\x00")

    assert len(reply) == 1
    assert reply[0].startswith("Posted as #N")
    row = last_row(app)
    assert "\x00" not in row.body
    assert row.body == "POST Lost\ufffd cat\ufffd"
    [item] = items(app)
    assert item.body == "Lost cat"


def test_nul_bytes_anywhere_in_the_request_do_not_lose_the_text(client, app: Flask) -> None:  # type: ignore[no-untyped-def]
    params = sms("HELP\x00", number=ALICE + "\x00", MessageSid=f"SM{uuid.uuid4().hex[:30]}\x00")
    params["To"] = BOARD_NUMBER + "\x00"
    params["Odd\x00Param"] = "\x00"

    first = post_inbound(client, params)
    retry = post_inbound(client, params)

    assert len(first) == 1
    assert "STOP" in first[0]
    assert retry == first
    assert count(app, InboundMessage) == 1
    row = last_row(app)
    assert row.from_number == ALICE
    assert "\x00" not in json.dumps(row.params)


def signed_form(client, form: bytes) -> list[str]:  # type: ignore[no-untyped-def]
    """Post raw form bytes to the webhook, signed over the parameters as the board itself reads them."""
    environ = EnvironBuilder(method="POST", data=form, content_type=FORM).get_environ()
    params = Request(environ).form.to_dict()
    response = client.post("/sms/inbound", data=form, content_type=FORM, headers={
        "X-Twilio-Signature": sign("https://board.example.org/sms/inbound", params)})
    assert response.status_code == 200, response.data
    return twiml_messages(response.data)


@pytest.mark.parametrize(("argument", "sent"), [
    ("\ud800", b"%ED%A0%80"),  # a lone surrogate
    ("POST Caf\udce9 open", b"POST+Caf%E9+open"),  # a Latin-1 byte the shell passed on undecoded
], ids=["lone-surrogate", "latin-1-byte"])
def test_simulate_keeps_text_that_is_not_utf8_and_answers_as_the_webhook_does(  # type: ignore[no-untyped-def]
        client, app: Flask, runner: Runner, areas, argument: str, sent: bytes) -> None:
    by_cli = runner("simulate", ALICE, argument, "--json")
    stored_by_cli = last_row(app).body

    by_webhook = signed_form(client, b"MessageSid=SM" + uuid.uuid4().hex.encode() + b"&From=%2B447700900102&To="
                             + BOARD_NUMBER.replace("+", "%2B").encode() + b"&Body=" + sent)

    assert json.loads(by_cli.stdout)["replies"] == by_webhook and len(by_webhook) == 1
    assert stored_by_cli == last_row(app).body == sent.replace(b"+", b" ").decode()
    assert count(app, InboundMessage) == 2


def test_sql_looking_text_is_posted_verbatim_and_harms_nothing(alice: Phone, app: Flask, db: Database) -> None:
    reply = alice.text("POST '); DROP TABLE items;--")

    assert reply[0].startswith("Posted as #N")
    [item] = items(app)
    assert item.body == "'); DROP TABLE items;--"
    assert {"items", "inbound_messages", "subscribers"} <= set(inspect(db.engine).get_table_names())


def test_sql_looking_area_name_joins_nothing(phone, app: Flask, areas) -> None:  # type: ignore[no-untyped-def]
    reply = phone(BOB).text("JOIN ' OR '1'='1")

    assert len(reply) == 1
    assert "JOIN ELM" in reply[0]
    assert statuses(app, BOB) == {}


def test_markup_in_a_text_is_escaped_in_the_twiml_reply(phone, areas) -> None:  # type: ignore[no-untyped-def]
    # post_inbound parses the reply as XML: unescaped markup would fail here.
    reply = phone(BOB).text('JOIN <Elm> & "Oak"')

    assert len(reply) == 1
    assert '<Elm> & "Oak"' in reply[0]


# --- odd senders -----------------------------------------------------------------------------


def test_a_text_without_a_sender_is_kept_and_not_answered(client, app: Flask) -> None:  # type: ignore[no-untyped-def]
    assert post_inbound(client, sms("HELP", number=None)) == []

    row = last_row(app)
    assert row.body == "HELP"
    assert row.status == InboundStatus.IGNORED.value
    assert count(app, Subscriber) == 0


def test_a_text_without_a_message_sid_is_kept_under_a_new_sid_and_answered(client, app: Flask) -> None:  # type: ignore[no-untyped-def]
    params = sms("HELP")
    del params["MessageSid"]

    reply = post_inbound(client, params)

    assert len(reply) == 1
    assert "JOIN" in reply[0]
    row = last_row(app)
    assert row.message_sid.startswith("SM")
    assert row.status == InboundStatus.HANDLED.value


@pytest.mark.parametrize("sender", [
    "BOARDCO",  # alphanumeric sender ID
    "Vodafone",
    "+44 12",  # too short to be a number
    "not a number",
    "999",
    "80800",  # UK short code, as Twilio passes it
    "+4480800",  # the same short code with a country code
    "61234",
])
def test_a_sender_that_is_not_a_phone_number_is_kept_and_never_answered(client, app: Flask, sender: str) -> None:  # type: ignore[no-untyped-def]
    assert post_inbound(client, sms("HELP", number=sender)) == []
    assert post_inbound(client, sms("STOP", number=sender)) == []

    row = last_row(app)
    assert row.from_number == sender
    assert row.status == InboundStatus.IGNORED.value
    assert count(app, Subscriber) == 0
    assert count(app, Outbox) == 0


@pytest.mark.parametrize("to", [BOARD_NUMBER, "+447700900999"], ids=["configured-number", "number-texted"])
def test_a_text_from_the_boards_own_number_is_not_answered(client, app: Flask, to: str) -> None:  # type: ignore[no-untyped-def]
    assert post_inbound(client, sms("HELP", number=to, To=to)) == []

    row = last_row(app)
    assert row.status == InboundStatus.IGNORED.value
    assert row.body == "HELP"


# --- areas and STOP -----------------------------------------------------------------------------


def test_joining_an_unknown_area_lists_the_areas(phone, app: Flask, areas) -> None:  # type: ignore[no-untyped-def]
    reply = phone(BOB).text("JOIN ATLANTIS")

    assert len(reply) == 1
    assert "ATLANTIS" in reply[0]
    for slug in ("ELM", "OAK", "RIVER"):
        assert f"JOIN {slug}" in reply[0]
    assert statuses(app, BOB) == {}
    assert last_row(app).body == "JOIN ATLANTIS"


def test_stop_ends_every_area_and_start_restores_them_all(alice: Phone, app: Flask, runner: Runner) -> None:
    assert alice.text("JOIN OAK")[0].startswith("Welcome to Oak Road")

    assert alice.text("STOP") == [STOP_CONFIRMATION]

    assert statuses(app, ALICE) == {"elm": "stopped", "oak": "stopped"}
    listed = {a["slug"]: a["subscribers"] for a in json.loads(runner("area", "list", "--json").stdout)}
    assert listed == {"elm": 0, "oak": 0, "river": 0}

    reply = alice.text("START")

    assert len(reply) == 1
    assert "Elm Street" in reply[0] and "Oak Road" in reply[0]
    assert statuses(app, ALICE) == {"elm": "active", "oak": "active"}
    listed = {a["slug"]: a["subscribers"] for a in json.loads(runner("area", "list", "--json").stdout)}
    assert listed == {"elm": 1, "oak": 1, "river": 0}
    with session_of(app) as session:
        actions = list(session.scalars(select(ConsentEvent.action).order_by(ConsentEvent.id)))
    assert actions == ["subscribe", "subscribe", "opt_out", "opt_in"]


def test_start_does_not_bring_back_an_area_left_before_stop(alice: Phone, app: Flask) -> None:
    alice.text("JOIN OAK")
    alice.text("LEAVE OAK")
    alice.text("STOP")

    alice.text("START")

    assert statuses(app, ALICE) == {"elm": SubscriptionStatus.ACTIVE.value, "oak": SubscriptionStatus.LEFT.value}


# --- floods, loops and hints ---------------------------------------------------------------------


def test_a_flood_is_held_for_an_organiser_without_replies(db: Database, tmp_path: Path) -> None:
    app = create_app(app_config(db, tmp_path, SMS_BOARD_MAX_REPLIES_PER_HOUR="100"))
    flooder = Phone(app.test_client(), ALICE)

    answered = [flooder.text(f"HELP {n}") for n in range(1, 21)]
    held = [flooder.text(f"HELP {n}") for n in range(21, 23)]

    assert all(len(reply) == 1 for reply in answered)
    assert held == [[], []]
    row = last_row(app)
    assert row.body == "HELP 22"
    assert row.status == InboundStatus.HELD.value
    assert row.in_inbox
    assert count(app, InboundMessage) == 22

    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=6)):
        assert len(flooder.text("HELP")) == 1


@pytest.mark.parametrize(("body", "extra"), [("STOP", {}), ("stop texting me", {}), ("ARRET", {"OptOutType": "STOP"})],
                         ids=["STOP", "stop-texting-me", "OptOutType"])
def test_stop_in_the_middle_of_a_flood_still_opts_out(  # type: ignore[no-untyped-def]
    db: Database, tmp_path: Path, areas, body: str, extra: dict[str, str]
) -> None:
    app = create_app(app_config(db, tmp_path, SMS_BOARD_MAX_REPLIES_PER_HOUR="100"))
    flooder = Phone(app.test_client(), ALICE)
    flooder.text("JOIN ELM")
    for n in range(21):
        flooder.text(f"HELP {n}")
    assert last_row(app).status == InboundStatus.HELD.value

    assert flooder.text(body, **extra) == [STOP_CONFIRMATION]

    assert statuses(app, ALICE) == {"elm": SubscriptionStatus.STOPPED.value}
    assert flooder.text("HELP") == []


def test_a_flood_from_one_number_does_not_silence_another(db: Database, tmp_path: Path) -> None:
    app = create_app(app_config(db, tmp_path, SMS_BOARD_MAX_REPLIES_PER_HOUR="100"))
    client = app.test_client()
    flooder, neighbour = Phone(client, ALICE), Phone(client, BOB)
    for n in range(22):
        flooder.text(f"HELP {n}")

    assert len(neighbour.text("HELP")) == 1


def test_loop_protection_withholds_replies_but_not_the_stop_confirmation(db: Database, tmp_path: Path) -> None:
    app = create_app(app_config(db, tmp_path, SMS_BOARD_MAX_REPLIES_PER_HOUR="3"))
    autoresponder = Phone(app.test_client(), ALICE)

    assert [len(autoresponder.text("HELP")) for _ in range(3)] == [1, 1, 1]
    assert autoresponder.text("HELP") == []
    withheld = last_row(app)
    assert withheld.status == InboundStatus.HANDLED.value
    assert withheld.replies == []
    assert "loop protection" in (withheld.error or "")

    assert autoresponder.text("STOP") == [STOP_CONFIRMATION]

    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=61)):
        reply = autoresponder.text("START")
    assert len(reply) == 1 and reply[0].startswith("Welcome back!")


def test_the_inbox_hint_comes_once_a_day_per_number(alice: Phone, phone, app: Flask) -> None:  # type: ignore[no-untyped-def]
    first = alice.text("Is the library open on Sunday?")
    second = alice.text("Anyone know?")
    bob_first = phone(BOB).text("Hello, who is this?")

    assert len(first) == 1 and "organiser will see" in first[0]
    assert second == []
    assert len(bob_first) == 1
    assert last_row(app).in_inbox

    with time_machine.travel(datetime.now(UTC) + timedelta(days=1, minutes=1)):
        next_day = alice.text("Still wondering about the library")

    assert next_day == first
    with session_of(app) as session:
        kept = session.scalar(
            select(func.count()).select_from(InboundMessage).where(
                InboundMessage.from_number == ALICE, InboundMessage.in_inbox.is_(True)
            )
        )
    assert kept == 3


def test_a_body_longer_than_the_storage_limit_is_kept_up_to_the_limit(client, app: Flask) -> None:  # type: ignore[no-untyped-def]
    reply = post_inbound(client, sms("x" * (MAX_STORED_BODY + 500)))

    assert len(reply) == 1
    assert last_row(app).body == "x" * MAX_STORED_BODY


def test_raw_texts_are_forgotten_after_the_retention_period(areas, phone, app, inbound_rows):
    from datetime import UTC, datetime, timedelta

    import time_machine

    from sms_board.clock.jobs import run_due_jobs
    from sms_board.plumbing.utc import utcnow

    sam = phone("+447700900123")
    with time_machine.travel(datetime(2026, 1, 5, 12, tzinfo=UTC), tick=False) as clock:
        sam.text("JOIN ELM")
        clock.shift(timedelta(days=300))
        sam.text("hello, it's Sam from number 12")
        clock.shift(timedelta(days=66))
        counts = run_due_jobs(board_of(app).sessions, board_of(app).settings, utcnow())
    old, recent = inbound_rows()
    assert counts["inbound_retention"] == 1
    assert (old.body, old.params, old.replies, old.handler) == ("", {}, [], "join")
    assert recent.body == "hello, it's Sam from number 12" and recent.params["From"] == "+447700900123"
