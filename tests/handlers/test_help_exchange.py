"""The help exchange end to end, through the signed webhook: ask, offer, connect, relay, done."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from sms_board.app import board_of
from sms_board.community.item_lifecycle import (
    WAITING_RESPONSES,
    transition_match,
    transition_response,
)
from sms_board.models import (
    Exchange,
    Item,
    ItemEvent,
    Match,
    MatchStatus,
    Response,
    ResponseStatus,
    Subscriber,
)
from sms_board.plumbing.utc import utcnow
from sms_board.sending.sender import drain
from sms_board.text.segments import analyse
from tests.conftest import session_of, texts_at_once

SAM, PRIYA, JOE, RUTH, ADA = "+447700900123", "+447700900456", "+447700900789", "+447700900001", "+447700900321"


def ref_in(text: str, letter: str) -> str:
    found = re.search(rf"#({letter}\d+)", text)
    assert found, f"no #{letter} ref in {text!r}"
    return found.group(1)


@pytest.fixture
def street(areas, phone):
    """Sam, Priya and Joe live on Elm Street and have names; Ada lives by the river."""
    people = {}
    for number, name, area in [(SAM, "Sam", "ELM"), (PRIYA, "Priya", "ELM"), (JOE, "Joe", "ELM"), (ADA, "Ada", "RIVER")]:
        person = phone(number)
        person.text(f"JOIN {area}")
        person.text(f"NAME {name}")
        people[name.lower()] = person
    return people


def sent_a_while_ago(app) -> None:  # type: ignore[no-untyped-def]
    """The sender ran a minute ago: what was queued then has reached the phones (not a reply machine's speed)."""
    board = board_of(app)
    earlier = utcnow() - timedelta(minutes=1)
    assert drain(board.sessions, board.transport, replace(board.settings, rate=1000), now=lambda: earlier).sent


def last_text(person) -> str:
    received = person.received()
    assert received, f"{person.number} received nothing"
    return received[-1].body


def test_need_gets_a_request_ref_and_a_neighbour_can_offer(street, app):
    sam, priya = street["sam"], street["priya"]
    reply = sam.text("NEED Lift to the GP on Thursday morning")[0]
    ref = ref_in(reply, "R")
    assert "We'll text you when a neighbour offers" in reply

    answer = priya.text(f"CAN {ref}")[0]
    assert "passed your offer on" in answer
    told = last_text(sam)
    assert f"Priya (Elm Street) can help with #{ref}" in told
    assert f"OK {ref}" in told
    assert PRIYA not in told and "900456" not in told


@pytest.mark.parametrize("form", ["CAN {ref}", "OFFER {ref}", "OFFER #{num}", "can {num}", "offer {num}", "CAN #{num}"])
def test_every_way_of_naming_a_request_offers_on_it(street, form):
    ref = ref_in(street["sam"].text("NEED Help moving a sofa")[0], "R")
    reply = street["priya"].text(form.format(ref=ref, num=ref[1:]))[0]
    assert "passed your offer on" in reply


def test_offer_with_a_number_and_words_is_a_standing_offer(street):
    street["sam"].text("NEED a ladder")  # #R1 exists, but "2 bags" is not a ref
    reply = street["priya"].text("OFFER 2 bags of apples from my tree")[0]
    assert "Your offer is #O" in reply


def test_ok_connects_and_relays_both_ways_without_numbers(street, app):
    sam, priya = street["sam"], street["priya"]
    ref = ref_in(sam.text("NEED Lift to the GP")[0], "R")
    priya.text(f"CAN {ref}")
    reply = sam.text(f"OK {ref}")[0]
    assert reply.startswith("Connected with Priya") and f"Text {ref} <message>" in reply
    assert last_text(priya).startswith("Connected with Sam")

    assert sam.text(f"{ref} Thursday 9am at the corner? 😊") == []
    relayed = last_text(priya)
    assert relayed == f"{ref} Sam: Thursday 9am at the corner? 😊"
    assert priya.received()[-1].kind == "relay"

    priya.text(f"#{ref[1:]} See you then")
    assert last_text(sam) == f"{ref} Priya: See you then"
    for person in (sam, priya):
        assert all(SAM not in t.body and PRIYA not in t.body for t in person.received())


def test_a_relay_keeps_the_senders_letters_as_written(street):
    sam, priya = street["sam"], street["priya"]
    ref = ref_in(sam.text("NEED Lift to the GP")[0], "R")
    priya.text(f"CAN {ref}")
    sam.text(f"OK {ref}")
    sam.text(f"{ref} Diolch \u2014 wela i chi ddydd Iau wrth y t\u0177 \u0175yn")
    assert last_text(priya) == f"{ref} Sam: Diolch - wela i chi ddydd Iau wrth y t\u0177 \u0175yn"
    priya.text(f"{ref} Dzi\u0119kuj\u0119, do zobaczenia \u017ce\u0144")
    assert last_text(sam) == f"{ref} Priya: Dzi\u0119kuj\u0119, do zobaczenia \u017ce\u0144"


def test_a_third_person_cannot_relay(street):
    sam, priya, joe = street["sam"], street["priya"], street["joe"]
    ref = ref_in(sam.text("NEED Lift")[0], "R")
    priya.text(f"CAN {ref}")
    sam.text(f"OK {ref}")
    assert "not connected" in joe.text(f"{ref} hello Sam")[0]
    assert not any("hello Sam" in t.body for t in sam.received())


def test_a_bare_number_that_is_not_a_match_is_ordinary_text(street, inbound_rows):
    street["sam"].text("NEED Lift")
    replies = street["joe"].text("1 person came to the meeting")
    assert "an organiser will see" in replies[0]
    assert inbound_rows()[-1].in_inbox


def test_share_reveals_only_the_senders_own_number(street):
    sam, priya = street["sam"], street["priya"]
    ref = ref_in(sam.text("NEED Lift")[0], "R")
    priya.text(f"CAN {ref}")
    sam.text(f"OK {ref}")
    assert "now has your number" in priya.text(f"SHARE {ref}")[0]
    assert PRIYA in last_text(sam)
    assert not any(SAM in t.body for t in priya.received())


def test_done_closes_thanks_both_and_writes_the_ledger(street, app, runner):
    sam, priya = street["sam"], street["priya"]
    ref = ref_in(sam.text("NEED Lift to the GP")[0], "R")
    priya.text(f"CAN {ref}")
    sam.text(f"OK {ref}")
    reply = sam.text(f"DONE {ref} 2h")[0]
    assert "Thank you" in reply and "2h" in reply
    assert "Thank you for helping" in last_text(priya)
    with session_of(app) as session:
        exchange = session.scalars(select(Exchange)).one()
        giver = session.get(Subscriber, exchange.giver_id)
        receiver = session.get(Subscriber, exchange.receiver_id)
        assert (giver.name, receiver.name, exchange.hours) == ("Priya", "Sam", 2.0)
        assert exchange.description == "Lift to the GP"
        item = session.get(Item, int(ref[1:]))
        assert item.status == "closed"
        actions = session.scalars(select(ItemEvent.action).where(ItemEvent.item_id == item.id)
                                  .order_by(ItemEvent.id)).all()
        assert actions == ["opened", "offered", "connected", "done"]
    assert "not connected" in sam.text(f"{ref} are you there?")[0]
    assert "2h" in priya.text("BALANCE")[0]


def test_thanks_is_done(street, app):
    sam, priya = street["sam"], street["priya"]
    ref = ref_in(sam.text("NEED Lift")[0], "R")
    priya.text(f"CAN {ref}")
    sam.text(f"OK {ref}")
    sam.text(f"THANKS {ref}")
    with session_of(app) as session:
        assert session.scalar(select(func.count()).select_from(Exchange)) == 1


def test_close_withdraws_without_an_exchange(street, app):
    sam, priya = street["sam"], street["priya"]
    ref = ref_in(sam.text("NEED Lift")[0], "R")
    assert "is closed" in sam.text(f"CLOSE {ref}")[0]
    assert "no longer open" in priya.text(f"CAN {ref}")[0]
    with session_of(app) as session:
        assert session.scalar(select(func.count()).select_from(Exchange)) == 0


def test_only_the_author_can_close(street):
    ref = ref_in(street["sam"].text("NEED Lift")[0], "R")
    assert "Only the person who posted" in street["priya"].text(f"CLOSE {ref}")[0]


def test_two_helpers_offer_and_the_requester_picks_by_name_or_number(street, app):
    sam, priya, joe = street["sam"], street["priya"], street["joe"]
    ref = ref_in(sam.text("NEED Help with shopping")[0], "R")
    priya.text(f"CAN {ref}")
    joe.text(f"OFFER {ref}")
    assert f"OK {ref} JOE" in last_text(sam)
    listing = sam.text(f"OK {ref}")[0]
    assert "2 neighbours replied" in listing and "(Priya)" in listing and "(Joe)" in listing
    assert sam.text(f"OK {ref} JOE")[0].startswith("Connected with Joe")
    assert last_text(joe).startswith("Connected with Sam")
    assert not any(t.body.startswith("Connected") for t in priya.received())


def test_self_offer_is_refused(street):
    ref = ref_in(street["sam"].text("NEED Lift")[0], "R")
    assert "can't offer on it" in street["sam"].text(f"CAN {ref}")[0]


def test_a_ref_from_another_area_is_refused(street):
    ref = ref_in(street["sam"].text("NEED Lift")[0], "R")
    assert "which you haven't joined" in street["ada"].text(f"CAN {ref}")[0]


def test_a_stale_or_wrong_letter_ref_gets_a_hint(street):
    street["sam"].text("NEED Lift")
    assert "We can't find R99" in street["priya"].text("CAN R99")[0]
    assert "We can't find O1" in street["priya"].text("CAN O1")[0]
    assert "Text CAN <ref>" in street["priya"].text("CAN")[0]


def test_standing_offer_ask_and_the_same_flow(street, app):
    sam, priya = street["sam"], street["priya"]
    ref = ref_in(priya.text("OFFER Dog walking at weekends")[0], "O")
    assert "asked your neighbour" in sam.text(f"ASK {ref}")[0]
    assert f"would like your offer #{ref}" in last_text(priya)
    assert priya.text(f"OK {ref}")[0].startswith("Connected with Sam")
    sam.text(f"{ref} Is Saturday ok?")
    assert last_text(priya) == f"{ref} Sam: Is Saturday ok?"
    priya.text(f"DONE {ref} 1.5")
    with session_of(app) as session:
        exchange = session.scalars(select(Exchange)).one()
        assert session.get(Subscriber, exchange.giver_id).name == "Priya"
        assert exchange.hours == 1.5
        assert session.get(Item, int(ref[1:])).status == "published", "a standing offer stays open"


def test_ask_with_text_is_a_request(street):
    assert "Your request is #R" in street["sam"].text("ASK for help with my garden")[0]


def test_no_declines_politely(street):
    sam, priya = street["sam"], street["priya"]
    ref = ref_in(sam.text("NEED Lift")[0], "R")
    priya.text(f"CAN {ref}")
    assert "declined" in sam.text(f"NO {ref}")[0]
    assert "has it covered" in last_text(priya)


def test_my_lists_open_items_and_connections(street):
    sam, priya = street["sam"], street["priya"]
    request = ref_in(sam.text("NEED Lift")[0], "R")
    offer = ref_in(sam.text("OFFER Sewing repairs")[0], "O")
    priya.text(f"CAN {request}")
    sam.text(f"OK {request}")
    listing = sam.text("MY")[0]
    assert f"#{request}" in listing and f"#{offer}" in listing and "with Priya" in listing


def test_my_puts_one_entry_on_a_line_and_whole_titles_when_there_is_room(street):
    sam, priya = street["sam"], street["priya"]
    request = ref_in(sam.text("NEED Lift to the GP on Thursday morning, around ten")[0], "R")
    offer = ref_in(sam.text("OFFER Sewing repairs and hemming")[0], "O")
    priya.text(f"CAN {request}")
    sam.text(f"OK {request}")

    assert sam.text("MY") == [
        f"Open:\n#{request} Lift to the GP on Thursday morning, around ten\n#{offer} Sewing repairs and hemming\n"
        f"Connected:\n#{request} with Priya"
    ]


def test_my_cuts_long_titles_at_a_word_with_an_ellipsis_and_stays_short(street):
    sam = street["sam"]
    things = ["apples", "bikes", "chairs", "desks", "easels", "fans", "gates", "hoes"]
    refs = [ref_in(sam.text(f"OFFER Spare {thing} for anyone who can collect them from the back garden this week")[0],
                   "O") for thing in things]

    [listing] = sam.text("MY")

    lines = listing.splitlines()
    assert lines[0] == "Open:" and len(lines) == 1 + len(things)
    for ref, thing, line in zip(refs, things, lines[1:], strict=True):
        assert line.startswith(f"#{ref} Spare {thing} for"), line
        assert line.endswith("...") and not line.endswith(" ...") and "...." not in line, line
    assert analyse(listing).segments <= 3


def test_an_unnamed_neighbour_is_a_neighbour_mid_sentence(street, phone):
    sam = street["sam"]
    stranger = phone("+447700900999")
    stranger.text("JOIN ELM")
    ref = ref_in(sam.text("NEED Lift to the GP")[0], "R")
    stranger.text(f"CAN {ref}")

    assert sam.text(f"OK {ref}")[0].startswith(f"Connected with a neighbour on #{ref}.")
    assert sam.text("MY")[0].endswith(f"Connected:\n#{ref} with a neighbour")


def test_stop_in_the_middle_of_a_connection_tells_the_other_side(street, app):
    sam, priya = street["sam"], street["priya"]
    ref = ref_in(sam.text("NEED Lift")[0], "R")
    priya.text(f"CAN {ref}")
    sam.text(f"OK {ref}")
    sent_a_while_ago(app)  # Priya has her "Connected with Sam" (one she never had is cancelled instead)
    sam.text("STOP")
    assert last_text(priya) == f"Your connection on {ref} has ended. Thank you."
    assert "not connected" in priya.text(f"{ref} hello?")[0]
    with session_of(app) as session:
        assert session.scalars(select(Match.status)).one() == "ended"


def test_intro_connects_only_when_both_agree(street, runner, phone, app):
    runner("organiser", "add", RUTH, "elm")
    ruth = phone(RUTH)
    ruth.text("JOIN ELM")
    reply = ruth.text(f"INTRO {SAM} 07700900456 gardening")[0]
    ref = ref_in(reply, "I")
    sam, priya = street["sam"], street["priya"]
    assert "in touch with Priya about gardening" in last_text(sam)
    assert f"OK {ref}" in last_text(priya)
    assert "as soon as the other neighbour" in sam.text(f"OK {ref}")[0]
    assert priya.text(f"OK {ref}")[0].startswith("Connected with Sam")
    priya.text(f"{ref} Hello! I have spare seedlings")
    assert last_text(sam) == f"{ref} Priya: Hello! I have spare seedlings"
    for person in (sam, priya):
        assert all(SAM not in t.body and PRIYA not in t.body for t in person.received())


def test_intro_declined_by_either_side(street, runner, phone, app):
    runner("organiser", "add", RUTH, "elm")
    ruth = phone(RUTH)
    ref = ref_in(ruth.text(f"INTRO {SAM} {PRIYA} chess")[0], "I")
    sent_a_while_ago(app)  # both have heard of it (one who had not would not be told it won't go ahead)
    street["priya"].text(f"NO {ref}")
    assert "won't go ahead" in last_text(street["sam"])
    assert "no longer open" in street["sam"].text(f"OK {ref}")[0]


def test_intro_is_for_organisers(street):
    assert "Only an area's organisers" in street["sam"].text(f"INTRO {PRIYA} {JOE} chess")[0]


def test_long_relays_are_cut_to_three_segments_with_a_marker(street):
    from sms_board.text.segments import analyse

    sam, priya = street["sam"], street["priya"]
    ref = ref_in(sam.text("NEED Lift")[0], "R")
    priya.text(f"CAN {ref}")
    sam.text(f"OK {ref}")
    sam.text(f"{ref} " + "word " * 200)
    relayed = last_text(priya)
    assert analyse(relayed).segments <= 3
    assert relayed.endswith("(cut: text again to say more)")


def test_ledger_for_a_scripted_week(street, runner, app):
    import json

    sam, priya, joe = street["sam"], street["priya"], street["joe"]
    script = [(sam, priya, "2h"), (joe, priya, "1"), (priya, sam, "30m"), (sam, priya, "")]
    for requester, helper, hours in script:
        ref = ref_in(requester.text("NEED a hand")[0], "R")
        helper.text(f"CAN {ref}")
        requester.text(f"OK {ref}")
        requester.text(f"DONE {ref} {hours}".strip())
    report = json.loads(runner("ledger", "--json").stdout)
    assert report["exchanges"] == 4
    assert report["hours"] == 3.5
    assert report["givers"] == 2  # Priya and Sam
    assert report["receivers"] == 3  # Sam, Joe, Priya
    assert report["both"] == 2  # Sam and Priya gave and received
    assert report["new_connections"] == 2  # Sam–Priya, Joe–Priya
    csv_out = runner("ledger", "--csv").stdout
    assert csv_out.splitlines()[0].startswith("when,area,ref,giver,receiver,hours")
    assert SAM not in csv_out and "Priya" in csv_out
    elm_only = json.loads(runner("ledger", "--area", "river", "--json").stdout)
    assert elm_only["exchanges"] == 0


def _run_due_jobs(app):
    from sms_board.clock.jobs import run_due_jobs
    from sms_board.plumbing.utc import utcnow

    return run_due_jobs(board_of(app).sessions, board_of(app).settings, utcnow())


def test_quiet_requests_are_asked_once_then_expire(street, app):
    from datetime import UTC, datetime, timedelta

    import time_machine

    sam, priya = street["sam"], street["priya"]
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        ref = ref_in(sam.text("NEED Help with my garden")[0], "R")
        clock.shift(timedelta(days=6, hours=23))
        _run_due_jobs(app)
        assert not any("still need help" in t.body for t in sam.received())

        clock.shift(timedelta(hours=2))
        _run_due_jobs(app)
        _run_due_jobs(app)
        reminders = [t for t in sam.received() if "still need help" in t.body]
        assert len(reminders) == 1, "asked once, however often the clock runs"
        assert f"OK {ref}" in reminders[0].body

        assert "stays open" in sam.text(f"OK {ref}")[0]
        clock.shift(timedelta(days=13))
        _run_due_jobs(app)
        assert "passed your offer on" in priya.text(f"CAN {ref}")[0], "kept open: still takes offers"

        clock.shift(timedelta(days=15))
        _run_due_jobs(app)
        assert "taken down after 14 days" in last_text(sam)
        assert "no longer open" in street["joe"].text(f"CAN {ref}")[0]
        with session_of(app) as session:
            actions = session.scalars(select(ItemEvent.action).where(ItemEvent.item_id == int(ref[1:]))
                                      .order_by(ItemEvent.id)).all()
    assert actions == ["opened", "reminded", "kept_open", "reminded", "offered", "expired"]


def test_two_helpers_offering_at_the_same_moment_get_distinct_numbers(street, app):
    ref = ref_in(street["sam"].text("NEED Help carrying shopping")[0], "R")
    replies = texts_at_once(app, {PRIYA: f"CAN {ref}", JOE: f"CAN {ref}"})
    assert all("passed your offer on" in r[0] for r in replies.values())
    with session_of(app) as session:
        numbers = sorted(session.scalars(select(Response.number).where(Response.item_id == int(ref[1:]))))
    assert numbers == [1, 2]
    assert street["sam"].text(f"OK {ref} 2")[0].startswith("Connected with")


def test_forget_erases_the_resident_and_ends_their_connections_cleanly(street, app, runner, inbound_rows):
    import json

    from sms_board.community.privacy import number_hash
    from sms_board.models import ConsentEvent, Outbox, Subscription, Suppression

    sam, priya = street["sam"], street["priya"]
    ref = ref_in(sam.text("NEED Lift to the GP")[0], "R")
    priya.text(f"CAN {ref}")
    sam.text(f"OK {ref}")
    sam.text(f"{ref} See you at 9, my flat is 12B")
    assert "Reply YES within 15 minutes" in sam.text("FORGET")[0]
    assert sam.text("YES")[0].startswith("Done: the board has forgotten you")

    assert last_text(priya) == f"Your connection on {ref} has ended. Thank you."
    assert "not connected" in priya.text(f"{ref} hello?")[0]
    with session_of(app) as session:
        assert session.scalar(select(Subscriber).where(Subscriber.phone == SAM)) is None
        assert session.scalar(select(func.count()).select_from(Subscription)) == 3  # Priya, Joe and Ada
        assert all(e.subscriber_id is not None for e in session.scalars(select(ConsentEvent)))
        item = session.get(Item, int(ref[1:]))
        assert (item.status, item.author_name, item.body) == ("closed", None, "(removed at the author's request)")
        assert not any("12B" in row.body for row in session.scalars(select(Outbox)))
        hashes = session.scalars(select(Suppression.number_hash)).all()
        assert hashes == [number_hash(board_of(app).settings.suppression_key, SAM)]
    stored = " ".join(f"{r.from_number} {r.body} {r.params} {r.replies}" for r in inbound_rows())
    assert SAM not in stored and "12B" not in stored and "Sam" not in stored.replace("SAME", "")
    assert "900123" not in json.dumps(json.loads(runner("outbox", "--json").stdout))


def test_forget_needs_yes_and_anything_else_keeps_everything(street, app):
    sam = street["sam"]
    sam.text("FORGET")
    sam.text("POST Still here")
    assert sam.text("YES")[0].startswith("Nothing to confirm")
    with session_of(app) as session:
        assert session.scalar(select(Subscriber).where(Subscriber.phone == SAM)).name == "Sam"


def test_a_forgotten_number_that_texts_again_starts_afresh(street, app):
    sam = street["sam"]
    sam.text("FORGET")
    sam.text("YES")
    assert sam.text("JOIN ELM")[0].endswith("text NAME <first name> to give it."), "no name any more"
    with session_of(app) as session:
        again = session.scalar(select(Subscriber).where(Subscriber.phone == SAM))
        assert again is not None and again.name is None


def test_the_ledger_shows_each_exchange_by_the_ref_residents_know(street, runner):
    import json

    sam, priya, joe = street["sam"], street["priya"], street["joe"]
    request = ref_in(sam.text("NEED a lift to the station")[0], "R")
    priya.text(f"CAN {request}")
    sam.text(f"OK {request}")
    sam.text(f"DONE {request} 1h")
    offer = ref_in(priya.text("OFFER I can fix bikes")[0], "O")
    joe.text(f"ASK {offer}")
    priya.text(f"OK {offer}")
    joe.text(f"DONE {offer}")

    rows = json.loads(runner("ledger", "--json").stdout)["rows"]

    assert [row["ref"] for row in rows] == [f"#{request}", f"#{offer}"]
    assert f",#{request}," in runner("ledger", "--csv").stdout


# ── responses and connections move one way (`community.item_lifecycle`) ─────


def test_a_declined_offer_is_never_accepted_later(street, app):
    sam, priya = street["sam"], street["priya"]
    ref = ref_in(sam.text("NEED Lift to the GP")[0], "R")
    priya.text(f"CAN {ref}")
    assert sam.text(f"NO {ref}")[0].startswith("OK, declined.")

    assert not sam.text(f"OK {ref}")[0].startswith("Connected with")
    with session_of(app) as session:
        offer = session.scalar(select(Response).where(Response.item_id == int(ref[1:])))
        assert not transition_response(session, offer, ResponseStatus.ACCEPTED, allowed_from=WAITING_RESPONSES,
                                       now=utcnow())
        session.commit()
    with session_of(app) as session:
        assert session.scalar(select(Response.status).where(Response.item_id == int(ref[1:]))) == "declined"
        assert session.scalars(select(Match)).all() == []


def _connected(street, app) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    ref = ref_in(street["sam"].text("NEED Help carrying shopping")[0], "R")
    street["joe"].text(f"CAN {ref}")
    assert street["sam"].text(f"OK {ref}")[0].startswith("Connected with Joe")
    with session_of(app) as session:
        return ref, session.scalar(select(Match.id))


def test_a_finished_connection_is_never_ended_again_nor_written_twice_in_the_ledger(street, app):
    ref, match_id = _connected(street, app)
    assert street["sam"].text(f"DONE {ref} 1h")[0].startswith("Thank you!")
    assert street["joe"].text(f"DONE {ref} 1h") == [f"You're not connected on {ref}. Text MY to see your connections."]
    with session_of(app) as session:
        match = session.get(Match, match_id)
        assert not transition_match(session, match, MatchStatus.ENDED, now=utcnow())
        session.commit()
    with session_of(app) as session:
        assert session.get(Match, match_id).status == "done"
        assert session.scalar(select(func.count()).select_from(Exchange)) == 1


@pytest.mark.postgres_only(reason="both sides' texts in parallel: SQLite lets one writer in at a time")
def test_both_sides_saying_done_at_the_same_moment_write_one_exchange(street, app):
    ref, match_id = _connected(street, app)
    replies = texts_at_once(app, {SAM: f"DONE {ref} 2h", JOE: f"DONE {ref} 2h"})
    firsts = sorted(answer[0] for answer in replies.values())
    assert [a for a in firsts if not a.startswith("Thank you!")] == [
        f"You're not connected on {ref}. Text MY to see your connections."], replies
    with session_of(app) as session:
        assert session.get(Match, match_id).status == "done"
        assert session.scalars(select(Exchange.hours)).all() == [2.0]
