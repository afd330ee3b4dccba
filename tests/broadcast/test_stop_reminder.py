"""Once a calendar month a subscriber's digest ends with how to stop, but never at the cost of a segment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from sms_board.text.segments import analyse
from tests.conftest import Phone

SAM, PRIYA = "+447700900123", "+447700900456"
STOP_LINE = "Text STOP to stop these texts."
NOVEMBER = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOVEMBER, tick=False) as traveller:
        yield traveller


@pytest.fixture
def street(clock, areas, phone):  # type: ignore[no-untyped-def]
    sam, priya = phone(SAM), phone(PRIYA)
    for person, name in ((sam, "Sam"), (priya, "Priya")):
        person.text("JOIN ELM")
        person.text(f"NAME {name}")
    clock.shift(timedelta(minutes=1))
    return sam, priya


def digests(person: Phone) -> list[str]:
    return [row.body for row in person.received() if row.kind == "digest"]


def post_and_digest(author: Phone, runner, clock, text: str) -> None:  # type: ignore[no-untyped-def]
    author.text(f"POST {text}")
    clock.shift(timedelta(minutes=1))
    runner("digest")
    clock.shift(timedelta(minutes=1))


def test_the_first_digest_of_each_month_says_how_to_stop(street, runner, clock):
    sam, priya = street

    post_and_digest(sam, runner, clock, "Plant swap on Saturday")
    post_and_digest(sam, runner, clock, "Litter pick on Sunday")
    clock.move_to(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    post_and_digest(sam, runner, clock, "Carols on the green")

    november, later_in_november, december = digests(priya)
    assert november.endswith("\n" + STOP_LINE)
    assert STOP_LINE not in later_in_november
    assert december.endswith("\n" + STOP_LINE)


def test_the_stop_line_never_pushes_a_digest_into_another_segment(street, runner, clock):
    sam, priya = street
    almost_full = "Garage sale at number 12 on Saturday from 9am: books, toys, a bike, garden tools, plants, a sofa and lots more"

    post_and_digest(sam, runner, clock, almost_full)
    post_and_digest(sam, runner, clock, "Bins on Friday")

    first, second = digests(priya)
    assert STOP_LINE not in first and analyse(first).segments == 1
    assert analyse(first + "\n" + STOP_LINE).segments == 2, "the line would have cost a second segment"
    assert second.endswith("\n" + STOP_LINE), "the reminder waits for a digest with room"
    assert analyse(second).segments == 1
