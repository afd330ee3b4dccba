"""Private areas (a foster carers' network): invite codes, join requests, and nothing leaking out.

Codes good, expired, used up and wrong; five misses an hour lock a number out; JOIN
without a code asks the organisers, who ACCEPT or say NO; and a non-member never gets
one of the area's items by any path.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from sms_board.app import board_of
from sms_board.clock.jobs import tick
from sms_board.models import Invite, InviteAttempt, Subscription
from sms_board.plumbing.utc import utcnow
from tests.conftest import Phone, Runner, session_of

CAROL, DEV, EVE, SAM, RUTH = "+447700900111", "+447700900222", "+447700900333", "+447700900123", "+447700900001"
WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CODE = re.compile(r"^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{2}$")


@pytest.fixture
def clock():
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def carers(clock, areas, runner, phone) -> dict[str, Phone]:  # type: ignore[no-untyped-def]
    """Foster Carers (private, postcode SE4), organised by Ruth; Sam lives on Elm Street."""
    runner("area", "add", "carers", "Foster Carers", "--private", "--postcode", "SE4")
    people = {name: phone(number) for name, number in
              [("carol", CAROL), ("dev", DEV), ("eve", EVE), ("sam", SAM), ("ruth", RUTH)]}
    people["sam"].text("JOIN ELM")
    runner("organiser", "add", RUTH, "carers")
    return people


def invite(runner: Runner, *args: str) -> str:
    result = runner("area", "invite", "carers", *args)
    code = result.stdout.strip()
    assert result.stdout == code + "\n" and CODE.match(code), result.stdout
    return code


def member(app: Flask, number: str) -> bool:
    with session_of(app) as session:
        return session.scalar(
            select(func.count()).select_from(Subscription).join(Subscription.subscriber)
            .where(Subscription.status == "active", Subscription.subscriber.has(phone=number),
                   Subscription.area.has(slug="carers"))
        ) == 1


def run_clock(app: Flask) -> None:
    tick(board_of(app).sessions, board_of(app).settings, utcnow())


def notices(person: Phone) -> list[str]:
    return [row.body for row in person.received() if row.kind == "notify"]


# ── invite codes ───────────────────────────────────────────────────────────


def test_an_invite_code_joins_and_is_stored_only_as_a_hash(carers, app, runner):
    code = invite(runner, "--uses", "2")

    reply = carers["carol"].text(f"JOIN CARERS {code}")

    assert reply[0].startswith("Welcome to Foster Carers board.")
    assert member(app, CAROL)
    assert carers["dev"].text(f"join foster carers {code.lower().replace('-', '')}")[0].startswith("Welcome")
    with session_of(app) as session:
        stored = session.scalars(select(Invite)).one()
        assert code not in stored.code_hash and code.replace("-", "") not in stored.code_hash
        assert stored.uses_left == 0


def test_invites_are_for_private_areas_and_their_options_are_checked(carers, runner):
    public = runner("area", "invite", "elm", ok=False)
    assert public.exit_code == 1 and public.stderr == "Error: elm is public: anyone can text JOIN ELM.\n"
    assert runner("area", "invite", "carers", "--uses", "0", ok=False).exit_code == 2
    too_many = runner("area", "invite", "carers", "--uses", "99999999999999999999", ok=False)
    assert too_many.exit_code == 2 and "1<=x<=1000" in too_many.stderr
    assert "1<=x<=366" in runner("area", "invite", "carers", "--days", "10000000", ok=False).stderr
    assert runner("area", "invite", "nowhere", ok=False).stderr == "Error: no area 'nowhere'; see `sms-board area list`.\n"


def test_a_used_up_an_expired_and_a_wrong_code_each_get_a_clear_answer_and_are_counted(carers, app, runner, clock):
    once = invite(runner)
    carers["carol"].text(f"JOIN CARERS {once}")
    short = invite(runner, "--days", "1")

    assert carers["dev"].text(f"JOIN CARERS {once}") == [
        "That code for Foster Carers has been used up. Ask whoever gave it to you for a new one, or text "
        "JOIN CARERS to ask its organisers."]
    clock.shift(timedelta(days=1, minutes=1))
    assert carers["dev"].text(f"JOIN CARERS {short}") == [
        "That code for Foster Carers has expired. Ask whoever gave it to you for a new one, or text "
        "JOIN CARERS to ask its organisers."]
    assert carers["dev"].text("JOIN CARERS 2345-67") == [
        "That code isn't right for Foster Carers. Check it and try again, or text JOIN CARERS to ask its organisers."]
    assert not member(app, DEV)
    with session_of(app) as session:
        outcomes = session.scalars(select(InviteAttempt.outcome).order_by(InviteAttempt.id)).all()
    assert outcomes == ["joined", "used_up", "expired", "wrong"]


def test_five_wrong_codes_in_an_hour_lock_the_number_out_of_invites_for_an_hour(carers, app, runner, clock):
    good = invite(runner, "--days", "3")
    eve = carers["eve"]
    for guess in ("2222-22", "3333-33", "4444-44", "5555-55"):
        assert eve.text(f"JOIN CARERS {guess}")[0].startswith("That code isn't right")
        clock.shift(timedelta(minutes=5))

    fifth = eve.text("JOIN CARERS 6666-66")[0]
    assert fifth == ("That code isn't right for Foster Carers. Check it and try again after 13:20, "
                     "or text JOIN CARERS to ask its organisers.")
    locked = eve.text(f"JOIN CARERS {good}")[0]
    assert locked == ("Too many wrong codes from this number. Try again after 13:20, or text JOIN CARERS "
                      "to ask its organisers.")
    assert not member(app, EVE), "not even the right code while locked"
    assert carers["dev"].text(f"JOIN CARERS {good}")[0].startswith("Welcome"), "the lock is the number's only"

    clock.shift(timedelta(hours=1, minutes=1))
    assert eve.text(f"JOIN CARERS {good}")[0].startswith("That code for Foster Carers has been used up")


# ── join requests ──────────────────────────────────────────────────────────


def test_join_without_a_code_asks_the_organisers_who_accept(carers, app):
    carol, ruth = carers["carol"], carers["ruth"]
    carol.text("NAME Carol")

    reply = carol.text("JOIN CARERS")[0]
    request = re.search(r"#(J\d+)", reply).group(1)
    assert reply == (f"Thanks: your request to join Foster Carers has gone to its organisers (#{request}). "
                     "We'll text you when they answer. If you have a code, text JOIN CARERS <code>.")
    assert carol.text("JOIN CARERS")[0].startswith("Your request to join Foster Carers"), "asked once"
    run_clock(app)
    assert notices(ruth) == [f"Asking to join: #{request} Carol +44 7---- --111 (Foster Carers). "
                             f"Reply ACCEPT {request} or NO {request}."]
    assert carers["sam"].text(f"ACCEPT {request}")[0].startswith(f"We can't find {request}.")

    assert ruth.text(f"ACCEPT {request}") == [
        "Done: Carol (+44 7---- --111) is now in Foster Carers and has been welcomed."]

    assert member(app, CAROL)
    assert notices(carol)[-1].startswith("Welcome to Foster Carers board.")
    assert ruth.text(f"NO {request}") == [f"#{request} has been answered already."]


def test_an_organiser_can_say_no_and_the_resident_is_told(carers, app):
    dev, ruth = carers["dev"], carers["ruth"]
    request = re.search(r"#(J\d+)", dev.text("JOIN FOSTER CARERS")[0]).group(1)

    assert ruth.text(f"NO {request}") == ["Done: a neighbour (+44 7---- --222) won't join Foster Carers and has been told."]

    assert not member(app, DEV)
    assert notices(dev) == ["Sorry: the organisers of Foster Carers couldn't accept your request to join. "
                            "Text AREAS for the areas near you."]


# ── nothing leaks ──────────────────────────────────────────────────────────


def test_a_private_area_is_listed_nowhere_and_found_by_no_postcode(carers, client):
    sam = carers["sam"]
    assert "Foster Carers" not in sam.text("AREAS")[0]
    assert "CARERS" not in sam.text("JOIN")[0]
    assert "Welcome" not in sam.text("JOIN SE4 1AA")[0] and "Foster" not in sam.text("JOIN SE4 1AA")[0]
    # Suggestions by the nearest postcode, or for a name typed nearly right, list public areas only.
    for asked in ("AREAS SE4", "AREAS SE4 1AA", "JOIN SE4"):
        answer = " ".join(sam.text(asked))
        assert "Foster" not in answer and "CARERS" not in answer, (asked, answer)
    # A name nearly right, or a LEAVE for it, is answered as for a name no area has (the words echoed).
    for near, unknown in (("FOSTER CARER", "FOSTEX CAVEX"), ("CARER", "CAVEX")):
        assert sam.text(f"JOIN {near}") == [line.replace(unknown, near) for line in sam.text(f"JOIN {unknown}")]
    assert sam.text("LEAVE CARERS") == [line.replace("CAVERS", "CARERS") for line in sam.text("LEAVE CAVERS")]
    assert "Foster Carers" not in client.get("/").get_data(as_text=True)
    assert "Foster Carers" not in client.get("/board/elm").get_data(as_text=True)
    assert client.get("/board/carers").status_code == 404


def test_a_non_member_never_receives_a_private_item_by_any_path(carers, app, runner, client, clock):
    code = invite(runner, "--uses", "3")
    carol, dev, sam, ruth = carers["carol"], carers["dev"], carers["sam"], carers["ruth"]
    for person, name in ((carol, "Carol"), (dev, "Dev"), (sam, "Sam")):
        person.text(f"NAME {name}")
    carol.text(f"JOIN CARERS {code}")
    dev.text(f"JOIN CARERS {code}")
    ruth.text(f"JOIN CARERS {code}")
    clock.shift(timedelta(minutes=1))
    notice = re.search(r"#(N\d+)", carol.text("POST Respite weekend for carers, 12 Dec")[0]).group(1)
    request = re.search(r"#(R\d+)", carol.text("NEED Someone to sit with my foster son on Friday")[0]).group(1)
    offer = re.search(r"#(O\d+)", dev.text("OFFER Lifts to the family centre")[0]).group(1)
    dev.text(f"CAN {request}")
    carol.text(f"OK {request}")
    carol.text(f"{request} Thank you, Dev")
    carol.text(f"DONE {request} 2h")
    clock.shift(timedelta(minutes=1))
    runner("digest")
    ruth.text("BROADCAST Carers' coffee morning Thursday")
    ruth.text("YES")
    run_clock(app)

    private_words = ("Respite", "foster son", "family centre", "Thank you, Dev", "coffee morning")
    answers = [sam.text(f"CAN {request}"), sam.text(f"ASK {offer}"), sam.text(f"{request} hello"),
               sam.text(f"REPORT {notice}"), sam.text("MY"), sam.text("MORE")]
    for where in (answers, [row.body for row in sam.received()],
                  [client.get("/board/carers").get_data(as_text=True), client.get("/").get_data(as_text=True)],
                  [json.dumps(json.loads(runner("ledger", "--json").stdout)), runner("ledger", "--csv").stdout]):
        said = json.dumps(where)
        assert not any(words in said for words in private_words), said
    assert any("Respite" in row.body for row in dev.received()), "members do get them"
    ledger = json.loads(runner("ledger", "--json").stdout)
    assert (ledger["exchanges"], ledger["private_rows_withheld"]) == (1, 1)
    assert "foster son" in runner("ledger", "--area", "carers", "--csv").stdout, "asked for by name, it shows"
