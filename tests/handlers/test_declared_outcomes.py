"""A reply that confirms what the text changed is never withheld by loop protection, not even past
the hourly cap; a reply that changes nothing is (docs/language.md, "Loop protection").

Each handler declares what its text did (`Context.did`, `Context.say`). With the cap at one reply
an hour, every keyword's happy path, every YES and START still gets its answer, and the listings,
hints and "already" replies do not. A keyword, stage or YES action added without a place in
`test_every_change_a_text_asks_for_is_confirmed_past_the_hourly_cap` fails
`test_every_keyword_stage_and_yes_is_walked_through`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from sms_board import create_app
from sms_board.handlers.router import CONFIRM_ACTIONS, STAGES, keywords
from sms_board.models import InboundMessage
from tests.conftest import Phone, Runner, app_config, session_of

SAM, PRIYA, JOE, OLIVE = "+447700900123", "+447700900456", "+447700900789", "+447700900555"
WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LONG = "a fairly long line about something happening on the street this week, with all the details"

# Handlers whose replies change nothing, and stages whose replies loop protection never weighs.
CHANGE_NOTHING = {
    "my": "a listing", "balance": "a listing", "areas": "a listing", "help": "how to use the board",
    "inbox": "the text is kept for the organisers; the hint changes nothing",
    "stop": "its confirmation is owed by carrier rules, withheld never",
    "emergency": "its \"call 999\" is owed, withheld never",
    "relay": "a relay has no reply", "opted_out": "an opted-out number is not answered",
    "keyword": "each keyword is walked through by its own name",
    "yes": "each YES action is walked through by its own name (`yes:broadcast`)",
}


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def capped(db, tmp_path, clock) -> Flask:  # type: ignore[no-untyped-def]
    """Elm Street with one automatic reply an hour per number, where one report hides a post; Olive organises it."""
    app = create_app(app_config(db, tmp_path, SMS_BOARD_MAX_REPLIES_PER_HOUR="1", SMS_BOARD_REPORT_HIDE="1"))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("organiser", "add", OLIVE, "elm")
    return app


class Street:
    """The residents of Elm Street, texting slower than a flood, and which handler took each text."""

    def __init__(self, app: Flask, clock: time_machine.Coordinates) -> None:
        client = app.test_client()
        self.app, self.clock = app, clock
        self.people = {name: Phone(client, number) for name, number in
                       (("sam", SAM), ("priya", PRIYA), ("joe", JOE), ("olive", OLIVE))}
        self.walked: set[str] = set()

    def text(self, name: str, body: str) -> list[str]:
        self.clock.shift(timedelta(seconds=20))
        return self.people[name].text(body)

    def changes(self, name: str, body: str) -> str:
        """The text's reply, which confirms a change and so is never withheld; noted as walked through."""
        reply = self.text(name, body)
        handler, error = self.last_row()
        assert reply, f"{body!r} ({handler}) changed something, yet its reply was withheld: {error}"
        assert not error, f"{body!r} ({handler}): {error}"
        self.walked.add(handler)
        return reply[0]

    def last_row(self) -> tuple[str, str]:
        with session_of(self.app) as session:
            row = session.scalar(select(InboundMessage).order_by(InboundMessage.id.desc()).limit(1))
            assert row is not None
            return row.handler or "", row.error or ""


def ref(reply: str, letter: str = "NROIJ") -> str:
    found = re.search(rf"#([{letter}]\d+)", reply)
    assert found, reply
    return found.group(1)


def walk_the_street(street: Street) -> None:
    for name in ("sam", "priya", "joe"):
        street.changes(name, "JOIN ELM")  # the hour's one reply to each number
        street.changes(name, f"NAME {name.title()}")

    notice = ref(street.changes("sam", "POST Lost ginger cat near the park"))
    lift = ref(street.changes("sam", "NEED Lift to the GP on Thursday"))
    bike = ref(street.changes("joe", "OFFER Spare bike for anyone who needs one"))
    street.changes("sam", f"ASK {bike}")
    street.changes("priya", f"CAN {lift}")
    street.changes("sam", f"OK {lift}")
    street.changes("sam", f"SHARE {lift}")
    street.changes("sam", f"DONE {lift} 1h")

    sofa = ref(street.changes("sam", "NEED Help moving a sofa"))
    street.changes("priya", f"CAN {sofa}")
    street.changes("sam", f"NO {sofa}")
    street.changes("joe", f"CAN {sofa}")
    street.changes("sam", f"OK {sofa}")
    street.changes("olive", f"UNLINK {sofa}")

    street.changes("priya", f"REPORT {notice}")  # hidden
    street.changes("olive", f"APPROVE {notice}")  # back up
    street.changes("sam", f"CLOSE {notice}")
    advert = ref(street.changes("joe", "POST Cheap loans, call now"))
    street.changes("olive", f"REJECT {advert} not local")

    intro = ref(street.changes("olive", f"INTRO {SAM} {PRIYA} gardening"), "I")
    street.changes("sam", f"OK {intro}")
    street.changes("priya", f"OK {intro}")

    # A trusted helper (docs/helpers.md): Sam names Joe, Joe agrees and posts for Sam.
    helper = re.search(r"\((H\d+)\)", street.changes("sam", f"HELPER {JOE}")).group(1)  # type: ignore[union-attr]
    street.changes("joe", f"OK {helper}")
    street.changes("joe", "FOR SAM POST Jumble sale at the hall on Saturday")

    street.changes("sam", "DIGEST WEEKLY")
    for n in range(1, 7):
        street.changes("joe", f"POST Notice {n}: {LONG}")
    street.clock.shift(timedelta(minutes=1))
    Runner(street.app)("digest")
    street.changes("priya", "MORE")  # the second page of her digest

    street.changes("olive", "BROADCAST Bins are collected on Friday this week")
    street.changes("olive", "YES")
    street.changes("olive", "ALL Street party on Sunday")
    street.changes("olive", "URGENT Water is off until 6pm")

    assert street.text("sam", "I've fallen and can't get up"), "owed, whatever the cap"
    with session_of(street.app) as session:
        fallen = session.scalar(select(InboundMessage.id).where(InboundMessage.handler == "emergency"))
    street.changes("olive", f"U{fallen} Are you hurt? Someone is on their way")

    street.changes("sam", "ENGLISH")  # a language chosen by its word
    street.changes("priya", "LANGUAGE EN")

    street.changes("joe", "LEAVE ELM")
    assert street.text("sam", "STOP"), "owed, whatever the cap"
    street.changes("sam", "START")
    street.changes("priya", "FORGET")
    street.changes("priya", "YES")


def test_every_change_a_text_asks_for_is_confirmed_past_the_hourly_cap(capped, clock):
    walk_the_street(Street(capped, clock))


def test_every_keyword_stage_and_yes_is_walked_through(capped, clock):
    street = Street(capped, clock)
    walk_the_street(street)
    handlers = ({entry.name.lower() for entry in keywords().values()} | set(STAGES)
                | {f"yes:{action}" for action in CONFIRM_ACTIONS})
    assert handlers - set(CHANGE_NOTHING) - street.walked == set(), "walk it through in walk_the_street"
    assert street.walked - handlers == set()


def test_replies_that_change_nothing_are_withheld_past_the_hourly_cap(capped, clock):
    street = Street(capped, clock)
    street.changes("sam", "JOIN ELM")  # the hour's one reply
    unchanged = ["MY", "BALANCE", "AREAS", "HELP", "JOIN ELM", "DIGEST DAILY", "NAME", "POST", "OK",
                 "YES", "START", "MORE", "LEAVE OAK", "Is the bin day still Thursday?"]
    answered = {body: street.text("sam", body) for body in unchanged}
    assert {body: reply for body, reply in answered.items() if reply} == {}
    assert "automatic replies in the last hour" in street.last_row()[1]


def test_a_repeated_text_is_answered_again_while_each_time_changes_something(app, areas, phone):
    sam = phone(SAM)
    # Joined once, then "already a member" three times alike: the fifth is a loop.
    assert [len(sam.text("JOIN ELM")) for _ in range(5)] == [1, 1, 1, 1, 0]
    # Each FORGET asks afresh (the newest wins): the same answer, but never a loop.
    assert [len(sam.text("FORGET")) for _ in range(5)] == [1, 1, 1, 1, 1]
