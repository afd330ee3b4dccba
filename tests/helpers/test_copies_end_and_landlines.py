"""A trusted helper's copies: a landline resident's digest call reaches the helper as a text, and copies
still waiting when the helper ends never go (docs/helpers.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select, update

from sms_board import create_app
from sms_board.models import Outbox, Subscriber
from sms_board.text.segments import fit
from tests.conftest import Phone, Runner, app_config, session_of
from tests.helpers.test_acting_for_a_resident import neighbours, ref_in
from tests.support.landlines import landline_offers

LANDLINE, SAM, PRIYA = "+442920180123", "+447700900222", "+447700900333"  # Ofcom's drama range: Cardiff


@pytest.fixture
def voice_board(db, tmp_path) -> Flask:  # type: ignore[no-untyped-def]
    """Voice on; Rose on a landline (enrolled by an organiser, named), Sam her agreed helper, Priya posting."""
    app = create_app(app_config(db, tmp_path, SMS_BOARD_VOICE="on"))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("subscribers", "add", LANDLINE, "elm", "--voice", "--consent", "phoned by Ruth, 3 Dec")
    with session_of(app) as session:
        session.execute(update(Subscriber).where(Subscriber.phone == LANDLINE).values(name="Rose"))
        session.commit()
    for number in (SAM, PRIYA):
        Phone(app.test_client(), number).text("JOIN ELM")
    runner("helper", "add", LANDLINE, SAM, "--consent", "asked in person by Ruth, 3 Dec")
    sam = Phone(app.test_client(), SAM)
    sam.text("OK " + re.search(r"\b(H\d+)\b", sam.received()[-1].body).group(1))  # type: ignore[union-attr]
    return app


def outbox_to(app: Flask, number: str, kind: str) -> list[Outbox]:
    with session_of(app) as session:
        return list(session.scalars(select(Outbox).where(Outbox.to_number == number, Outbox.kind == kind)
                                    .order_by(Outbox.id)))


def test_a_landline_residents_digest_call_reaches_the_helper_as_one_text_per_run(voice_board):
    runner, priya = Runner(voice_board), Phone(voice_board.test_client(), PRIYA)
    priya.text("POST Jumble sale at the church hall on Saturday")
    priya.text("OFFER " + "Help with gardening, weeding and mowing, any weekday afternoon. " * 4)
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2), tick=False) as clock:
        runner("digest")
        [call] = outbox_to(voice_board, LANDLINE, "call")
        [copy] = outbox_to(voice_board, SAM, "copy")
        assert copy.body.startswith("For Rose: ") and "Jumble sale" in copy.body
        assert "press" not in copy.body.lower()  # the posts, not the keypad's words
        assert fit(copy.body, 3) and copy.campaign_id == call.campaign_id
        assert outbox_to(voice_board, LANDLINE, "digest") == []  # her landline is never texted

        clock.shift(timedelta(minutes=2))
        runner("digest")  # nothing new: no second call, no second copy
        assert len(outbox_to(voice_board, SAM, "copy")) == 1


def test_copies_still_waiting_when_the_helper_ends_never_go(areas, phone, app, runner):
    people = neighbours(phone)
    rose, sam, priya = people["rose"], people["sam"], people["priya"]
    ref = ref_in(rose.text("NEED help with the shopping")[0])
    priya.text(f"CAN {ref}")  # the offer's notice is copied to Sam
    priya.text("POST Jumble sale at the church hall on Saturday")
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2), tick=False):
        runner("digest")
        waiting = [row for row in sam.received() if row.body.startswith("For Rose: ")]
        assert {row.kind for row in waiting} == {"copy", "notify"}
        assert all(row.status in ("queued", "held") for row in waiting)
        own = [row.id for row in sam.received() if not row.body.startswith("For Rose: ")]

        rose.text("HELPER OFF")
        after = {row.id: row for row in sam.received()}
        assert {after[row.id].status for row in waiting} == {"cancelled"}
        assert all(after[i].status != "cancelled" for i in own)  # Sam's own texts still go


def test_the_neighbour_is_told_once_when_they_connect_that_the_residents_helper_reads_her_texts(
        areas, phone, app):
    people = neighbours(phone)
    rose, sam, priya = people["rose"], people["sam"], people["priya"]
    ref = ref_in(rose.text("NEED help with the shopping")[0])
    priya.text(f"CAN {ref}")
    reply = sam.text(f"FOR ROSE OK {ref}")
    assert "trusted helper" not in reply[0]  # Priya has no helper: Rose's side has no such line
    told = priya.received()[-1].body
    assert told.startswith(f"Connected with Rose on #{ref}.")
    assert told.endswith(" Rose's trusted helper reads their texts too.")
    priya.text(f"{ref} I can come at 10am")
    relayed = rose.received()[-1].body
    assert relayed.endswith("I can come at 10am") and "trusted helper" not in relayed  # told once, not each time
    assert sum("trusted helper" in row.body for row in priya.received()) == 1


def test_a_neighbour_put_through_by_call_is_told_once_in_their_language_that_the_helper_reads_her_texts(
        db, tmp_path):
    """Rose (a mobile, Sam her agreed helper) needs help; Mavis, on a landline and Welsh, offered by keypad.
    Sam's `FOR ROSE OK` has the board ring Mavis: the call, the one time Mavis hears of the connection,
    says in Welsh that Rose's helper reads her texts."""
    app = create_app(app_config(db, tmp_path, SMS_BOARD_VOICE="on", SMS_BOARD_CALL_HOURS="",
                                SMS_BOARD_LANGUAGES="en,cy"))
    Runner(app)("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    rose, sam = Phone(app.test_client(), "+447700900111"), Phone(app.test_client(), SAM)
    for person, name in ((rose, "Rose"), (sam, "Sam")):
        person.text("JOIN ELM")
        person.text(f"NAME {name}")
    rose.text("HELPER 07700 900222")
    sam.text("OK " + re.search(r"\b(H\d+)\b", sam.received()[-1].body).group(1))  # type: ignore[union-attr]
    ref = ref_in(rose.text("NEED Lift to the GP on Thursday morning")[0])
    landline_offers(app, ref, LANDLINE, language="cy")

    [reply] = sam.text(f"FOR ROSE OK {ref}")
    assert reply.startswith("For Rose: Connected with Mavis") and "trusted helper" not in reply  # Mavis has none
    [call] = outbox_to(app, LANDLINE, "call")  # one call: told once
    assert "Rose" in call.body and call.body.endswith(". Mae cynorthwyydd dibynadwy Rose yn darllen eu negeseuon hefyd.")
    assert "+447700900111" not in call.body and outbox_to(app, LANDLINE, "notify") == []


def test_a_landline_residents_copy_past_its_segments_says_so_and_for_rose_more_reads_on(voice_board):
    runner, priya = Runner(voice_board), Phone(voice_board.test_client(), PRIYA)
    sam = Phone(voice_board.test_client(), SAM)
    priya.text("POST Jumble sale at the church hall on Saturday")
    priya.text("OFFER " + "Help with gardening, weeding and mowing, any weekday afternoon. " * 4)
    priya.text("NEED A lift to the station on Friday at ten")
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2), tick=False):
        runner("digest")
        [copy] = outbox_to(voice_board, SAM, "copy")
    assert copy.body.startswith("For Rose: ") and "Jumble sale" in copy.body and fit(copy.body, 3)
    assert re.search(r"\+\d more: text FOR Rose MORE$", copy.body), copy.body  # as her digest would say "text MORE"
    assert re.search(r"\bR\d+\b", copy.body)  # a ref as Sam would type it (FOR ROSE CAN R3), not spoken "R 3"

    pages = [copy.body]
    while len(pages) < 6:
        [reply] = sam.text("FOR ROSE MORE")
        assert reply.startswith("For Rose: ") and fit(reply, 3), reply
        if "That's all from your last digest" in reply:
            break
        pages.append(reply)
    read = "\n".join(pages)
    # Every post of her call reached Sam, once, in order; none was cut off at the digest's segments.
    assert [read.count(words) for words in ("Jumble sale", "weekday afternoon. Help", "lift to the station")] \
        == [1, 3, 1]
    assert read.index("Jumble sale") < read.index("lift to the station") < read.index("gardening")
    assert len(pages) >= 2 and "MORE" not in pages[-1]


def test_a_one_segment_copy_whose_mark_alone_overflows_takes_the_fewest_segments_and_loses_no_post(db, tmp_path):
    """SMS_BOARD_DIGEST_SEGMENTS=1, Rose's NAME long and Welsh (a ŵ makes every page UCS-2: 70 units), so
    "For <her name>: … +1 more: text FOR H1 MORE" is more than one segment before any post is on it. The digest
    run does not fail: each page carries one post, in the fewest segments the page can take (two), her name
    whole; FOR H1 MORE reads on to the end."""
    name = "Gwenllian Ŵyn ap Rhodri ab Owain Llwyd"
    app = create_app(app_config(db, tmp_path, SMS_BOARD_VOICE="on", SMS_BOARD_DIGEST_SEGMENTS="1"))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("subscribers", "add", LANDLINE, "elm", "--voice", "--consent", "phoned by Ruth, 3 Dec")
    with session_of(app) as session:
        session.execute(update(Subscriber).where(Subscriber.phone == LANDLINE).values(name=name))
        session.commit()
    sam, priya = Phone(app.test_client(), SAM), Phone(app.test_client(), PRIYA)
    sam.text("JOIN ELM")
    priya.text("JOIN ELM")
    runner("helper", "add", LANDLINE, SAM, "--consent", "asked in person by Ruth, 3 Dec")
    ref = re.search(r"\b(H\d+)\b", sam.received()[-1].body).group(1)  # type: ignore[union-attr]
    sam.text(f"OK {ref}")
    priya.text("POST Jumble sale at the church hall on Saturday")
    priya.text("NEED A lift to the station on Friday at ten, please")
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2), tick=False):
        runner("digest")
        [copy] = outbox_to(app, SAM, "copy")
    pages = [copy.body]
    while len(pages) < 4:
        [reply] = sam.text(f"FOR {ref} MORE")
        if "That's all from your last digest" in reply:
            break
        pages.append(reply)
    assert len(pages) == 2, pages
    assert all(page.startswith(f"For {name}: ") for page in pages), pages
    # The first page's mark and "+1 more" alone are more than a segment: it takes two, its post cut to fit them.
    assert pages[0].endswith(f"\n+1 more: text FOR {ref} MORE") and fit(pages[0], 2) and not fit(pages[0], 1)
    # The last page's mark fits one segment with room for the post's beginning: it keeps to one.
    assert fit(pages[1], 1) and "MORE" not in pages[1]
    read = "\n".join(pages)
    assert "Jumble sale at the" in read and re.search(r"Help request R\d+, from", read), read
