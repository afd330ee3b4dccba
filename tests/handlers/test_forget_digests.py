"""FORGET reaches the digests neighbours were sent: the forgotten person's posts and name leave
the first pages already written (sent or still waiting) and the pages MORE reads."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from sms_board.models import DigestBatch, Outbox
from sms_board.text.segments import analyse
from tests.conftest import Phone, send_everything, session_of

SAM, PRIYA, JOE = "+447700900123", "+447700900456", "+447700900789"
WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SECRET = "Spare piano stool outside 12B Elm Street"
REMOVED = "(removed at the author's request)"


@pytest.fixture
def clock():
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def street(clock, areas, phone) -> dict[str, Phone]:  # type: ignore[no-untyped-def]
    people = {}
    for number, name in [(SAM, "Sam"), (PRIYA, "Priya"), (JOE, "Joe")]:
        person = phone(number)
        person.text("JOIN ELM")
        person.text(f"NAME {name}")
        people[name.lower()] = person
    clock.shift(timedelta(minutes=1))
    return people


def ref(reply: str) -> str:
    found = re.search(r"#([NRO]\d+)", reply)
    assert found, reply
    return found.group(1)


def digests(app) -> list[Outbox]:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return list(session.scalars(select(Outbox).where(Outbox.kind == "digest").order_by(Outbox.id)))


def stored_pages(app) -> str:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return "\n".join(f"{b.body}\n{b.reminder}\n" + "\n".join(b.pages) for b in session.scalars(select(DigestBatch)))


@pytest.mark.parametrize("sent", [False, True], ids=["digest-waiting", "digest-sent"])
def test_forget_takes_the_persons_posts_out_of_digests_already_written(street, app, runner, clock, sent):
    sam, joe = street["sam"], street["joe"]
    joes = ref(joe.text("POST Bake sale on Saturday at the church hall")[0])
    sams = ref(sam.text(f"POST {SECRET}")[0])
    clock.shift(timedelta(minutes=1))
    runner("digest")
    if sent:
        send_everything(app)
    before = {row.id: row for row in digests(app)}
    priyas = next(row for row in before.values() if row.to_number == PRIYA)
    assert f"#{sams} Sam: {SECRET}" in priyas.body and f"#{joes} Joe: Bake sale" in priyas.body

    sam.text("FORGET")
    sam.text("YES")

    after = {row.id: row for row in digests(app)}
    neighbours = [row for row in after.values() if row.to_number in (PRIYA, JOE)]
    assert len(neighbours) == 2
    for row in neighbours:
        assert SECRET not in row.body and "Sam" not in row.body
        assert f"#{sams} {REMOVED}" in row.body
        if row.to_number == PRIYA:
            assert f"#{joes} Joe: Bake sale on Saturday at the church hall" in row.body, "other posts stay"
        assert row.status == before[row.id].status
        if sent:
            assert row.status == "sent" and row.segments == before[row.id].segments, "a sent text keeps what it cost"
        else:
            assert (row.segments, row.encoding) == (analyse(row.body).segments, analyse(row.body).encoding)
    assert SECRET not in stored_pages(app) and "Sam:" not in stored_pages(app)


def test_forget_takes_the_persons_posts_out_of_the_pages_more_reads(street, app, runner, clock):
    sam, priya, joe = street["sam"], street["priya"], street["joe"]
    long = "a fairly long line about something happening on the street this week, with all the details"
    joes = [ref(joe.text(f"POST Notice {n}: {long}")[0]) for n in range(1, 7)]
    sams = ref(sam.text(f"POST {SECRET}")[0])
    clock.shift(timedelta(minutes=1))
    runner("digest")
    first_page = next(row.body for row in priya.received() if row.kind == "digest")
    assert f"#{sams} " not in first_page, "the test needs Sam's post on a later page"

    sam.text("FORGET")
    sam.text("YES")
    pages = []
    while "That's all" not in (page := priya.text("MORE")[0]):
        pages.append(page)

    shown = "\n".join(pages)
    assert f"#{sams} {REMOVED}" in shown
    assert SECRET not in shown and "Sam" not in shown
    assert all(f"#{r} " in first_page + shown for r in joes), "Joe's posts are all still there"
