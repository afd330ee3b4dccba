"""Moderation as organisers and residents meet it: held posts, NAME first, APPROVE and REJECT.

Each policy end to end: a resident posts, the organisers are told (one text per 15
minutes), an organiser approves or rejects, the author is told, and the digest and the
public board show the post or do not.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from sms_board.app import board_of
from sms_board.clock.jobs import tick
from sms_board.community.item_lifecycle import HELD, transition
from sms_board.community.moderation import Outcome, reject
from sms_board.dashboard.moderation_queue import told
from sms_board.models import AuditEntry, Item, ItemStatus, Response, Subscriber
from sms_board.plumbing.utc import utcnow
from tests.conftest import Phone, Runner, session_of, texts_at_once

SAM, PRIYA, JOE, RUTH, OLIVE = "+447700900123", "+447700900456", "+447700900789", "+447700900001", "+447700900002"
WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as traveller:
        yield traveller


def lane(runner: Runner, phone, clock, moderation: str) -> dict[str, Phone]:  # type: ignore[no-untyped-def]
    """Quiet Lane with the given policy, Ruth its organiser; Sam (named), Priya and Joe live there.

    Oak Road next door (open) is organised by Olive.
    """
    runner("area", "add", "quiet", "Quiet Lane", "--postcode", "SE9", "--moderation", moderation)
    runner("area", "add", "oak", "Oak Road", "--postcode", "SE6")
    people = {}
    for number, name, area in [(SAM, "Sam", "QUIET"), (PRIYA, "Priya", "QUIET"), (JOE, None, "QUIET"),
                               (RUTH, "Ruth", "QUIET"), (OLIVE, "Olive", "OAK")]:
        person = phone(number)
        person.text(f"JOIN {area}")
        if name:
            person.text(f"NAME {name}")
        people[(name or "joe").lower()] = person
    runner("organiser", "add", RUTH, "quiet")
    runner("organiser", "add", OLIVE, "oak")
    clock.shift(timedelta(minutes=1))
    return people


@pytest.fixture
def quiet_all(runner, phone, clock):  # type: ignore[no-untyped-def]
    return lane(runner, phone, clock, "all")


@pytest.fixture
def quiet_first(runner, phone, clock):  # type: ignore[no-untyped-def]
    return lane(runner, phone, clock, "first")


def run_clock(app: Flask) -> dict[str, int]:
    return tick(board_of(app).sessions, board_of(app).settings, utcnow())


def texts(person: Phone) -> list[str]:
    """Texts to one person (alerts, decisions): not digests."""
    return [row.body for row in person.received() if row.kind == "notify"]


def digest_now(runner: Runner) -> None:
    runner("digest")


def digests(person: Phone) -> list[str]:
    return [row.body for row in person.received() if row.kind == "digest"]


def ref(reply: str) -> str:
    found = re.search(r"#([NROJ]\d+)", reply)
    assert found, reply
    return found.group(1)


def board_page(client, slug: str = "quiet") -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/board/{slug}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# ── each policy, end to end ────────────────────────────────────────────────


@pytest.mark.parametrize(("policy", "first_held", "second_held"), [
    ("open", False, False), ("first", True, False), ("all", True, True),
])
def test_each_policy_end_to_end(runner, phone, clock, app, client, policy, first_held, second_held):
    people = lane(runner, phone, clock, policy)
    sam, priya, ruth = people["sam"], people["priya"], people["ruth"]

    first = ref(sam.text("POST Plant swap on Saturday")[0])
    run_clock(app)
    assert len(texts(ruth)) == int(first_held), "organisers hear of held posts only"
    clock.shift(timedelta(minutes=1))
    digest_now(runner)
    assert ("Plant swap" in " ".join(digests(priya))) is not first_held
    assert ("Plant swap" in board_page(client)) is not first_held

    if first_held:
        ruth.text(f"APPROVE {first}")
        assert texts(sam)[-1].startswith(f"Your post #{first} is up")
        clock.shift(timedelta(minutes=1))
        digest_now(runner)
        assert "Plant swap" in digests(priya)[-1] and "Plant swap" in board_page(client)

    second = sam.text("POST Litter pick on Sunday")[0]
    assert ("waits for an organiser's OK" in second) is second_held
    assert second.startswith("Posted as") is not second_held


# ── `all`: every post waits ─────────────────────────────────────────────────


def test_an_option_the_board_accepts_takes_effect_a_held_post_is_in_no_digest_until_approved(
    quiet_all, app, runner, client, clock,
):
    sam, priya, ruth = quiet_all["sam"], quiet_all["priya"], quiet_all["ruth"]

    reply = sam.text("POST Free piano, collect by Friday")[0]
    notice = ref(reply)
    assert reply == (f"Thanks: #{notice} waits for an organiser's OK before neighbours in Quiet Lane see it. "
                     "We'll text you when it's up.")
    digest_now(runner)
    assert digests(priya) == []
    assert "Free piano" not in board_page(client)

    run_clock(app)
    assert texts(ruth) == [f"1 post waits: #{notice} Sam 'Free piano...'.\n"
                           f"Reply APPROVE {notice} or REJECT {notice} <reason>."]

    assert ruth.text(f"APPROVE {notice}") == [f"Approved #{notice}: it's up on Quiet Lane and Sam has been told."]
    assert texts(sam)[-1] == f"Your post #{notice} is up on Quiet Lane board: an organiser approved it."
    clock.shift(timedelta(minutes=1))
    digest_now(runner)
    assert len(digests(priya)) == 1 and f"#{notice} Sam: Free piano, collect by Friday" in digests(priya)[0]
    assert "Free piano" in board_page(client)


def test_a_rejected_post_never_appears_and_its_author_hears_why(quiet_all, app, runner, client):
    sam, priya, ruth = quiet_all["sam"], quiet_all["priya"], quiet_all["ruth"]
    notice = ref(sam.text("POST Cheap watches, text me")[0])

    assert ruth.text(f"REJECT {notice} selling is not allowed here") == [
        f"Rejected #{notice}: neighbours won't see it, and Sam has been told why."]

    assert texts(sam)[-1] == (f"#{notice} (\"Cheap watches, text me\") won't be on Quiet Lane board: an organiser "
                              "turned it down. Reason: selling is not allowed here")
    digest_now(runner)
    assert digests(priya) == []
    assert "watches" not in board_page(client)
    assert ruth.text(f"APPROVE {notice}") == [f"#{notice} is not waiting for a decision."]
    run_clock(app)
    assert texts(ruth) == [], "what was decided before the notice went is left out of it"


def test_requests_and_offers_wait_too_and_cannot_be_answered_until_approved(quiet_all, app):
    sam, priya, ruth = quiet_all["sam"], quiet_all["priya"], quiet_all["ruth"]
    request = ref(sam.text("NEED Lift to the GP on Thursday")[0])
    offer = ref(sam.text("OFFER I can walk dogs")[0])

    assert priya.text(f"CAN {request}")[0].startswith(f"We can't find {request}.")
    priya.text(f"ASK {offer}")
    with session_of(app) as session:
        assert session.scalars(select(Response)).all() == [], "nobody can answer a held post"
    assert texts(sam) == []
    assert "Lift" not in priya.text("MY")[0]
    assert sam.text("MY")[0] == (f"Open:\n#{request} Lift to the GP on Thursday (waits for OK)\n"
                                 f"#{offer} I can walk dogs (waits for OK)")

    ruth.text(f"APPROVE {request}")
    assert priya.text(f"CAN {request}")[0].startswith("Thanks")
    with session_of(app) as session:
        assert session.get(Item, int(request[1:])).expires_at is not None, "a request's time runs from approval"


# ── `first`: a resident's first post waits; once one is approved the rest go at once ──


def test_first_policy_holds_until_one_post_is_approved_then_publishes(quiet_first, app, runner):
    sam, priya, ruth = quiet_first["sam"], quiet_first["priya"], quiet_first["ruth"]
    first = ref(sam.text("POST Plant swap on Saturday")[0])
    assert "waits for an organiser's OK" in sam.text("POST Second post before approval")[0]

    ruth.text(f"APPROVE {first}")

    assert sam.text("POST Litter pick on Sunday")[0].startswith("Posted as #N")
    assert "waits for an organiser's OK" in priya.text("POST My very first post")[0], "the hold is per author"
    assert ruth.text("POST Residents' meeting Tuesday")[0].startswith("Posted as"), "organisers are never held"


# ── NAME first where posts can be held ──────────────────────────────────────


def test_without_a_name_the_post_is_kept_and_goes_for_moderation_when_the_name_arrives(quiet_all, app):
    joe, ruth = quiet_all["joe"], quiet_all["ruth"]
    reply = joe.text("POST Ladder to lend")[0]
    notice = ref(reply)
    assert reply == (f"Posts in Quiet Lane carry their author's name. Text NAME <first name> (e.g. NAME Sam) and "
                     f"#{notice} goes on; it's kept till then. Your number is never shown.")
    run_clock(app)
    assert texts(ruth) == [], "nothing to moderate yet"

    assert joe.text("NAME Joe") == [
        "Thanks, Joe. Your posts will be signed \"Joe\". Your number is never shown.\n"
        f"#{notice} now waits for an organiser's OK."]
    run_clock(app)
    assert texts(ruth) == [f"1 post waits: #{notice} Joe 'Ladder to lend'.\n"
                           f"Reply APPROVE {notice} or REJECT {notice} <reason>."]


def test_approve_waits_for_the_authors_name(quiet_first, app):
    joe, ruth = quiet_first["joe"], quiet_first["ruth"]
    notice = ref(joe.text("POST Ladder to lend")[0])

    assert ruth.text(f"APPROVE {notice}") == [
        f"#{notice} is waiting for its author's NAME first. You'll hear when it's ready."]

    assert joe.text("NAME Joe")[0].endswith(f"#{notice} now waits for an organiser's OK.")
    assert ruth.text(f"APPROVE {notice}")[0].startswith(f"Approved #{notice}")
    assert joe.text("POST Second ladder")[0].startswith("Posted as"), "the hold is lifted"


def test_open_areas_need_no_name(areas, phone):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    assert sam.text("POST Lost ginger cat")[0].startswith("Posted as #N")


# ── batched notices ─────────────────────────────────────────────────────────


def test_organisers_get_at_most_one_text_per_15_minutes_naming_the_refs_and_the_count(quiet_all, app, clock):
    sam, priya, ruth = quiet_all["sam"], quiet_all["priya"], quiet_all["ruth"]
    refs = [ref(sam.text("POST Free piano, collect by Friday")[0]), ref(priya.text("POST Lost cat")[0]),
            ref(sam.text("NEED Lift to the GP")[0])]

    run_clock(app)
    assert texts(ruth) == [
        f"3 posts wait: #{refs[0]} Sam 'Free piano...', #{refs[1]} Priya 'Lost cat', "
        f"#{refs[2]} Sam 'Lift to the GP'.\nReply APPROVE {refs[0]} or REJECT {refs[0]} <reason>."]

    later = ref(priya.text("OFFER Spare seedlings")[0])
    clock.shift(timedelta(minutes=5))
    run_clock(app)
    assert len(texts(ruth)) == 1, "no second text within 15 minutes"
    clock.shift(timedelta(minutes=11))
    run_clock(app)
    assert texts(ruth)[-1] == (f"1 post waits: #{later} Priya 'Spare seedlings'.\n"
                               f"Reply APPROVE {later} or REJECT {later} <reason>.")


# ── who may moderate ────────────────────────────────────────────────────────


def test_only_the_areas_organisers_or_an_administrator_may_moderate(quiet_all, app, runner):
    sam, priya, olive = quiet_all["sam"], quiet_all["priya"], quiet_all["olive"]
    notice = ref(sam.text("POST Free piano")[0])

    assert priya.text(f"APPROVE {notice}") == ["Only an area's organisers can use APPROVE. Nothing has changed."]
    assert priya.text(f"REJECT {notice} spam") == ["Only an area's organisers can use REJECT. Nothing has changed."]
    assert olive.text(f"APPROVE {notice}")[0].startswith(f"We can't find {notice}."), "another area's held post"
    published = ref(olive.text("POST Oak Road fete")[0])
    assert quiet_all["ruth"].text(f"REJECT {published}") == [
        f"Only the organisers of Oak Road can use REJECT on #{published}. Nothing has changed."]
    with session_of(app) as session:
        assert session.get(Item, int(notice[1:])).status == "pending"
        assert session.get(Item, int(published[1:])).status == "published"
        assert session.scalars(select(AuditEntry).where(AuditEntry.channel == "sms")).all() == [], \
            "no decision was recorded"

    runner("admin", "add", PRIYA)
    assert priya.text(f"APPROVE {notice}")[0].startswith(f"Approved #{notice}")


def test_every_decision_is_in_the_audit_log(quiet_all, app, runner):
    import json

    sam, ruth = quiet_all["sam"], quiet_all["ruth"]
    kept, dropped = ref(sam.text("POST Free piano")[0]), ref(sam.text("POST Buy my watches")[0])
    ruth.text(f"APPROVE {kept}")
    ruth.text(f"REJECT {dropped} no selling")

    log = [e for e in json.loads(runner("audit", "--area", "quiet", "--json").stdout) if e["channel"] == "sms"]
    assert [(e["action"], e["item"], e["who"], e["channel"]) for e in log] == [
        ("approve", kept, "Ruth +44 7•••• ••001", "sms"), ("reject", dropped, "Ruth +44 7•••• ••001", "sms")]
    assert log[1]["detail"] == {"reason": "no selling", "was": "pending", "reports": 0}
    assert [e["action"] for e in json.loads(runner("audit", "--area", "oak", "--json").stdout)] == \
        ["area_add", "organiser_add"], "only how Oak Road was set up"


# ── one decision per post (`community.item_lifecycle`) ─────────────────────


def test_a_rejected_post_is_never_approved_nor_a_closed_one_reopened(quiet_all, app):
    sam, ruth = quiet_all["sam"], quiet_all["ruth"]
    rejected, closed = ref(sam.text("POST Cheap watches")[0]), ref(sam.text("POST Plant swap")[0])
    ruth.text(f"REJECT {rejected} no selling")
    sam.text(f"CLOSE {closed}")

    assert ruth.text(f"APPROVE {rejected}") == [f"#{rejected} is not waiting for a decision."]
    assert ruth.text(f"REJECT {closed}") == [f"#{closed} is not waiting for a decision."]
    assert sam.text(f"CLOSE {closed}") == [f"#{closed} is no longer open. Text MY for your open items."]
    with session_of(app) as session:
        # The machine itself refuses: no way into `published` starts from a finished item.
        for number in (rejected, closed):
            item = session.get(Item, int(number[1:]))
            assert not transition(session, item, ItemStatus.PUBLISHED, allowed_from=(*HELD, ItemStatus.HIDDEN),
                                  now=utcnow())
        session.commit()
    with session_of(app) as session:
        assert [session.get(Item, int(n[1:])).status for n in (rejected, closed)] == ["rejected", "closed"]


def _approvals(app: Flask, notice: str) -> int:
    with session_of(app) as session:
        return len(session.scalars(select(AuditEntry).where(AuditEntry.action == "approve",
                                                            AuditEntry.item_id == int(notice[1:]))).all())


@pytest.mark.postgres_only(reason="two sessions deciding at once: SQLite lets one writer in at a time")
def test_a_decision_taken_on_a_stale_view_is_refused_and_the_organiser_told(quiet_all, app, runner):
    sam, ruth = quiet_all["sam"], quiet_all["ruth"]
    runner("organiser", "add", OLIVE, "quiet")
    notice = ref(sam.text("POST Plant swap on Saturday")[0])
    board = board_of(app)
    with board.sessions() as session:
        item = session.get(Item, int(notice[1:]))  # Olive's dashboard shows it held …
        olive = session.scalar(select(Subscriber).where(Subscriber.phone == OLIVE))
        assert item is not None and olive is not None and item.status == "pending"
        # … while Ruth approves it by SMS …
        assert ruth.text(f"APPROVE {notice}")[0].startswith(f"Approved #{notice}")
        # … and then Olive's REJECT arrives: it was decided on what she saw, so it changes nothing.
        outcome, ended = reject(session, board.settings, item, olive, "not local", utcnow(), channel="web")
        assert (outcome, ended) == (Outcome.ALREADY_DECIDED, [])
        assert told(outcome, item) == (f"#{notice} was decided a moment ago (it's now published), "
                                       "so your decision changed nothing.")
        session.commit()
    with session_of(app) as session:
        assert session.get(Item, int(notice[1:])).status == "published"
        assert not session.scalars(select(AuditEntry).where(AuditEntry.action == "reject")).all()
    assert [t for t in texts(sam) if "approved" in t or "turned it down" in t] == [
        f"Your post #{notice} is up on Quiet Lane board: an organiser approved it."]


@pytest.mark.postgres_only(reason="two organisers' texts in parallel: SQLite lets one writer in at a time")
def test_two_organisers_approving_one_post_at_the_same_moment_decide_it_once(quiet_all, app, runner):
    sam = quiet_all["sam"]
    runner("organiser", "add", OLIVE, "quiet")
    notice = ref(sam.text("POST Plant swap on Saturday")[0])
    replies = texts_at_once(app, {RUTH: f"APPROVE {notice}", OLIVE: f"APPROVE {notice}"})
    won = [answer for answer, *_ in replies.values() if answer.startswith(f"Approved #{notice}")]
    lost = [answer for answer, *_ in replies.values() if answer not in won]
    assert len(won) == len(lost) == 1, replies
    assert lost[0] in (f"#{notice} is not waiting for a decision.",
                          f"#{notice} was decided a moment ago (it's now published), so your decision changed nothing.")
    assert _approvals(app, notice) == 1
    assert [t for t in texts(sam) if "approved" in t] == [
        f"Your post #{notice} is up on Quiet Lane board: an organiser approved it."]
