"""REPORT as neighbours and organisers meet it: the organisers hear, enough reports hide a post
until an organiser decides, nobody reports twice, and the author never learns who reported."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask

from sms_board import create_app
from sms_board.app import board_of
from sms_board.clock.jobs import tick
from sms_board.plumbing.utc import utcnow
from tests.conftest import Phone, Runner, app_config, send_everything

SAM, PRIYA, JOE, ADA, RUTH, BEN = (
    "+447700900123", "+447700900456", "+447700900789", "+447700900321", "+447700900001", "+447700900654")
WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def street(clock, areas, phone, runner) -> dict[str, Phone]:  # type: ignore[no-untyped-def]
    """Elm Street (open): Sam posts; Priya, Joe and Ada live there; Ruth organises; Ben is by the river."""
    people = {}
    for number, name, area in [(SAM, "Sam", "ELM"), (PRIYA, "Priya", "ELM"), (JOE, "Joe", "ELM"),
                               (ADA, "Ada", "ELM"), (RUTH, "Ruth", "ELM"), (BEN, "Ben", "RIVER")]:
        person = phone(number)
        person.text(f"JOIN {area}")
        person.text(f"NAME {name}")
        people[name.lower()] = person
    runner("organiser", "add", RUTH, "elm")
    clock.shift(timedelta(minutes=1))
    return people


def run_clock(app: Flask) -> None:
    tick(board_of(app).sessions, board_of(app).settings, utcnow())


def texts(person: Phone) -> list[str]:
    """Texts to one person (alerts, decisions): not digests."""
    return [row.body for row in person.received() if row.kind == "notify"]


def ref(reply: str) -> str:
    found = re.search(r"#([NRO]\d+)", reply)
    assert found, reply
    return found.group(1)


def on_the_board(client, words: str) -> bool:  # type: ignore[no-untyped-def]
    return words in client.get("/board/elm").get_data(as_text=True)


def test_a_report_reaches_the_inbox_and_thanks_the_resident(street, inbound_rows):
    notice = ref(street["sam"].text("POST Free piano, collect by Friday")[0])

    assert street["priya"].text(f"REPORT {notice}") == [
        f"Thanks: the organisers will look at #{notice}. Nobody is told who reported it."]
    assert inbound_rows()[-1].body == f"REPORT {notice}" and inbound_rows()[-1].in_inbox


def test_three_reports_from_different_neighbours_hide_a_post_until_an_organiser_restores_it(street, app, client):
    sam, ruth = street["sam"], street["ruth"]
    notice = ref(sam.text("POST Free piano, collect by Friday")[0])
    street["priya"].text(f"REPORT {notice}")
    run_clock(app)
    assert texts(ruth) == [f"Reported: #{notice} 'Free piano...' (1).\n"
                           f"Reply APPROVE {notice} or REJECT {notice} <reason>."]
    street["joe"].text(f"REPORT {notice}")
    assert on_the_board(client, "Free piano"), "two reports are not enough"

    street["ada"].text(f"REPORT {notice}")

    assert not on_the_board(client, "Free piano")
    assert street["ben"].text(f"CAN {notice}")[0].startswith(f"We can't find {notice}.")
    assert texts(sam) == [f"#{notice} (\"Free piano, collect by Friday\") is hidden for now: neighbours reported it "
                          "and an organiser will look. We'll tell you what they decide."]
    assert ruth.text(f"APPROVE {notice}") == [
        f"#{notice} is back up on Elm Street; its reports are set aside and Sam has been told."]
    assert on_the_board(client, "Free piano")
    assert texts(sam)[-1] == (f"#{notice} (\"Free piano, collect by Friday\") is back on Elm Street board: "
                              "an organiser looked at it and kept it.")


def test_an_organiser_keeps_a_reported_post_up_and_its_reports_are_set_aside(street, app, client):
    """One report is not enough to hide a post; APPROVE keeps it up and the report no longer waits."""
    notice = ref(street["sam"].text("POST Free piano, collect by Friday")[0])
    street["priya"].text(f"REPORT {notice}")

    assert street["ruth"].text(f"APPROVE {notice}") == [f"#{notice} stays up; its reports are set aside."]

    assert on_the_board(client, "Free piano")
    assert street["ruth"].text(f"APPROVE {notice}") == [f"#{notice} is not waiting for a decision."]


def test_reject_removes_a_hidden_post(street, app, client, db, tmp_path):
    hide_at_one = create_app(app_config(db, tmp_path, SMS_BOARD_REPORT_HIDE="1"))
    client = hide_at_one.test_client()
    sam, priya, ruth = Phone(client, SAM), Phone(client, PRIYA), Phone(client, RUTH)
    notice = ref(sam.text("POST Buy cheap watches")[0])
    priya.text(f"REPORT {notice}")
    assert not on_the_board(client, "watches")

    assert ruth.text(f"REJECT {notice} no selling")[0].startswith(f"Rejected #{notice}")

    assert Phone(client, SAM).received()[-1].body.endswith("an organiser turned it down. Reason: no selling")
    assert ruth.text(f"APPROVE {notice}") == [f"#{notice} is not waiting for a decision."]
    assert not on_the_board(client, "watches")


def test_nobody_reports_twice_nor_their_own_post_nor_another_areas(street, app):
    sam, priya = street["sam"], street["priya"]
    notice = ref(sam.text("POST Free piano")[0])
    priya.text(f"REPORT {notice}")

    assert priya.text(f"REPORT {notice}") == [f"You've already reported #{notice}: the organisers know."]
    assert sam.text(f"REPORT {notice}") == [f"#{notice} is yours. Text CLOSE {notice} to take it down."]
    assert street["ben"].text(f"REPORT {notice}") == [f"Only neighbours in Elm Street can report #{notice}."]
    assert priya.text("REPORT N999")[0].startswith("We can't find N999.")
    run_clock(app)
    assert texts(street["ruth"])[0].startswith(f"Reported: #{notice} 'Free piano' (1)."), "one report counted once"


def test_the_author_never_learns_who_reported(street, app, db, tmp_path):
    hide_at_two = create_app(app_config(db, tmp_path, SMS_BOARD_REPORT_HIDE="2"))
    client = hide_at_two.test_client()
    sam = Phone(client, SAM)
    notice = ref(sam.text("POST Free piano")[0])
    Phone(client, PRIYA).text(f"REPORT {notice}")
    Phone(client, JOE).text(f"REPORT {notice}")
    run_clock(hide_at_two)
    Runner(hide_at_two)("digest")

    said = " ".join(texts(sam) + sam.text("MY"))
    assert "hidden for now" in said
    for who in ("Priya", "Joe", "900456", "900789"):
        assert who not in said


def test_a_hidden_post_is_withdrawn_from_digest_pages_that_more_still_reads(street, runner, clock):
    sam, priya = street["sam"], street["priya"]
    long = "a fairly long line about something happening on the street this week, with the details"
    refs = [ref(sam.text(f"POST Notice {n}: {long}")[0]) for n in range(1, 8)]
    clock.shift(timedelta(minutes=1))
    runner("digest")
    first_page = next(row.body for row in priya.received() if row.kind == "digest")
    later = next(r for r in reversed(refs) if f"#{r} " not in first_page)
    for person in ("joe", "ada", "ruth"):
        street[person].text(f"REPORT {later}")

    pages = []
    while "That's all" not in (page := priya.text("MORE")[0]):
        pages.append(page)

    shown = "\n".join(pages)
    assert f"#{later} (withdrawn)" in shown
    assert not any(line.startswith(f"#{later} Sam") for line in shown.splitlines())


@pytest.mark.parametrize("sent", [False, True], ids=["digest-waiting", "digest-sent"])
def test_a_hidden_post_leaves_digests_still_waiting_and_what_was_sent_stays(street, app, runner, clock, sent):
    from sqlalchemy import select

    from sms_board.models import Outbox
    from tests.conftest import session_of

    sam = street["sam"]
    notice = ref(sam.text("POST Cheap tickets, text my cousin on 07700 900999")[0])
    kept = ref(street["joe"].text("POST Street clean-up on Sunday")[0])
    clock.shift(timedelta(minutes=1))
    runner("digest")
    if sent:
        send_everything(app)
    for person in ("joe", "ada", "ruth"):
        street[person].text(f"REPORT {notice}")

    with session_of(app) as session:
        digests = list(session.scalars(select(Outbox).where(Outbox.kind == "digest")))
    priyas = next(row for row in digests if row.to_number == PRIYA)
    if sent:
        assert priyas.status == "sent" and f"#{notice} Sam: Cheap tickets" in priyas.body, \
            "a text already sent is not rewritten"
    else:
        assert f"#{notice} (withdrawn)" in priyas.body and "900999" not in priyas.body
        assert priyas.status == "queued"
    assert f"#{kept} Joe: Street clean-up on Sunday" in priyas.body, "the other posts stay"
