"""Digests: what is new since each subscriber's last digest, on their schedule, once, paged by MORE."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select, update

from sms_board import create_app
from sms_board.app import board_of
from sms_board.broadcast.digest_pages import Entry, paginate
from sms_board.broadcast.digest_runs import fan_out_digest, start_run
from sms_board.clock.jobs import tick
from sms_board.models import (
    Campaign,
    CampaignStatus,
    DigestBatch,
    Outbox,
    OutboxStatus,
    Subscriber,
    Subscription,
)
from sms_board.plumbing.utc import utcnow
from sms_board.text.digest_text import item_lines_replaced
from sms_board.text.segments import GSM7, analyse
from tests.conftest import Phone, Runner, app_config, session_of

SAM, PRIYA, JOE, RUTH, ADA = "+447700900123", "+447700900456", "+447700900789", "+447700900001", "+447700900321"
BOATER = "+447700900654"  # lives by the river too, and writes its news
# A Tuesday in November: London is on GMT, so local time is UTC.
TUESDAY_MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TUESDAY_DIGEST = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(TUESDAY_MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def street(clock, areas, phone, runner):
    """Sam, Priya and Joe on Elm Street (named), Ruth its organiser, Ada by the river."""
    people = {}
    for number, name, area in [(SAM, "Sam", "ELM"), (PRIYA, "Priya", "ELM"), (JOE, "Joe", "ELM"),
                               (RUTH, "Ruth", "ELM"), (ADA, "Ada", "RIVER")]:
        person = phone(number)
        person.text(f"JOIN {area}")
        person.text(f"NAME {name}")
        people[name.lower()] = person
    runner("organiser", "add", RUTH, "elm")
    clock.shift(timedelta(minutes=5))
    return people


def run_clock(app: Flask) -> dict[str, int]:
    return tick(board_of(app).sessions, board_of(app).settings, utcnow())


def digests(person: Phone) -> list[str]:
    return [row.body for row in person.received() if row.kind == "digest"]


def digest_rows(app: Flask) -> list[Outbox]:
    with session_of(app) as session:
        return list(session.scalars(select(Outbox).where(Outbox.kind == "digest").order_by(Outbox.id)))


def test_it_sends_each_subscriber_the_news_of_their_area_with_names_and_refs(street, clock, app):
    sam, priya, joe = street["sam"], street["priya"], street["joe"]
    notice = sam.text("POST Plant swap on Saturday 10am by the community garden")[0]
    request = priya.text("NEED Lift to the GP on Thursday morning")[0]
    offer = joe.text("OFFER I can walk dogs on weekdays")[0]
    street["ada"].text("POST Riverside litter pick on Sunday")
    clock.move_to(TUESDAY_DIGEST)

    counts = run_clock(app)

    assert counts["digest_texts"] == 4  # four on Elm Street; Ada wrote the river's only news herself
    body = digests(street["ruth"])[0]
    notice_ref = re.search(r"#(N\d+)", notice).group(1)
    request_ref = re.search(r"#(R\d+)", request).group(1)
    offer_ref = re.search(r"#(O\d+)", offer).group(1)
    assert body.splitlines() == [
        "Elm Street news:",
        f"#{notice_ref} Sam: Plant swap on Saturday 10am by the community garden",
        "Help needed (text CAN <ref> to help):",
        f"#{request_ref} Priya: Lift to the GP on Thursday morning",
        "Neighbours offer (text ASK <ref>):",
        f"#{offer_ref} Joe: I can walk dogs on weekdays",
        "Text STOP to stop these texts.",  # the first digest of the month says how to stop
    ]
    # Everyone else's news, never one's own.
    assert digests(street["sam"]) == ["\n".join(line for line in body.splitlines() if "Sam:" not in line)]
    assert digests(street["ada"]) == []
    for row in digest_rows(app):
        assert not re.search(r"\+?44\s?7700|07700|900\d{3}", row.body), "a digest must never show a number"


def test_nothing_new_sends_nothing(street, clock, app):
    clock.move_to(TUESDAY_DIGEST)
    counts = run_clock(app)
    assert counts["digest_runs"] == 3  # every area ran ...
    assert counts["digest_texts"] == 0  # ... and had nothing to say
    assert digest_rows(app) == []


def test_an_item_is_in_one_digest_per_subscriber(street, clock, app):
    street["sam"].text("POST Lost ginger cat near the park")
    clock.move_to(TUESDAY_DIGEST)
    run_clock(app)
    clock.shift(timedelta(minutes=1))
    assert run_clock(app)["digest_texts"] == 0  # the same evening again: nothing new

    clock.move_to(TUESDAY_DIGEST + timedelta(hours=20))
    street["priya"].text("POST Found: a ginger cat, now at number 12")
    clock.move_to(TUESDAY_DIGEST + timedelta(days=1))
    run_clock(app)

    first, second = digests(street["joe"])
    assert "Lost ginger cat" in first and "Found" not in first
    assert "Found: a ginger cat" in second and "Lost ginger cat" not in second


def test_closed_and_expired_items_leave_digests(street, clock, app):
    gone = street["sam"].text("NEED Someone to feed my cat this weekend")[0]
    ref = re.search(r"#(R\d+)", gone).group(1)
    street["sam"].text(f"CLOSE {ref}")
    street["priya"].text("POST Bake sale at the school on Friday")
    clock.move_to(TUESDAY_DIGEST)
    run_clock(app)

    body = digests(street["joe"])[0]
    assert "Bake sale" in body
    assert "feed my cat" not in body and "Help needed" not in body


def test_re_running_a_digest_run_texts_nobody_twice(street, clock, app):
    street["sam"].text("POST Street party planning meeting on Monday")
    clock.move_to(TUESDAY_DIGEST)
    run_clock(app)
    written = len(digest_rows(app))
    with session_of(app) as session:
        campaign_ids = list(session.scalars(select(Campaign.id).where(Campaign.kind == "digest")))
        # As if the run had crashed before it was marked done: every run is started again.
        session.execute(update(Campaign).values(status=CampaignStatus.FANNING_OUT.value))
        session.execute(update(Subscription).values(last_digest_at=TUESDAY_MORNING))
        session.commit()
    factory, settings = board_of(app).sessions, board_of(app).settings
    for campaign_id in campaign_ids:
        fan_out_digest(factory, settings, campaign_id, utcnow())
    run_clock(app)
    assert len(digest_rows(app)) == written == 3  # Priya, Joe and Ruth: Sam wrote it


def test_a_digest_run_stopped_halfway_resumes_and_texts_everyone_once(street, clock, app, phone):
    for n in range(10, 16):
        phone(f"+4477009001{n}").text("JOIN ELM")
    clock.shift(timedelta(minutes=1))
    street["sam"].text("POST Road closed on Thursday for resurfacing")
    street["priya"].text("NEED Help carrying shopping upstairs")
    clock.move_to(TUESDAY_DIGEST)
    factory, settings = board_of(app).sessions, board_of(app).settings
    with factory.begin() as session:
        elm = session.scalar(select(Campaign.id).where(Campaign.kind == "digest"))
        assert elm is None
    with factory.begin() as session:
        area_id = session.scalar(select(Subscription.area_id).join(Subscriber).where(Subscriber.phone == SAM))
        start_run(session, area_id, "2026-11-24T18:00", utcnow())
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.kind == "digest"))

    fan_out_digest(factory, settings, campaign_id, utcnow(), chunk=3, max_chunks=1)  # the process dies here
    assert len(digest_rows(app)) == 3
    clock.shift(timedelta(minutes=1))
    run_clock(app)

    rows = digest_rows(app)
    recipients = [row.to_number for row in rows]
    assert len(recipients) == len(set(recipients)) == 4 + 6
    with session_of(app) as session:
        assert session.get(Campaign, campaign_id).status == CampaignStatus.SENDING.value


def test_subscribers_who_share_a_last_digest_share_one_body(street, clock, app, phone):
    street["sam"].text("POST Choir practice moves to Wednesday")
    clock.shift(timedelta(hours=1))
    phone("+447700900555").text("JOIN ELM")  # joined after Sam's post: it is not news to them
    clock.shift(timedelta(hours=1))
    street["priya"].text("POST Skip outside number 4 until Friday")
    clock.move_to(TUESDAY_DIGEST)
    run_clock(app)

    with session_of(app) as session:
        batches = list(session.scalars(select(DigestBatch).order_by(DigestBatch.id)))
    # Joe and Ruth share one; Sam and Priya each get the other's post, never their own; the newcomer one.
    assert len(batches) == 4
    late = next(row.body for row in digest_rows(app) if row.to_number == "+447700900555")
    assert "Skip outside" in late and "Choir" not in late
    bodies = {row.to_number: row.body for row in digest_rows(app)}
    assert bodies[JOE] == bodies[RUTH] and bodies[SAM] == late and len(set(bodies.values())) == 3


def test_long_digests_are_paged_and_more_sends_the_next_page(street, clock, app):
    for n in range(12):
        street["sam"].text(f"POST Notice number {n}: the community garden needs volunteers on Saturday "
                           f"morning to weed the beds, water the seedlings and mend the fence")
    clock.move_to(TUESDAY_DIGEST)
    run_clock(app)
    joe = street["joe"]

    first = digests(joe)[0]
    assert analyse(first).segments <= 3
    shown = len(re.findall(r"^#N\d+", first, re.M))
    assert f"+{12 - shown} more: text MORE" in first
    pages = [first]
    while True:
        reply = joe.text("MORE")
        assert len(reply) == 1
        if "That's all" in reply[0]:
            break
        pages.append(reply[0])
        assert analyse(reply[0]).segments <= 3
        assert reply[0].startswith("Elm Street, more:")
    refs = [ref for page in pages for ref in re.findall(r"^#(N\d+)", page, re.M)]
    assert len(refs) == len(set(refs)) == 12
    assert "more: text MORE" not in pages[-1]
    assert joe.text("MORE") == [joe.text("MORE")[0]]  # still the end, and says so


def test_more_with_no_digest_says_there_is_nothing(street):
    reply = street["joe"].text("MORE")[0]
    assert "Nothing more" in reply


def test_a_curly_apostrophe_keeps_the_digest_gsm7_and_within_three_segments(street, clock, app):
    street["sam"].text("POST We\u2019re collecting \u201cwinter coats\u201d \u2013 drop them at St Mark\u2019s\u2026 thanks!")
    street["priya"].text("POST " + "Jumble sale in the church hall, " * 20)
    clock.move_to(TUESDAY_DIGEST)
    run_clock(app)
    for row in digest_rows(app):
        assert row.encoding == GSM7
        assert row.segments <= 3
        assert analyse(row.body).encoding == GSM7
    assert "We're collecting \"winter coats\" - drop them at St Mark's... thanks!" in digests(street["joe"])[0]


def test_a_welsh_post_and_a_polish_name_reach_the_digest_as_written(street, clock, app, phone):
    lucja = phone("+447700900555")
    lucja.text("JOIN ELM")
    lucja.text("NAME \u0141ucja")
    lucja.text("POST D\u0175r wedi\u2019i ddiffodd \u2014 \u0177 \u00e2 \u00ea")
    for n in range(8):
        street["sam"].text(f"POST Cyfarfod {n}: bydd y cyngor yn trafod y ffordd a\u2019r d\u0175r ddydd Iau am saith")
    clock.move_to(TUESDAY_DIGEST)
    run_clock(app)

    pages = digests(street["joe"])
    while "That's all" not in (more := street["joe"].text("MORE")[0]):
        pages.append(more)
    assert "\u0141ucja: D\u0175r wedi'i ddiffodd - \u0177 \u00e2 \u00ea" in "\n".join(pages)
    assert len(re.findall(r"^#N\d+ ", "\n".join(pages), re.M)) == 9  # every item, in UCS-2 pages
    for row in digest_rows(app):
        assert (row.encoding, row.segments) == ("UCS-2", analyse(row.body).segments)
        assert row.segments <= 3


def test_one_item_too_long_for_a_page_is_cut_to_fit():
    long = Entry(1, "notice", "N1", "Sam", "word " * 200)
    pages = paginate("Elm Street", [long, Entry(2, "notice", "N2", None, "Short one")], 3)
    assert len(pages) == 2
    assert analyse(pages[0]).segments <= 3
    assert "..." in pages[0] and "+1 more: text MORE" in pages[0]
    assert pages[1].splitlines()[1] == "#N2 A neighbour: Short one"


def test_an_items_line_is_found_on_the_page_as_written_and_no_other_line_with_it():
    # The page format's one owner writes the page and rewrites an item's line on it (FORGET,
    # a post taken down): a ref that begins another ref (#N1, #N12) leaves that other line alone.
    entries = [Entry(1, "notice", "N1", "Sam", "Bins moved to Friday"), Entry(12, "notice", "N12", "Ruth", "N1 fan"),
               Entry(3, "request", "R3", None, "Ladder please")]
    [page] = paginate("Elm Street", entries, 3)
    rewritten = item_lines_replaced(page, {"N1": "(withdrawn)", "R3": "(removed at the author's request)"})
    assert rewritten.splitlines() == [
        "Elm Street news:", "#N1 (withdrawn)", "#N12 Ruth: N1 fan", "Help needed (text CAN <ref> to help):",
        "#R3 (removed at the author's request)",
    ]


def test_digest_off_sends_nothing_and_weekly_waits_for_the_weekday(street, clock, app):
    assert "Digests are off" in street["priya"].text("DIGEST OFF")[0]
    assert "weekly digest on Sundays at 18:00" in street["joe"].text("DIGEST WEEKLY")[0]
    street["sam"].text("POST Window cleaner comes on Thursday")
    clock.move_to(TUESDAY_DIGEST)
    run_clock(app)
    assert digests(street["ruth"]) and not digests(street["joe"]) and not digests(street["priya"])

    clock.move_to(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    street["sam"].text("POST Carol singers on Saturday")
    clock.move_to(datetime(2026, 11, 29, 18, 0, tzinfo=UTC))  # Sunday
    run_clock(app)
    weekly = digests(street["joe"])
    assert len(weekly) == 1
    assert "Window cleaner" in weekly[0] and "Carol singers" in weekly[0]
    assert not digests(street["priya"])


def test_digest_with_nothing_after_it_explains_the_choices(street):
    assert "Your digest is daily" in street["joe"].text("DIGEST")[0]


def test_turning_digests_back_on_starts_from_now(street, clock, app):
    street["priya"].text("DIGEST OFF")
    street["sam"].text("POST Old news from while Priya was away")
    clock.shift(timedelta(hours=1))
    street["priya"].text("DIGEST DAILY")
    clock.move_to(TUESDAY_DIGEST)
    run_clock(app)
    assert not digests(street["priya"])
    assert digests(street["joe"])


def test_stopped_and_undeliverable_numbers_get_no_digest(street, clock, app):
    street["priya"].text("POST Recycling bins go out tonight")
    street["priya"].text("STOP")
    with session_of(app) as session:
        session.execute(update(Subscriber).where(Subscriber.phone == JOE).values(undeliverable_at=utcnow()))
        session.commit()
    clock.move_to(TUESDAY_DIGEST)
    run_clock(app)
    assert {row.to_number for row in digest_rows(app)} == {SAM, RUTH}


def test_a_digest_due_in_quiet_hours_waits_for_them_to_end(db, tmp_path, clock):
    app = create_app(app_config(db, tmp_path, SMS_BOARD_QUIET_HOURS="21:00-08:00", SMS_BOARD_DIGEST_TIME="22:30"))
    Runner(app)("area", "add", "elm", "Elm Street")
    sam, joe = Phone(app.test_client(), SAM), Phone(app.test_client(), JOE)
    sam.text("JOIN ELM")
    joe.text("JOIN ELM")
    clock.shift(timedelta(minutes=1))
    sam.text("POST Fireworks display on the green on Thursday")

    clock.move_to(datetime(2026, 11, 24, 22, 30, tzinfo=UTC))
    assert run_clock(app)["digest_runs"] == 0
    clock.move_to(datetime(2026, 11, 25, 0, 30, tzinfo=UTC))  # past midnight, still quiet
    assert run_clock(app)["digest_runs"] == 0
    clock.move_to(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    counts = run_clock(app)
    assert counts["digest_texts"] == 1  # Joe's: Sam wrote the news
    rows = digest_rows(app)
    assert {row.status for row in rows} == {OutboxStatus.QUEUED.value}
    with session_of(app) as session:
        assert session.scalar(select(Campaign.run_key).where(Campaign.kind == "digest")) == "2026-11-24T22:30"


@pytest.mark.parametrize(
    ("saturday_six_pm", "sunday_six_pm"),
    [
        # The last Sunday of October: 18:00 is 17:00 UTC on Saturday (BST), 18:00 UTC on Sunday (GMT).
        (datetime(2026, 10, 24, 17, 0, tzinfo=UTC), datetime(2026, 10, 25, 18, 0, tzinfo=UTC)),
        # The last Sunday of March: 18:00 is 18:00 UTC on Saturday (GMT), 17:00 UTC on Sunday (BST).
        (datetime(2027, 3, 27, 18, 0, tzinfo=UTC), datetime(2027, 3, 28, 17, 0, tzinfo=UTC)),
    ],
)
def test_digests_go_at_local_six_pm_either_side_of_a_clock_change(db, tmp_path, saturday_six_pm, sunday_six_pm):
    with time_machine.travel(saturday_six_pm - timedelta(hours=8), tick=False) as traveller:
        app = create_app(app_config(db, tmp_path))
        Runner(app)("area", "add", "elm", "Elm Street")
        sam, joe = Phone(app.test_client(), SAM), Phone(app.test_client(), JOE)
        sam.text("JOIN ELM")
        joe.text("JOIN ELM")
        run_clock(app)  # the clock was already running: Friday's run is behind us
        for six_pm in (saturday_six_pm, sunday_six_pm):
            traveller.move_to(six_pm - timedelta(hours=6))
            sam.text("POST Clocks change tonight: the bus timetable changes too")
            traveller.move_to(six_pm - timedelta(minutes=31))
            assert run_clock(app)["digest_texts"] == 0
            traveller.move_to(six_pm)
            assert run_clock(app)["digest_texts"] == 1  # Joe's: Sam wrote the news


def test_digest_command_sends_now_whatever_the_schedule(street, clock, app, runner):
    street["joe"].text("DIGEST WEEKLY")
    street["priya"].text("DIGEST OFF")
    street["priya"].text("POST Book club meets at the library on Friday")
    clock.shift(timedelta(minutes=5))

    result = runner("digest", "--area", "elm", "--json")
    report = json.loads(result.stdout)
    assert report["texts"] == 3  # Sam, Joe (weekly) and Ruth; never Priya (off)
    assert {row.to_number for row in digest_rows(app)} == {SAM, JOE, RUTH}
    again = json.loads(runner("digest", "--json").stdout)
    assert again["texts"] == 0


def test_digest_dry_run_says_who_how_much_and_how_long_and_sends_nothing(street, clock, app, runner):
    street["sam"].text("POST Lollipop person needed for the school crossing")
    clock.shift(timedelta(minutes=5))
    result = runner("digest", "--dry-run")
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert "3 recipients" in lines["elm"] and "3 segments" in lines["elm"]  # not Sam, who wrote it
    assert "~3s at 1 texts/s" in lines["elm"]
    assert "0 recipients" in lines["river"]
    document = json.loads(runner("digest", "--dry-run", "--json").stdout)
    assert {row["area"]: row["recipients"] for row in document} == {"elm": 3, "oak": 0, "river": 0}
    assert digest_rows(app) == []
    with session_of(app) as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_more_reads_on_in_the_newest_digest_that_has_more(street, clock, app, phone):
    ada, boater = street["ada"], phone(BOATER)
    ada.text("JOIN ELM")
    boater.text("JOIN RIVER")
    clock.shift(timedelta(minutes=1))
    for n in range(8):
        street["sam"].text(f"POST Elm notice {n}: the residents' association needs help with the summer fair stalls")
    boater.text("POST Riverside: the ferry runs late on Friday")
    clock.move_to(TUESDAY_DIGEST)
    run_clock(app)
    assert len(digests(ada)) == 2  # Elm's (paged), then Riverside's (one page)

    page = ada.text("MORE")[0]
    assert page.startswith("Elm Street, more:")

    clock.move_to(TUESDAY_DIGEST + timedelta(hours=20))
    street["sam"].text("POST Short Elm news")
    clock.move_to(TUESDAY_DIGEST + timedelta(days=1))
    run_clock(app)
    # Elm's newer digest fitted on one page: yesterday's pages are stale now.
    assert "That's all" in ada.text("MORE")[0]


def test_a_digest_held_for_quiet_hours_cannot_be_read_on_yet(db, tmp_path, clock):
    app = create_app(app_config(db, tmp_path, SMS_BOARD_QUIET_HOURS="21:00-08:00"))
    Runner(app)("area", "add", "elm", "Elm Street")
    sam, joe = Phone(app.test_client(), SAM), Phone(app.test_client(), JOE)
    sam.text("JOIN ELM")
    joe.text("JOIN ELM")
    clock.shift(timedelta(minutes=1))
    for n in range(8):
        sam.text(f"POST Notice {n}: the residents' association needs help with the summer fair stalls")
    clock.move_to(datetime(2026, 11, 24, 22, 0, tzinfo=UTC))
    Runner(app)("digest")
    assert {row.status for row in digest_rows(app)} == {OutboxStatus.HELD.value}
    assert "Nothing more" in joe.text("MORE")[0]


LONG = ("the community garden needs volunteers on Saturday morning to weed the beds, water the "
        "seedlings and mend the fence")


def read_all_more(person: Phone) -> list[str]:
    pages = []
    for _ in range(20):
        reply = person.text("MORE")[0]
        if "That's all" in reply:
            return pages
        pages.append(reply)
    raise AssertionError("MORE never reached the end")


def test_more_reads_every_paged_digest_of_every_area_then_stops(street, clock, app, phone):
    ada, boater = street["ada"], phone(BOATER)
    ada.text("JOIN ELM")
    boater.text("JOIN RIVER")
    clock.shift(timedelta(minutes=1))
    for n in range(8):
        # The area word first: a post that begins with its own area's name keeps it after that.
        street["sam"].text(f"POST ELM Elm notice {n}: {LONG}")
        boater.text(f"POST RIVER River notice {n}: {LONG}")
    clock.move_to(TUESDAY_DIGEST)
    run_clock(app)
    firsts = digests(ada)
    assert len(firsts) == 2 and all("more: text MORE" in body for body in firsts)

    pages = read_all_more(ada)
    shown = " ".join(firsts + pages)
    for n in range(8):
        assert f"Elm notice {n}:" in shown and f"River notice {n}:" in shown
    refs = re.findall(r"^#(N\d+)", "\n".join(firsts + pages), re.M)
    assert len(refs) == len(set(refs)) == 16, "every notice once, none twice"


def test_more_starts_again_with_a_new_digest(street, clock, app):
    joe = street["joe"]
    for n in range(8):
        street["sam"].text(f"POST Monday notice {n}: {LONG}")
    clock.move_to(TUESDAY_DIGEST)
    run_clock(app)
    read_all_more(joe)
    clock.move_to(TUESDAY_DIGEST + timedelta(hours=12))
    for n in range(8):
        street["sam"].text(f"POST Wednesday notice {n}: {LONG}")
    clock.move_to(TUESDAY_DIGEST + timedelta(days=1))
    run_clock(app)
    assert "Wednesday notice" in joe.text("MORE")[0]


def test_more_with_words_after_it_is_a_question_for_a_person(street, clock, app, inbound_rows):
    for n in range(8):
        street["sam"].text(f"POST Notice {n}: {LONG}")
    clock.move_to(TUESDAY_DIGEST)
    run_clock(app)
    reply = street["joe"].text("MORE info about the plant swap please")
    assert reply and "an organiser will see" in reply[0]
    assert inbound_rows()[-1].in_inbox
    assert street["joe"].text("MORE")[0].startswith("Elm Street, more:"), "paging is where it was"


def test_leaving_and_rejoining_brings_no_catch_up_of_the_gap(street, clock, app):
    joe = street["joe"]
    joe.text("LEAVE ELM")
    street["sam"].text("POST Posted while Joe was away")
    clock.shift(timedelta(hours=1))
    joe.text("JOIN ELM")
    clock.shift(timedelta(minutes=5))
    street["sam"].text("POST Posted after Joe came back")
    clock.move_to(TUESDAY_DIGEST)
    run_clock(app)
    (body,) = digests(joe)
    assert "Posted after Joe came back" in body and "while Joe was away" not in body


# ── nobody's own news, and nothing before the first digest time ───────────


def test_my_own_post_does_not_come_back_in_my_digest(street, clock, app):
    sam, priya, joe = street["sam"], street["priya"], street["joe"]
    sam.text("POST Lost: a blue umbrella at the bus stop")
    priya.text("NEED Someone to water my plants next week")
    clock.move_to(TUESDAY_DIGEST)

    run_clock(app)

    (mine,) = digests(sam)
    assert "water my plants" in mine and "blue umbrella" not in mine
    (hers,) = digests(priya)
    assert "blue umbrella" in hers and "water my plants" not in hers
    assert "blue umbrella" in digests(joe)[0] and "water my plants" in digests(joe)[0]


def test_an_author_whose_only_news_is_their_own_gets_no_digest_and_never_gets_it_later(street, clock, app):
    sam, priya = street["sam"], street["priya"]
    sam.text("POST Lost: a blue umbrella at the bus stop")
    clock.move_to(TUESDAY_DIGEST)
    run_clock(app)
    assert digests(sam) == [] and len(digests(priya)) == 1

    clock.move_to(TUESDAY_DIGEST + timedelta(hours=20))
    priya.text("POST Found: a blue umbrella, at number 9")
    clock.move_to(TUESDAY_DIGEST + timedelta(days=1))
    run_clock(app)

    (wednesday,) = digests(sam)
    assert "Found: a blue umbrella" in wednesday and "Lost:" not in wednesday


@pytest.mark.parametrize("hour", [10, 19])
def test_the_first_tick_on_a_new_board_sends_no_digest_before_the_next_digest_time(db, tmp_path, hour):
    with time_machine.travel(datetime(2026, 11, 24, hour, 0, tzinfo=UTC), tick=False) as traveller:
        app = create_app(app_config(db, tmp_path))
        Runner(app)("area", "add", "elm", "Elm Street")
        sam, joe = Phone(app.test_client(), SAM), Phone(app.test_client(), JOE)
        sam.text("JOIN ELM")
        joe.text("JOIN ELM")
        traveller.shift(timedelta(minutes=1))
        sam.text("POST Welcome to the new board, neighbours")

        assert run_clock(app)["digest_texts"] == 0
        assert digest_rows(app) == []

        traveller.move_to(datetime(2026, 11, 25 if hour >= 18 else 24, 18, 0, tzinfo=UTC))
        assert run_clock(app)["digest_texts"] == 1
        assert "Welcome to the new board" in digests(joe)[0]


@pytest.mark.parametrize("hour", [11, 20])
def test_make_run_at_any_hour_sends_the_demo_residents_no_digest_straight_away(db, tmp_path, hour):
    with time_machine.travel(datetime(2026, 11, 24, hour, 0, tzinfo=UTC), tick=False):
        app = create_app(app_config(db, tmp_path))
        runner = Runner(app)
        runner("demo")

        printed = runner("tick").stdout.splitlines()

    assert "digest_texts: 0" in printed and "digest_runs: 0" in printed
    assert digest_rows(app) == []


def test_joining_after_the_digest_time_waits_for_the_next_one_when_the_run_starts_late(street, clock, app, phone):
    clock.move_to(TUESDAY_DIGEST + timedelta(hours=1))  # the clock was down at 18:00
    newcomer = phone("+447700900555")
    newcomer.text("JOIN ELM")
    clock.shift(timedelta(minutes=1))
    street["sam"].text("POST Skip outside number 4 until Friday")
    clock.shift(timedelta(minutes=30))

    run_clock(app)  # Tuesday's 18:00 run, late

    assert digests(newcomer) == []
    assert "Skip outside" in digests(street["joe"])[0]
    clock.move_to(TUESDAY_DIGEST + timedelta(days=1))
    run_clock(app)
    assert "Skip outside" in digests(newcomer)[0]
