"""Stop requests in plain words are honoured (PECR), and texts that merely mention stopping are not.

docs/language.md: a short text (at most 8 words) that clearly asks to stop is a STOP, with the usual
single confirmation; a short text that opens with STOP is a STOP when in doubt.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms_board.handlers.stop import asks_to_stop
from sms_board.models import ConsentEvent, Subscriber, Subscription, SubscriptionStatus
from sms_board.text.templates import render
from sms_board.text.words import Words
from tests.conftest import session_of

SAM = "+447700900123"
STOP_CONFIRMATION = render("stop_confirm")

ASKS_TO_STOP = [
    "I want to unsubscribe",
    "remove me from your list",
    "No more texts please",
    "don't text me again",
    "Don’t text me again!",
    "please stop texting me",
    "Please unsubscribe me",
    "take me off your list",
    "I don't want these texts",
    "How do I unsubscribe?",
    "stop sending me these",
    "Stop the texts please",
    "leave me alone",
    "opt out",
    "Stop the lorries parking please",  # opens with STOP: when in doubt, a STOP
]
DOES_NOT = [
    "can't stop smiling after the street party",
    "no more chairs needed at the hall",
    "please don't stop the market",
    "Please remove me from the rota for Saturday",
    "no more room in the car, sorry",
    "the bus didn't stop at Oak Road today",
    "text me when you get there",
    "I want to stop by the hall later",
    # more than 8 words: a message for a person, not an opt-out
    "I heard some people want to unsubscribe from the street party list",
]


def subscription_statuses(app) -> list[str]:
    with session_of(app) as session:
        return [s.status for s in session.scalars(select(Subscription).order_by(Subscription.id))]


@pytest.mark.parametrize("text", ASKS_TO_STOP)
def test_asking_to_stop_in_plain_words_stops_every_text(areas, phone, app, text):
    sam = phone(SAM)
    sam.text("JOIN ELM")

    assert sam.text(text) == [STOP_CONFIRMATION]

    assert subscription_statuses(app) == [SubscriptionStatus.STOPPED.value]
    with session_of(app) as session:
        person = session.scalar(select(Subscriber).where(Subscriber.phone == SAM))
        assert person is not None and person.opted_out
        opt_out = session.scalar(select(ConsentEvent).where(ConsentEvent.action == "opt_out"))
        assert opt_out is not None and opt_out.words == text
    assert sam.text("HELLO") == []  # nothing more is sent, ever, until START


@pytest.mark.parametrize("text", DOES_NOT)
def test_a_text_that_only_mentions_stopping_keeps_the_resident_subscribed(areas, phone, app, inbound_rows, text):
    sam = phone(SAM)
    sam.text("JOIN ELM")

    reply = sam.text(text)

    assert STOP_CONFIRMATION not in reply
    assert subscription_statuses(app) == [SubscriptionStatus.ACTIVE.value]
    assert inbound_rows()[-1].in_inbox


def test_no_more_texts_please_is_not_told_how_to_decline_an_offer(areas, phone):
    reply = phone(SAM).text("No more texts please")

    assert reply == [STOP_CONFIRMATION]
    assert not any("NO <ref>" in r for r in reply)


def test_a_plain_stop_request_is_confirmed_once_only(areas, phone):
    sam = phone(SAM)
    sam.text("JOIN ELM")

    assert sam.text("I want to unsubscribe") == [STOP_CONFIRMATION]
    assert sam.text("remove me from your list") == []


@pytest.mark.parametrize(("text", "stops"), [(t, True) for t in ASKS_TO_STOP] + [(t, False) for t in DOES_NOT])
def test_the_store_time_opt_out_and_the_router_read_a_text_alike(text, stops):
    # stop_on_arrival (store time) and the router's STOP stage both ask this one function.
    assert asks_to_stop(Words.parse(text).tokens) is stops
