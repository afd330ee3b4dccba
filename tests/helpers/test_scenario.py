"""Issue 22's "Measured by", black-box: every text goes in through `sms-board simulate`, and what the board
sends, writes and counts is read back through `outbox --json`, `ledger --json` and `BALANCE`, as an
operator trying the board from a terminal would (docs/helpers.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.conftest import Runner

ROSE, SAM, PRIYA, TOM = "+447700900111", "+447700900222", "+447700900333", "+447700900444"


def texts(runner: Runner, number: str, body: str) -> list[str]:
    """The board's replies to one text, through `sms-board simulate`."""
    return json.loads(runner("simulate", number, body, "--json").stdout)["replies"]


def outbox(runner: Runner, number: str, kind: str | None = None) -> list[dict[str, str]]:
    rows = json.loads(runner("outbox", "--json").stdout)
    return [row for row in rows if row["to"] == number and (kind is None or row["kind"] == kind)]


def digest(runner: Runner, clock: time_machine.Coordinates) -> None:
    """A digest run a little after what was posted (the clock stands still between texts)."""
    clock.shift(timedelta(minutes=2))
    runner("digest")
    clock.shift(timedelta(minutes=2))


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(datetime.now(UTC), tick=False) as coordinates:
        yield coordinates


def test_a_helper_reads_and_answers_the_board_for_a_resident_until_she_ends_it(clock, areas, runner):
    for number, name in ((ROSE, "Rose"), (SAM, "Sam"), (PRIYA, "Priya"), (TOM, "Tom")):
        texts(runner, number, "JOIN ELM")
        texts(runner, number, f"NAME {name}")
    clock.shift(timedelta(minutes=1))  # news is what was posted after joining

    # Rose names Sam; nothing changes until he agrees with the ref he was given.
    [asked] = texts(runner, ROSE, "HELPER 07700 900222")
    ref = re.search(r"\b(H\d+)\b", asked).group(1)  # type: ignore[union-attr]
    proposal = outbox(runner, SAM)[-1]["body"]
    assert proposal.startswith("Rose (Elm Street) asks you to be their helper") and f"OK {ref}" in proposal
    assert "+447700900111" not in proposal
    texts(runner, SAM, f"OK {ref}")

    # A digest copy reaches Sam, marked for Rose.
    texts(runner, PRIYA, "POST Jumble sale at the church hall on Saturday")
    digest(runner, clock)
    [copy] = outbox(runner, SAM, "copy")
    assert copy["body"].startswith("For Rose: ") and "Jumble sale" in copy["body"]

    # Sam posts a request for Rose and accepts Priya's offer for her.
    [posted] = texts(runner, SAM, "FOR ROSE NEED lift to the GP on Thursday")
    item = re.search(r"#?(R\d+)", posted).group(1)  # type: ignore[union-attr]
    assert posted.startswith("For Rose: ")
    texts(runner, PRIYA, f"CAN {item}")
    assert outbox(runner, SAM)[-1]["body"].startswith("For Rose: ")  # the offer's notice, copied
    [connected] = texts(runner, SAM, f"FOR ROSE OK {item}")
    assert connected.startswith(f"For Rose: Connected with Priya on #{item}.")
    told = outbox(runner, PRIYA)[-1]["body"]
    assert told.startswith(f"Connected with Rose on #{item}.") and told.endswith(
        "Rose's trusted helper reads their texts too.")

    # Priya's relay reaches Sam, marked for Rose (and Rose, on her mobile, too).
    texts(runner, PRIYA, f"{item} I can come at 10am")
    assert outbox(runner, SAM)[-1]["body"].startswith("For Rose: ")
    assert outbox(runner, SAM)[-1]["body"].endswith("I can come at 10am")
    assert outbox(runner, ROSE)[-1]["body"].endswith("I can come at 10am")

    # DONE for Rose: the two hours are Rose's, received; Sam's balance does not move.
    texts(runner, SAM, f"FOR ROSE DONE {item} 2")
    [row] = json.loads(runner("ledger", "--json").stdout)["rows"]
    assert (row["giver"], row["receiver"], row["hours"], row["ref"]) == ("Priya", "Rose", 2.0, f"#{item}")
    assert "received 2h (1 time)" in texts(runner, ROSE, "BALANCE")[0]
    assert "given 0h (0 times) and received 0h (0 times)" in texts(runner, SAM, "BALANCE")[0]

    # Rose ends it (Sam is not told); the next digest reaches her and no copy reaches him.
    sam_before = len(outbox(runner, SAM))
    texts(runner, ROSE, "HELPER OFF")
    texts(runner, PRIYA, "POST Plant swap on the green, Sunday")
    digest(runner, clock)
    assert "Plant swap" in outbox(runner, ROSE, "digest")[-1]["body"]
    since_off = outbox(runner, SAM)[sam_before:]
    assert [row["kind"] for row in since_off] == ["digest"]  # his own digest; no copy, no "For Rose"
    assert not since_off[0]["body"].startswith("For Rose") and len(outbox(runner, SAM, "copy")) == 1

    # A stranger's FOR ROSE does nothing for Rose, and neither does Sam's now: no request of hers, nothing
    # sent to her or for her.
    rose_before = len(outbox(runner, ROSE))
    for number in (TOM, SAM):
        assert not any(reply.startswith("For Rose") for reply in texts(runner, number, "FOR ROSE NEED a new boiler"))
    assert len(outbox(runner, ROSE)) == rose_before and len(outbox(runner, SAM, "copy")) == 1
    [mine] = texts(runner, ROSE, "MY")
    assert mine.startswith("Nothing open.")  # her request is done; no new one was made for her
