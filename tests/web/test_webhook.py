"""The Twilio webhook as Twilio and residents see it: signatures, retries, crashes and opting out.

Every request goes through `POST /sms/inbound` signed by the twilio library's own
`RequestValidator`, exactly as Twilio signs it.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    BOARD_NUMBER,
    Database,
    Phone,
    app_config,
    session_of,
    sign,
    twiml_messages,
)
from flask import Flask
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from sms_board import create_app
from sms_board.app import board_of
from sms_board.handlers.router import KEYWORDS, Context, Keyword
from sms_board.inbound import InboundResult, receive
from sms_board.models import (
    ConsentEvent,
    InboundMessage,
    InboundStatus,
    Item,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from sms_board.text.templates import render

PUBLIC_URL = "https://board.example.org/sms/inbound"
ALICE = "+447700900101"
BOB = "+447700900102"

# Twilio's published known-answer case for request signatures.
KNOWN_TOKEN = "12345"
KNOWN_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
KNOWN_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
KNOWN_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="

STOP_CONFIRMATION = render("stop_confirm")


def sms(body: str, number: str = ALICE, **extra: str) -> dict[str, str]:
    """The form Twilio posts for one inbound text."""
    return {
        "MessageSid": f"SM{uuid.uuid4().hex}", "AccountSid": ACCOUNT_SID, "From": number, "To": BOARD_NUMBER,
        "Body": body, "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", **extra,
    }


def count(app: Flask, model: type) -> int:
    with session_of(app) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def subscriber(app: Flask, number: str) -> Subscriber | None:
    with session_of(app) as session:
        return session.scalar(select(Subscriber).where(Subscriber.phone == number))


def subscription_statuses(app: Flask, number: str) -> list[str]:
    with session_of(app) as session:
        return list(
            session.scalars(
                select(Subscription.status).join(Subscriber).where(Subscriber.phone == number).order_by(Subscription.id)
            )
        )


@pytest.fixture
def alice(phone, areas) -> Phone:  # type: ignore[no-untyped-def]
    """A resident of Elm Street."""
    resident = phone(ALICE)
    assert resident.text("JOIN ELM")[0].startswith("Welcome to Elm Street")
    return resident


# --- signatures ---------------------------------------------------------------------------


def test_it_computes_twilios_published_signature() -> None:
    validator = RequestValidator(KNOWN_TOKEN)
    assert validator.compute_signature(KNOWN_URL, KNOWN_PARAMS) == KNOWN_SIGNATURE
    assert validator.validate(KNOWN_URL, KNOWN_PARAMS, KNOWN_SIGNATURE)


def test_it_accepts_a_request_signed_for_the_public_url_behind_a_proxy(db: Database, tmp_path: Path) -> None:
    app = create_app(app_config(db, tmp_path, TWILIO_AUTH_TOKEN=KNOWN_TOKEN, SMS_BOARD_PUBLIC_URL="https://mycompany.com"))
    signature = sign("https://mycompany.com/sms/inbound?foo=1&bar=2", KNOWN_PARAMS, token=KNOWN_TOKEN)

    # The test client calls http://localhost/…, as a proxy in front of the app would.
    response = app.test_client().post("/sms/inbound?foo=1&bar=2", data=KNOWN_PARAMS,
                                      headers={"X-Twilio-Signature": signature})

    assert response.status_code == 200
    assert count(app, InboundMessage) == 1


def test_it_rejects_a_request_signed_for_the_internal_url_when_a_public_url_is_set(
    db: Database, tmp_path: Path
) -> None:
    app = create_app(app_config(db, tmp_path, TWILIO_AUTH_TOKEN=KNOWN_TOKEN, SMS_BOARD_PUBLIC_URL="https://mycompany.com"))
    signature = sign("http://localhost/sms/inbound?foo=1&bar=2", KNOWN_PARAMS, token=KNOWN_TOKEN)

    response = app.test_client().post("/sms/inbound?foo=1&bar=2", data=KNOWN_PARAMS,
                                      headers={"X-Twilio-Signature": signature})

    assert response.status_code == 403
    assert count(app, InboundMessage) == 0


def test_it_checks_the_request_url_when_no_public_url_is_set(db: Database, tmp_path: Path) -> None:
    app = create_app(app_config(db, tmp_path, TWILIO_AUTH_TOKEN=KNOWN_TOKEN, SMS_BOARD_PUBLIC_URL=None))
    client = app.test_client()

    for_public = sign("https://mycompany.com/sms/inbound?foo=1&bar=2", KNOWN_PARAMS, token=KNOWN_TOKEN)
    refused = client.post("/sms/inbound?foo=1&bar=2", data=KNOWN_PARAMS, headers={"X-Twilio-Signature": for_public})
    for_request = sign("http://localhost/sms/inbound?foo=1&bar=2", KNOWN_PARAMS, token=KNOWN_TOKEN)
    accepted = client.post("/sms/inbound?foo=1&bar=2", data=KNOWN_PARAMS, headers={"X-Twilio-Signature": for_request})

    assert refused.status_code == 403
    assert accepted.status_code == 200
    assert count(app, InboundMessage) == 1


def _missing(params: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    return params, {}


def _forged(params: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    return params, {"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="}


def _wrong_token(params: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    return params, {"X-Twilio-Signature": sign(PUBLIC_URL, params, token="not-the-board-token")}


def _tampered_body(params: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    signature = sign(PUBLIC_URL, params)
    return {**params, "Body": "POST Free money at bit.ly/x"}, {"X-Twilio-Signature": signature}


def _added_param(params: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    signature = sign(PUBLIC_URL, params)
    return {**params, "OptOutType": "STOP"}, {"X-Twilio-Signature": signature}


@pytest.mark.parametrize("attack", [_missing, _forged, _wrong_token, _tampered_body, _added_param],
                         ids=["missing", "forged", "wrong-token", "tampered-body", "added-param"])
def test_it_refuses_a_request_without_a_good_signature_and_stores_nothing(client, attack) -> None:  # type: ignore[no-untyped-def]
    params, headers = attack(sms("POST Lost cat"))

    response = client.post("/sms/inbound", data=params, headers=headers)

    assert response.status_code == 403
    assert count(client.application, InboundMessage) == 0
    assert count(client.application, Subscriber) == 0


def refusal(response) -> str:  # type: ignore[no-untyped-def]
    """The 403 as someone debugging the Twilio console reads it: one short plain-text reason."""
    assert response.status_code == 403
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "<" not in text and "Administrators only" not in text and len(text) < 400, text
    return text


def test_the_refusal_says_the_signature_is_missing(client) -> None:  # type: ignore[no-untyped-def]
    text = refusal(client.post("/sms/inbound", data=sms("POST Lost cat")))
    assert "no X-Twilio-Signature" in text


def test_the_refusal_says_which_url_the_signature_was_checked_against(client) -> None:  # type: ignore[no-untyped-def]
    params = sms("POST Lost cat")
    wrong = sign("https://board.example.org/other", params)
    text = refusal(client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": wrong}))
    assert "does not match" in text and f"{PUBLIC_URL} (SMS_BOARD_PUBLIC_URL)" in text
    # Nothing that would help forge one: neither the token nor the signature the board expected.
    assert AUTH_TOKEN not in text and sign(PUBLIC_URL, params) not in text


def test_without_a_public_url_the_refusal_names_the_request_url_and_the_setting(db: Database, tmp_path: Path) -> None:
    app = create_app(app_config(db, tmp_path, SMS_BOARD_PUBLIC_URL=None))
    params = sms("POST Lost cat")
    signed_for_public = sign(PUBLIC_URL, params)  # what Twilio signs when the board sits behind a proxy
    text = refusal(app.test_client().post("/sms/inbound?via=proxy", data=params,
                                          headers={"X-Twilio-Signature": signed_for_public}))
    assert "http://localhost/sms/inbound?via=proxy" in text and "SMS_BOARD_PUBLIC_URL is not set" in text
    assert count(app, InboundMessage) == 0


def test_it_accepts_unsigned_requests_with_one_warning_when_no_auth_token_is_configured(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(app_config(db, tmp_path, TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None))
    client = app.test_client()

    with caplog.at_level(logging.WARNING, logger="sms_board"):
        first = client.post("/sms/inbound", data=sms("HELP"))
        second = client.post("/sms/inbound", data=sms("HELP", number=BOB))

    assert (first.status_code, second.status_code) == (200, 200)
    assert twiml_messages(first.data) and twiml_messages(second.data)
    assert count(app, InboundMessage) == 2
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "unsigned" in r.getMessage()]
    assert len(warnings) == 1


# --- retries and concurrency ----------------------------------------------------------------


def test_retried_message_sid_gets_same_reply_and_no_second_post(alice: Phone, client) -> None:  # type: ignore[no-untyped-def]
    params = sms("POST Lost ginger cat near the park")
    headers = {"X-Twilio-Signature": sign(PUBLIC_URL, params)}

    first = client.post("/sms/inbound", data=params, headers=headers)
    retry = client.post("/sms/inbound", data=params, headers=headers)

    assert first.status_code == retry.status_code == 200
    assert twiml_messages(first.data)[0].startswith("Posted as #N")
    assert retry.data == first.data
    with session_of(client.application) as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 1
        assert session.scalar(
            select(func.count()).select_from(InboundMessage).where(InboundMessage.message_sid == params["MessageSid"])
        ) == 1


def test_a_retried_stop_gets_its_one_confirmation_and_opts_out_once(alice: Phone, client) -> None:  # type: ignore[no-untyped-def]
    # Stored and opted out by one statement on PostgreSQL: a retry finds its row and writes nothing more.
    params = sms("STOP")
    headers = {"X-Twilio-Signature": sign(PUBLIC_URL, params)}

    first = client.post("/sms/inbound", data=params, headers=headers)
    retry = client.post("/sms/inbound", data=params, headers=headers)

    assert twiml_messages(first.data) == [STOP_CONFIRMATION]
    assert retry.data == first.data
    with session_of(client.application) as session:
        events = session.scalars(select(ConsentEvent).where(ConsentEvent.action == "opt_out")).all()
        stored = session.scalars(select(InboundMessage).where(InboundMessage.message_sid == params["MessageSid"])).all()
        assert [(event.inbound_id, event.words) for event in events] == [(stored[0].id, "STOP")]
        assert [(row.status, row.handler) for row in stored] == [("handled", "stop")]


def test_it_posts_once_when_twilio_delivers_one_message_sid_twice_at_once(alice: Phone, app: Flask) -> None:
    params = sms("POST Street party on Saturday")
    headers = {"X-Twilio-Signature": sign(PUBLIC_URL, params)}
    start = threading.Barrier(2)
    answers: list[tuple[int, bytes]] = []
    failures: list[BaseException] = []

    def deliver() -> None:
        client = app.test_client()
        try:
            start.wait(timeout=10)
            response = client.post("/sms/inbound", data=params, headers=headers)
            answers.append((response.status_code, response.data))
        except BaseException as exc:  # re-raised below, in the test's own thread
            failures.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not failures, failures
    assert [status for status, _ in answers] == [200, 200]
    assert answers[0][1] == answers[1][1]
    assert twiml_messages(answers[0][1])[0].startswith("Posted as #N")
    assert count(app, Item) == 1
    with session_of(app) as session:
        assert session.scalar(
            select(func.count()).select_from(InboundMessage).where(InboundMessage.message_sid == params["MessageSid"])
        ) == 1


def test_it_does_the_work_once_for_many_simultaneous_deliveries_of_one_message_sid(alice: Phone, app: Flask) -> None:
    factory = board_of(app).sessions
    settings = board_of(app).settings
    params = sms("POST Skip outside number 12, free to a good home")
    deliveries = 6
    start = threading.Barrier(deliveries)
    results: list[InboundResult] = []
    failures: list[BaseException] = []

    def deliver() -> None:
        try:
            start.wait(timeout=10)
            results.append(receive(factory, settings, params))
        except BaseException as exc:  # re-raised below, in the test's own thread
            failures.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(deliveries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not failures, failures
    assert len(results) == deliveries
    assert sum(not r.duplicate for r in results) == 1
    assert {r.inbound_id for r in results} == {results[0].inbound_id}
    assert all(r.replies == results[0].replies for r in results)
    assert results[0].replies[0].startswith("Posted as #N")
    assert count(app, Item) == 1


def test_a_new_number_texting_several_times_at_once_becomes_one_subscriber_answered_every_time(app: Flask) -> None:
    # Each text adds the number in the statement that reads its sender; those that lose the race read it instead.
    factory, settings = board_of(app).sessions, board_of(app).settings
    texts = [sms(body, "+447700900777") for body in ("HELP", "Hello?", "HELP", "Is anyone there?")]
    start = threading.Barrier(len(texts))
    results: list[InboundResult] = []
    failures: list[BaseException] = []

    def deliver(params: dict[str, str]) -> None:
        try:
            start.wait(timeout=10)
            results.append(receive(factory, settings, params))
        except BaseException as exc:  # re-raised below, in the test's own thread
            failures.append(exc)

    threads = [threading.Thread(target=deliver, args=(params,)) for params in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not failures, failures
    assert len(results) == len(texts) and all(r.status == "handled" for r in results), results
    assert sum(bool(r.replies) for r in results) == 3, results  # each HELP, and one hint today
    assert count(app, Subscriber) == 1
    with session_of(app) as session:
        sender = session.scalar(select(Subscriber.id))
        assert session.scalar(select(func.count()).select_from(InboundMessage).where(
            InboundMessage.subscriber_id == sender)) == len(texts)


# --- a handler that fails --------------------------------------------------------------------


@pytest.fixture
def broken_keyword() -> Iterator[str]:
    """A keyword whose handler fails half-way, as a new feature with a forgotten template would."""

    def kaboom(ctx: Context) -> None:
        ctx.subscriber.name = "Halfdone"
        ctx.reply("kaboom_confirm")  # no such template

    with KEYWORDS.temporarily("KABOOM", Keyword("KABOOM", kaboom)):
        yield "KABOOM"


def test_a_crashing_handler_answers_200_with_an_apology_and_keeps_the_error(
    alice: Phone, client, broken_keyword: str, inbound_rows
) -> None:  # type: ignore[no-untyped-def]
    params = sms(f"{broken_keyword} now")
    response = client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": sign(PUBLIC_URL, params)})

    assert response.status_code == 200
    assert twiml_messages(response.data) == [render("apology")]
    row = inbound_rows()[-1]
    assert row.message_sid == params["MessageSid"]
    assert row.body == "KABOOM now"
    assert row.status == InboundStatus.ERROR.value
    assert "kaboom_confirm" in (row.error or "")
    assert row.in_inbox
    # Nothing the handler did before failing is kept.
    assert subscriber(client.application, ALICE).name is None


def test_a_retried_crash_gets_the_same_apology_and_is_not_run_again(
    alice: Phone, client, broken_keyword: str, inbound_rows
) -> None:  # type: ignore[no-untyped-def]
    params = sms(broken_keyword)
    headers = {"X-Twilio-Signature": sign(PUBLIC_URL, params)}

    first = client.post("/sms/inbound", data=params, headers=headers)
    KEYWORDS.remove(broken_keyword)  # fixed and redeployed before Twilio retries
    retry = client.post("/sms/inbound", data=params, headers=headers)

    assert retry.status_code == 200
    assert retry.data == first.data
    assert [r.status for r in inbound_rows() if r.message_sid == params["MessageSid"]] == ["error"]


# --- opting out --------------------------------------------------------------------------------


def test_stop_then_post_gets_nothing_and_posts_nothing(alice: Phone, app: Flask, inbound_rows, runner) -> None:  # type: ignore[no-untyped-def]
    assert alice.text("STOP") == [STOP_CONFIRMATION]

    assert alice.text("POST hello") == []
    assert alice.text("hello?") == []
    assert json.loads(runner("simulate", ALICE, "POST hello again", "--json").stdout) == {"replies": []}

    assert count(app, Item) == 0
    assert alice.received() == []
    assert [r.status for r in inbound_rows()[-3:]] == ["ignored", "ignored", "ignored"]


def test_repeated_stop_gets_no_second_confirmation(alice: Phone, app: Flask) -> None:
    assert alice.text("STOP") == [STOP_CONFIRMATION]
    assert alice.text("STOP") == []
    assert alice.text("UNSUBSCRIBE") == []
    with session_of(app) as session:
        assert session.scalar(
            select(func.count()).select_from(ConsentEvent).where(ConsentEvent.action == "opt_out")
        ) == 1


@pytest.mark.parametrize("word", ["START", "YES", "unstop"])
def test_start_or_yes_opts_back_in(alice: Phone, app: Flask, word: str) -> None:
    alice.text("STOP")

    reply = alice.text(word)

    assert len(reply) == 1
    assert reply[0].startswith("Welcome back!")
    assert "Elm Street" in reply[0]
    assert not subscriber(app, ALICE).opted_out
    assert subscription_statuses(app, ALICE) == ["active"]
    assert alice.text("POST Found: a blue umbrella")[0].startswith("Posted as #N")


def test_stop_with_stop_reply_off_opts_out_without_answering(db: Database, tmp_path: Path, areas) -> None:  # type: ignore[no-untyped-def]
    app = create_app(app_config(db, tmp_path, SMS_BOARD_STOP_REPLY="off"))
    alice = Phone(app.test_client(), ALICE)
    alice.text("JOIN ELM")

    assert alice.text("STOP") == []

    assert subscriber(app, ALICE).opted_out
    assert subscription_statuses(app, ALICE) == [SubscriptionStatus.STOPPED.value]
    assert alice.text("POST hello") == []
    assert count(app, Item) == 0


def test_twilio_opt_out_type_stop_is_honoured_whatever_the_body(alice: Phone, app: Flask) -> None:
    # Advanced Opt-Out recognised a keyword of its own (here a French one) and says so.
    assert alice.text("ARRET", OptOutType="STOP") == [STOP_CONFIRMATION]

    assert subscriber(app, ALICE).opted_out
    assert subscription_statuses(app, ALICE) == [SubscriptionStatus.STOPPED.value]


def test_twilio_opt_out_type_start_opts_back_in_whatever_the_body(alice: Phone, app: Flask) -> None:
    alice.text("STOP")

    reply = alice.text("COMMENCER", OptOutType="START")

    assert reply and reply[0].startswith("Welcome back!")
    assert not subscriber(app, ALICE).opted_out


STOP_TEXTS = [
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
    " Stop! ", "stop.", "stop texting me please", "please unsubscribe", "Stop sending me these texts",
]


@pytest.mark.parametrize("body", STOP_TEXTS)
def test_the_stop_family_opts_out(alice: Phone, app: Flask, body: str) -> None:
    assert alice.text(body) == [STOP_CONFIRMATION]

    assert subscriber(app, ALICE).opted_out
    assert subscription_statuses(app, ALICE) == [SubscriptionStatus.STOPPED.value]
    with session_of(app) as session:
        event = session.scalar(select(ConsentEvent).where(ConsentEvent.action == "opt_out"))
        assert event is not None
        assert event.words == body.strip()
        assert event.wording == STOP_CONFIRMATION


NOT_STOP_TEXTS = [
    "Stop the bus at Elm st and wait for me",
    "Stop the bus at Elm st please",  # seven words: a message, not a request to stop
    "CANCEL my post",  # only STOP and UNSUBSCRIBE open a longer opt-out
    "the end",
    "I quit smoking today",
]


@pytest.mark.parametrize("body", NOT_STOP_TEXTS)
def test_a_message_that_merely_contains_a_stop_word_does_not_opt_out(alice: Phone, app: Flask, body: str) -> None:
    reply = alice.text(body)

    assert reply != [STOP_CONFIRMATION]
    assert not subscriber(app, ALICE).opted_out
    assert subscription_statuses(app, ALICE) == [SubscriptionStatus.ACTIVE.value]


@pytest.mark.parametrize("body", ["SOTP", "stpo", "STPO!"])
def test_a_near_miss_of_stop_is_not_guessed_but_gets_a_hint(alice: Phone, app: Flask, body: str) -> None:
    reply = alice.text(body)

    assert len(reply) == 1
    assert "STOP" in reply[0]
    assert reply != [STOP_CONFIRMATION]
    assert not subscriber(app, ALICE).opted_out
    assert subscription_statuses(app, ALICE) == [SubscriptionStatus.ACTIVE.value]
