"""A notice about an offer, a connection or a post that is withdrawn before it is sent never goes.

At night (quiet hours) the board holds "Sam can help with #R8" for Priya until 08:00. If Sam
takes the offer back before then (STOP, LEAVE, FORGET, NO), or Priya declines or closes, or an
organiser unlinks or rejects, the held text is cancelled; and nobody is told a connection
ended that they were never told had begun.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask

from sms_board import create_app
from sms_board.app import board_of
from sms_board.models import Outbox
from sms_board.plumbing.utc import utcnow
from sms_board.sending.delivery import release_held
from sms_board.sending.sender import drain
from tests.conftest import Database, app_config

SAM, PRIYA, RUTH = "+447700900123", "+447700900456", "+447700900001"
WAITING = {"held", "queued"}


@pytest.fixture
def app(db: Database, tmp_path) -> Flask:  # type: ignore[no-untyped-def]
    """A board where it is always night: every notice is held for the morning."""
    return create_app(app_config(db, tmp_path, SMS_BOARD_QUIET_HOURS="00:00-23:59"))


@pytest.fixture
def street(areas, phone, runner):  # type: ignore[no-untyped-def]
    runner("organiser", "add", RUTH, "elm")
    people = {}
    for number, name in [(SAM, "Sam"), (PRIYA, "Priya"), (RUTH, "Ruth")]:
        person = phone(number)
        person.text("JOIN ELM")
        person.text(f"NAME {name}")
        people[name.lower()] = person
    return people


def waiting(person) -> list[Outbox]:  # type: ignore[no-untyped-def]
    return [row for row in person.received() if row.status in WAITING]


def cancelled(person) -> list[Outbox]:  # type: ignore[no-untyped-def]
    return [row for row in person.received() if row.status == "cancelled"]


def request_with_offer(street) -> str:  # type: ignore[no-untyped-def]
    """Priya asks, Sam offers: Priya's "Sam can help" is held for the morning. Returns the ref."""
    reply = street["priya"].text("NEED Lift to the GP on Thursday")[0]
    ref = re.search(r"#(R\d+)", reply).group(1)  # type: ignore[union-attr]
    street["sam"].text(f"CAN {ref}")
    [held] = waiting(street["priya"])
    assert held.status == "held" and f"Sam (Elm Street) can help with #{ref}" in held.body
    return ref


def connected(street) -> str:  # type: ignore[no-untyped-def]
    """Priya accepts Sam's offer: Sam's "Connected with Priya" is held for the morning."""
    ref = request_with_offer(street)
    street["priya"].text(f"OK {ref}")
    [held] = waiting(street["sam"])
    assert held.body.startswith("Connected with Priya")
    return ref


def took_back(ref: str, name: str = "Sam") -> str:
    return f"{name} took back the offer on #{ref}; we'll text you if someone else offers."


# ── the helper takes the offer back ─────────────────────────────────────────


def test_stop_in_plain_words_cancels_the_held_offer_and_ok_says_it_was_taken_back(street):
    ref = request_with_offer(street)

    street["sam"].text("stop texting me please")

    assert waiting(street["priya"]) == []
    assert [row.error_message for row in cancelled(street["priya"])] == ["the offer was withdrawn"]
    assert street["priya"].text(f"OK {ref}") == [took_back(ref)]


def test_leave_withdraws_the_offers_made_in_that_area(street):
    ref = request_with_offer(street)

    street["sam"].text("LEAVE ELM")

    assert waiting(street["priya"]) == []
    assert street["priya"].text(f"OK {ref}") == [took_back(ref)]


def test_forget_withdraws_the_offer_and_its_notice(street):
    ref = request_with_offer(street)

    street["sam"].text("FORGET")
    street["sam"].text("YES")

    assert waiting(street["priya"]) == []
    assert street["priya"].text(f"OK {ref}") == [took_back(ref, "A neighbour")]


def test_no_from_the_helper_takes_the_offer_back_before_it_is_announced(street):
    ref = request_with_offer(street)

    street["sam"].text(f"NO {ref}")

    assert waiting(street["priya"]) == []
    assert street["priya"].text(f"OK {ref}") == [took_back(ref)]


def test_an_offer_made_again_after_taking_it_back_is_announced_again(street):
    ref = request_with_offer(street)
    street["sam"].text(f"NO {ref}")

    street["sam"].text(f"CAN {ref}")

    [held] = waiting(street["priya"])
    assert f"Sam (Elm Street) can help with #{ref}" in held.body
    assert street["priya"].text(f"OK {ref}")[0].startswith("Connected with Sam")


# ── the requester declines or closes ───────────────────────────────────────


def test_no_from_the_requester_cancels_her_own_held_notice_and_tells_the_helper(street):
    ref = request_with_offer(street)

    street["priya"].text(f"NO {ref}")

    assert waiting(street["priya"]) == []
    assert [f"#{ref}" in row.body for row in waiting(street["sam"])] == [True]


def test_close_cancels_the_held_offer_notice(street):
    ref = request_with_offer(street)

    street["priya"].text(f"CLOSE {ref}")

    assert waiting(street["priya"]) == []


def test_close_after_ok_cancels_the_held_connection_and_tells_nobody_it_ended(street):
    ref = connected(street)

    street["priya"].text(f"CLOSE {ref}")

    assert waiting(street["sam"]) == [], "Sam never heard of the connection: no 'connected', no 'ended'"
    assert [row.body[:14] for row in cancelled(street["sam"])] == ["Connected with"]


def test_stop_from_the_requester_cancels_the_held_connection_notice(street):
    ref = connected(street)

    street["priya"].text("STOP")

    assert waiting(street["sam"]) == []
    assert "not connected" in street["sam"].text(f"{ref} hello?")[0]


# ── an organiser unlinks or rejects ────────────────────────────────────────


def test_unlink_cancels_the_held_connection_and_tells_only_the_side_that_knew(street):
    ref = connected(street)

    street["ruth"].text(f"UNLINK {ref}")

    assert waiting(street["sam"]) == []
    assert [row.body for row in waiting(street["priya"])] == [f"Your connection on {ref} has ended. Thank you."]


def test_reject_cancels_the_held_offer_notice(street):
    ref = request_with_offer(street)

    street["ruth"].text(f"REJECT {ref} not local")

    assert [row.body for row in waiting(street["priya"]) if "can help" in row.body] == []


# ── what already went is left alone ────────────────────────────────────────


def test_a_notice_already_sent_is_never_cancelled(street, app):
    ref = request_with_offer(street)
    # Morning comes: the held notice is released and sent.
    board = board_of(app)
    morning = utcnow() + timedelta(days=1)
    with board.sessions.begin() as session:
        release_held(session, morning)
    assert drain(board.sessions, board.transport, replace(board.settings, rate=1000), now=lambda: morning).sent

    street["sam"].text(f"NO {ref}")

    [sent] = street["priya"].received()
    assert sent.status == "sent"
