"""A month on Elm Street whose exchanges are known, for the monthly report's tests.

August: Sam, Priya, Joe, Ann, Bob and Ruth (an organiser) join Elm. October: Priya helps Sam
(their first exchange ever). November, on the board's clock: Priya helps Sam twice more
(2 h after the request, then 4 h), Sam helps Joe (1 h), Priya helps Ruth (8 h); Joe's last
request waits with no offer; Bob leaves; Dee joins. Ann never takes part.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.conftest import Phone

SAM, PRIYA, JOE, ANN, BOB, DEE, RUTH = ("+447700900123", "+447700900456", "+447700900789", "+447700900321",
                                        "+447700900654", "+447700900987", "+447700900001")
AUGUST = datetime(2026, 8, 3, 10, 0, tzinfo=UTC)
OCTOBER = datetime(2026, 10, 12, 10, 0, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)
AFTER_NOVEMBER = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def ref_in(text: str, letter: str) -> str:
    found = re.search(rf"#({letter}\d+)", text)
    assert found, f"no #{letter} ref in {text!r}"
    return found.group(1)


class Month:
    """Moves the board's clock by hand while residents text."""

    def __init__(self, traveller: time_machine.Coordinates) -> None:
        self.traveller = traveller

    def at(self, when: datetime) -> None:
        self.traveller.move_to(when)

    def exchange(self, asker: Phone, helper: Phone, asked: datetime, offer_after: timedelta, hours: str) -> str:
        """`asker` asks at `asked`, `helper` offers `offer_after` later, and it is done with `hours`."""
        self.at(asked)
        ref = ref_in(asker.text("NEED a hand with the shopping")[0], "R")
        self.at(asked + offer_after)
        helper.text(f"CAN {ref}")
        asker.text(f"OK {ref}")
        asker.text(f"DONE {ref} {hours}")
        return ref


@pytest.fixture
def month() -> Iterator[Month]:
    with time_machine.travel(AUGUST, tick=False) as traveller:
        yield Month(traveller)


@pytest.fixture
def elm_november(areas, phone, runner, month):  # type: ignore[no-untyped-def]
    """The street above, texted through the signed webhook; the clock left in early December."""
    people = {name: phone(number) for name, number in
              (("sam", SAM), ("priya", PRIYA), ("joe", JOE), ("ann", ANN), ("bob", BOB), ("dee", DEE), ("ruth", RUTH))}
    for name in ("sam", "priya", "joe", "ann", "bob", "ruth"):
        people[name].text("JOIN ELM")
        people[name].text(f"NAME {name.title()}")
    runner("organiser", "add", RUTH, "elm")
    sam, priya, joe, ruth = people["sam"], people["priya"], people["joe"], people["ruth"]
    month.exchange(sam, priya, OCTOBER, timedelta(hours=1), "1")
    month.exchange(sam, priya, NOVEMBER, timedelta(hours=2), "2")
    month.exchange(sam, priya, NOVEMBER + timedelta(days=1), timedelta(hours=4), "1")
    month.exchange(joe, sam, NOVEMBER + timedelta(days=2), timedelta(hours=1), "1")
    month.exchange(ruth, priya, NOVEMBER + timedelta(days=3), timedelta(hours=8), "1")
    month.at(NOVEMBER + timedelta(days=5))
    people["bob"].text("LEAVE ELM")
    people["dee"].text("JOIN ELM")
    month.at(NOVEMBER + timedelta(days=15))
    joe.text("NEED someone to walk the dog")
    month.at(AFTER_NOVEMBER)
    return people
