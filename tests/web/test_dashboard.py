"""What an organiser notices on the dashboard pages: their areas only, masked numbers, the same rules as by SMS."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from sms_board import create_app
from sms_board.app import board_of
from sms_board.clock.jobs import tick
from sms_board.models import Campaign, InboundMessage
from sms_board.plumbing.utc import utcnow
from tests.conftest import Phone, Runner, app_config, session_of
from tests.support.web import csrf_token, sign_in, submit

RUTH, ADMIN = "+447700900001", "+447700900002"
SAM, PRIYA, JOE, ADA = "+447700900123", "+447700900456", "+447700900789", "+447700900321"


def settle_the_street(runner, phone) -> None:  # type: ignore[no-untyped-def]
    runner("organiser", "add", RUTH, "elm")
    runner("admin", "add", ADMIN)
    for number, name, area in [(SAM, "Sam", "ELM"), (PRIYA, "Priya", "ELM"), (JOE, "Joe", "OAK"),
                               (ADA, "Ada", "RIVER"), (RUTH, "Ruth", "ELM")]:
        phone(number).text(f"JOIN {area}")
        phone(number).text(f"NAME {name}")


@pytest.fixture
def street(areas, runner, phone):
    settle_the_street(runner, phone)


@pytest.fixture
def ruth(client, street):
    sign_in(client, RUTH)
    return client


def scalar(app, query):  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return session.scalar(query)


def page_text(client, path: str) -> str:
    shown = client.get(path)
    assert shown.status_code == 200, (path, shown.status_code)
    return shown.get_data(as_text=True)


# ── inbox ─────────────────────────────────────────────────────────────────


def test_the_inbox_shows_texts_of_my_areas_masked_newest_first(ruth, phone):
    phone(SAM).text("is anyone collecting the old sofa")
    phone(PRIYA).text("HELP my neighbour has fallen")
    phone(JOE).text("what time is the oak road meeting")
    page = page_text(ruth, "/dashboard/inbox")
    assert "+44 7•••• ••123" in page and "Sam" in page and "7700900123" not in page
    assert page.index("HELP my neighbour has fallen") < page.index("is anyone collecting the old sofa")
    assert "HELP with more words" in page and "Not understood" in page
    assert "oak road meeting" not in page, "Joe lives in another organiser's area"
    assert '<span class="badge">' in page


def test_an_administrator_sees_every_area_in_the_inbox(client, street, phone):
    phone(JOE).text("what time is the oak road meeting")
    sign_in(client, ADMIN)
    assert "oak road meeting" in page_text(client, "/dashboard/inbox")


def test_a_reply_goes_from_the_board_signed_by_the_organisers_and_deals_with_the_text(ruth, app, phone, runner):
    phone(SAM).text("is the bin day changing")
    inbound_id = scalar(app, select(InboundMessage.id).where(InboundMessage.body == "is the bin day changing"))
    replied = submit(ruth, "/dashboard/inbox", f"/dashboard/inbox/{inbound_id}/reply", {"text": "Yes, Wednesday."})
    assert replied.status_code == 302
    [sent] = [row for row in json.loads(runner("outbox", "--json").stdout)
              if row["to"] == SAM and row["kind"] == "notify"]
    assert sent["body"] == "Yes, Wednesday.\n- Elm Street organisers" and sent["status"] == "queued"
    assert "is the bin day changing" not in page_text(ruth, "/dashboard/inbox")
    everything = page_text(ruth, "/dashboard/inbox?show=all")
    assert "is the bin day changing" in everything and "Dealt with" in everything and "by Ruth" in everything
    assert "Yes, Wednesday." in everything


def _reply_to(client, app, runner, number: str, body: str) -> str:  # type: ignore[no-untyped-def]
    """Reply from the inbox to the text `body`; the text the resident receives."""
    inbound_id = scalar(app, select(InboundMessage.id).where(InboundMessage.body == body))
    submit(client, "/dashboard/inbox", f"/dashboard/inbox/{inbound_id}/reply", {"text": "Yes, Wednesday."})
    [sent] = [row for row in json.loads(runner("outbox", "--json").stdout)
              if row["to"] == number and row["kind"] == "notify"]
    return sent["body"]


def test_a_reply_to_a_resident_in_two_areas_is_signed_by_the_area_they_share_with_the_organiser(
        ruth, app, phone, runner):
    runner("organiser", "add", RUTH, "oak")
    phone(SAM).text("JOIN RIVER")  # Sam: Elm Street and Riverside; Ruth: Elm Street and Oak Road
    phone(SAM).text("is the bin day changing")

    assert _reply_to(ruth, app, runner, SAM, "is the bin day changing") == "Yes, Wednesday.\n- Elm Street organisers"


def test_an_organiser_of_both_areas_signs_with_both(ruth, app, phone, runner):
    runner("organiser", "add", RUTH, "oak")
    phone(SAM).text("JOIN OAK")
    phone(SAM).text("is the bin day changing")

    assert _reply_to(ruth, app, runner, SAM, "is the bin day changing") == (
        "Yes, Wednesday.\n- Elm Street and Oak Road organisers")


def test_an_administrators_reply_is_signed_by_the_residents_areas(client, street, app, phone, runner):
    phone(SAM).text("JOIN RIVER")
    phone(SAM).text("is the bin day changing")
    sign_in(client, ADMIN)

    assert _reply_to(client, app, runner, SAM, "is the bin day changing") == (
        "Yes, Wednesday.\n- Elm Street and Riverside organisers")


def test_an_opted_out_sender_cannot_be_replied_to(ruth, app, phone):
    phone(SAM).text("who runs this")
    phone(SAM).text("STOP")
    page = page_text(ruth, "/dashboard/inbox")
    assert "cannot text this sender back" in page


def test_marking_dealt_with_and_back(ruth, app, phone):
    phone(SAM).text("lovely party yesterday")
    inbound_id = scalar(app, select(InboundMessage.id).where(InboundMessage.body == "lovely party yesterday"))
    submit(ruth, "/dashboard/inbox", f"/dashboard/inbox/{inbound_id}/dealt-with", {})
    assert "lovely party yesterday" not in page_text(ruth, "/dashboard/inbox")
    submit(ruth, "/dashboard/inbox", f"/dashboard/inbox/{inbound_id}/dealt-with", {"undo": "1"})
    assert "lovely party yesterday" in page_text(ruth, "/dashboard/inbox")


def test_a_text_outside_my_areas_cannot_be_touched(ruth, app, phone):
    phone(JOE).text("oak road meeting time?")
    inbound_id = scalar(app, select(InboundMessage.id).where(InboundMessage.body == "oak road meeting time?"))
    assert submit(ruth, "/dashboard/inbox", f"/dashboard/inbox/{inbound_id}/dealt-with", {}).status_code == 404


# ── subscribers ───────────────────────────────────────────────────────────


def search(client, number: str, **fields: str):  # type: ignore[no-untyped-def]
    """The subscribers page's search form, sent as a browser sends it."""
    return submit(client, "/dashboard/subscribers", "/dashboard/subscribers", {"number": number, **fields})


def test_subscribers_are_masked_searchable_by_last_digits_and_show_their_state(ruth, phone):
    phone(PRIYA).text("STOP")
    page = page_text(ruth, "/dashboard/subscribers")
    assert "+44 7•••• ••123" in page and "Sam" in page and "Joe" not in page and "7700900123" not in page
    found = search(ruth, "456")
    assert found.status_code == 200
    assert "Priya" in found.get_data(as_text=True) and "Sam" not in found.get_data(as_text=True)
    assert "opted out" in found.get_data(as_text=True)
    active = page_text(ruth, "/dashboard/subscribers?state=active")
    assert "Sam" in active and "Priya" not in active


def test_a_whole_number_however_written_finds_that_one_resident(ruth):
    for written in ("07700 900456", "+44 7700 900456", "447700900456"):
        found = search(ruth, written).get_data(as_text=True)
        assert "Priya" in found and "Sam" not in found, written
        assert "7700900456" not in found and "900456" not in found, "the page does not echo the number"


@pytest.mark.parametrize("typed", ["0456", "1456", "900456", "70090045", "abc", "+44"])
def test_more_digits_than_the_mask_shows_are_refused_with_one_line(ruth, typed):
    refused = search(ruth, typed)
    shown = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Search by the last 3 digits a resident tells you, or by their whole number." in shown
    assert "Priya" in shown and "Sam" in shown and "3 subscriptions." in shown, "the whole list, not narrowed"


def test_numbers_stay_out_of_the_address(ruth):
    page = page_text(ruth, "/dashboard/subscribers")
    assert re.search(r'<form method="post" action="/dashboard/subscribers"', page)
    assert 'method="get"' not in page.split("<h1>")[1]
    refused = ruth.get("/dashboard/subscribers?digits=900456")
    assert refused.status_code == 400 and "3 subscriptions." in refused.get_data(as_text=True)
    assert "Search with the form on this page" in refused.get_data(as_text=True)


def test_thirty_searches_in_ten_minutes_across_web_processes_then_a_clear_refusal(ruth, db, tmp_path):
    other_process = create_app(app_config(db, tmp_path)).test_client()
    sign_in(other_process, RUTH)
    for n in range(15):
        assert search(ruth, "123").status_code == 200, n
        assert search(other_process, "456").status_code == 200, n
    refused = search(ruth, "789")
    assert refused.status_code == 429
    assert "Too many searches: try again in 10 minutes." in refused.get_data(as_text=True)
    assert search(other_process, "07700 900789").status_code == 429, "the limit is Ruth's, not one process's"
    assert ruth.get("/dashboard/subscribers").status_code == 200, "the list itself is still there"


# ── the help exchange ─────────────────────────────────────────────────────


def test_open_requests_come_unanswered_first_then_oldest(ruth, app, phone):
    answered = re.search(r"#(R\d+)", phone(SAM).text("NEED Lift to the GP")[0]).group(1)
    phone(PRIYA).text("NEED Help with a form")
    phone(SAM).text("NEED Someone to water plants")
    phone(PRIYA).text(f"CAN {answered}")
    page = page_text(ruth, "/dashboard/exchange")
    requests = page[page.index("Open requests"):page.index("Standing offers")]
    assert requests.index("Help with a form") < requests.index("Someone to water plants") < \
        requests.index("Lift to the GP")
    assert requests.count("unanswered") == 2


def test_the_ledger_downloads_as_csv_without_numbers_and_safe_for_spreadsheets(ruth, app, phone):
    sam, priya = phone(SAM), phone(PRIYA)
    ref = re.search(r"#(R\d+)", sam.text("NEED =HYPERLINK(\"x\") a ladder")[0]).group(1)
    priya.text(f"CAN {ref}")
    sam.text(f"OK {ref}")
    sam.text(f"DONE {ref} 1")
    ref2 = re.search(r"#(R\d+)", priya.text("NEED Someone to feed the cat")[0]).group(1)
    sam.text(f"CAN {ref2}")
    priya.text(f"OK {ref2}")
    priya.text(f"DONE {ref2} 2")

    page = page_text(ruth, "/dashboard/exchange")
    assert "Both gave and received: Priya, Sam." in page
    downloaded = ruth.get("/dashboard/exchange/ledger.csv")
    assert downloaded.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(downloaded.get_data(as_text=True))))
    assert [(r["giver"], r["receiver"], r["hours"]) for r in rows] == [("Priya", "Sam", "1.0"), ("Sam", "Priya", "2.0")]
    assert rows[0]["description"].startswith("'=HYPERLINK")
    assert "7700900" not in downloaded.get_data(as_text=True)


# ── the broadcast composer ────────────────────────────────────────────────


def measure(client, text: str, areas=("elm",), urgent=False):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/dashboard/broadcast")
    answer = client.post("/dashboard/broadcast/measure", json={"text": text, "areas": list(areas), "urgent": urgent},
                         headers={"X-CSRFToken": token})
    assert answer.status_code == 200
    return answer.json


@pytest.mark.parametrize("text", ["Bins go out on Wednesday", "Bins \u201cWednesday\u201d \u2014 thanks\u2026",
                                  "Street party \U0001f389 on Saturday", "x" * 148, "x" * 149, "\u20ac" * 80])
def test_the_live_counter_agrees_with_sms_board_segments(ruth, runner, text):
    figures = measure(ruth, text)
    measured = json.loads(runner("segments", "--json", "--smart", f"Elm Street: {text}").stdout)
    assert (figures["encoding"], figures["segments"], figures["body"]) == \
        (measured["encoding"], measured["segments"], measured["text"])


def test_the_counter_marks_what_forces_ucs2_and_offers_plain_characters(ruth):
    figures = measure(ruth, "Party \U0001f389 at \u201cnumber 4\u201d")
    assert figures["encoding"] == "UCS-2" and figures["forcing"] == ["\U0001f389"]
    assert ["\U0001f389", True, False] in figures["runs"]
    assert figures["taken_out"] == ["\U0001f389"]
    assert figures["plain"] == 'Party at "number 4"'
    assert measure(ruth, figures["plain"])["encoding"] == "GSM-7"


WELSH = "D\u0175r wedi\u2019i ddiffodd \u2014 \u0177 \u00e2 \u00ea"
KEPT = "a letter: kept as written"


def test_the_counter_says_a_welsh_letter_is_kept_as_written_and_never_offers_to_fix_it(ruth):
    figures = measure(ruth, WELSH)
    assert (figures["encoding"], figures["body"]) == ("UCS-2", "Elm Street: D\u0175r wedi'i ddiffodd - \u0177 \u00e2 \u00ea")
    assert figures["forcing"] == sorted("\u0175\u0177\u00e2\u00ea")
    assert figures["why"] == [[letter, KEPT] for letter in sorted("\u0175\u0177\u00e2\u00ea")]
    assert figures["taken_out"] == [] and figures["save_hint"] is None
    assert ["\u0175", True, True] in figures["runs"]
    # The plain version changes only the punctuation; the letters stay.
    assert figures["plain"] == "D\u0175r wedi'i ddiffodd - \u0177 \u00e2 \u00ea"
    assert figures["plain_segments"] == figures["segments"]


def test_the_counter_keeps_polish_letters_and_takes_out_only_the_emoji(ruth):
    figures = measure(ruth, "Zbi\u00f3rka \u017cywno\u015bci w sobot\u0119 \U0001f34e dzi\u0119kujemy\u2026")
    assert dict(figures["why"]) == {
        **{letter: KEPT for letter in "\u00f3\u017c\u015b\u0119"},
        "\U0001f34e": "no plain look-alike: \u201cUse plain characters\u201d takes it out",
    }
    assert figures["taken_out"] == ["\U0001f34e"]
    assert figures["plain"] == "Zbi\u00f3rka \u017cywno\u015bci w sobot\u0119 dzi\u0119kujemy\u2026"
    assert measure(ruth, figures["plain"])["encoding"] == "UCS-2"  # the letters still need it, and keep it


def test_a_letter_of_any_script_is_kept_as_written(ruth):
    figures = measure(ruth, "Garden waste goes out on Wednesday: green bags and cut items only, \u0441\u043f\u0430\u0441\u0438\u0431\u043e")
    assert {note for _, note in figures["why"]} == {KEPT}
    assert figures["taken_out"] == []
    assert figures["plain"].endswith("\u0441\u043f\u0430\u0441\u0438\u0431\u043e")
    assert figures["save_hint"] is None or "from the end" in figures["save_hint"]


def test_the_preview_page_says_the_letters_are_kept_and_offers_no_plain_version(ruth):
    token = csrf_token(ruth, "/dashboard/broadcast")
    shown = ruth.post("/dashboard/broadcast/preview", data={"csrf_token": token, "area": "elm", "text": WELSH})
    page = html.unescape(shown.get_data(as_text=True))
    assert "Elm Street: D\u0175r wedi'i ddiffodd - \u0177 \u00e2 \u00ea" in page
    assert page.count(KEPT) == 4
    assert "Use plain characters" not in page

    shown = ruth.post("/dashboard/broadcast/preview", data={"csrf_token": token, "area": "elm",
                                                           "text": WELSH + " \U0001f4a7"})
    page = html.unescape(shown.get_data(as_text=True))
    assert page.count(KEPT) == 4 and "Use plain characters" in page
    assert 'name="text" value="D\u0175r wedi\'i ddiffodd - \u0177 \u00e2 \u00ea"' in page


def test_the_counter_says_how_many_characters_to_remove_to_save_a_text(ruth):
    figures = measure(ruth, "x" * 160)  # "Elm Street: " + 160 = 172: two texts
    assert figures["segments"] == 2 and figures["save"] == 12
    assert figures["save_hint"] == "Remove 12 characters from the end to save a text."
    assert measure(ruth, "x" * 148)["segments"] == 1


@pytest.mark.parametrize(("typed", "plain"), [
    # An emoji that ended a sentence leaves a full stop, so the lines a broadcast joins still read as two.
    ("Green bags and cut items only \U0001f33f\nThanks, Ruth", "Green bags and cut items only.\nThanks, Ruth"),
    ("Green bags and cut items only \U0001f33f Thanks, Ruth", "Green bags and cut items only. Thanks, Ruth"),
    ("Green bags and cut items only\U0001f33fThanks, Ruth", "Green bags and cut items only. Thanks, Ruth"),
    # Where a sentence already ended, or the emoji stood for a word inside one, nothing is added.
    ("Bins out tonight! \U0001f5d1\ufe0f\nThanks, Ruth", "Bins out tonight!\nThanks, Ruth"),
    ("Party \U0001f389 at number 4", "Party at number 4"),
    ("Tea\u2615and cake", "Tea and cake"),
    ("We \U0001f49a Riverside", "We Riverside"),
    ("See you there \U0001f44b", "See you there"),
    ("\U0001f389 Street party on Saturday", "Street party on Saturday"),
])
def test_plain_characters_keep_the_sentences_an_emoji_separated(ruth, typed, plain):
    assert measure(ruth, typed)["plain"] == plain


def test_plain_characters_then_the_text_residents_receive_keeps_its_full_stop(ruth):
    plain = measure(ruth, "Garden waste: green bags and cut items only \U0001f33f\nThanks, Ruth")["plain"]
    assert measure(ruth, plain)["body"] == "Elm Street: Garden waste: green bags and cut items only. Thanks, Ruth"


def test_when_an_emoji_costs_a_text_the_counter_says_to_remove_the_emoji(ruth):
    text = "Garden waste goes out on Wednesday: green bags and cut items only, please \U0001f33f"
    figures = measure(ruth, text)
    assert (figures["encoding"], figures["segments"], figures["plain_segments"]) == ("UCS-2", 2, 1)
    assert figures["save_hint"] == ("Remove the emoji \U0001f33f and it needs 1 text each instead of 2 "
                                    "(\u201cUse plain characters\u201d does it).")
    assert "characters from the end" not in figures["save_hint"]

    symbols = measure(ruth, "Garden waste goes out on Wednesday: green bags and cut items only, please \u2714 \u2192")
    assert symbols["save_hint"].startswith("Remove the characters \u2192 \u2714 and it needs 1 text each instead of 2")


def test_recipients_and_cost_are_the_sms_preview(ruth, phone):
    assert measure(ruth, "Hello")["recipients"] == 2  # Sam and Priya: never Ruth herself
    preview = phone(RUTH).text("BROADCAST Hello")[0]
    figures = measure(ruth, "Hello")
    assert f"Send to {figures['recipients']} neighbours" in preview and figures["cost_text"] in preview


def test_a_web_broadcast_is_the_same_campaign_as_by_sms_and_goes_out(ruth, app):
    token = csrf_token(ruth, "/dashboard/broadcast")
    shown = ruth.post("/dashboard/broadcast/preview", data={"csrf_token": token, "area": "elm", "text": "Bins Weds"})
    assert shown.status_code == 200 and "Elm Street: Bins Weds" in shown.get_data(as_text=True)
    with session_of(app) as session:
        campaign = session.scalars(select(Campaign)).one()
        assert (campaign.status, campaign.audience, campaign.body, campaign.channel) == \
            ("draft", 2, "Elm Street: Bins Weds", "web")
    confirmed = ruth.post(f"/dashboard/broadcasts/{campaign.id}/confirm", data={"csrf_token": token})
    assert confirmed.status_code == 302
    board = board_of(app)
    tick(board.sessions, board.settings, utcnow())
    progress = ruth.get(f"/dashboard/broadcasts/{campaign.id}/progress").json
    assert progress["status"] == "sending" and progress["counts"]["queued"] == 2 and progress["audience"] == 2
    assert progress["state"] == "sending" and progress["held_until"] is None


def test_urgent_needs_the_extra_tick_and_another_organiser_cannot_confirm(ruth, app, client, runner):
    token = csrf_token(ruth, "/dashboard/broadcast")
    ruth.post("/dashboard/broadcast/preview", data={"csrf_token": token, "area": "elm", "text": "Flood", "urgent": "1"})
    campaign_id = scalar(app, select(Campaign.id))
    ruth.post(f"/dashboard/broadcasts/{campaign_id}/confirm", data={"csrf_token": token})
    assert scalar(app, select(Campaign.status)) == "draft"

    other = app.test_client()
    runner("organiser", "add", ADA, "elm")
    sign_in(other, ADA)
    other.post(f"/dashboard/broadcasts/{campaign_id}/confirm",
               data={"csrf_token": csrf_token(other, "/dashboard/broadcast"), "urgent_ok": "1"})
    assert scalar(app, select(Campaign.status)) == "draft"

    ruth.post(f"/dashboard/broadcasts/{campaign_id}/confirm", data={"csrf_token": token, "urgent_ok": "1"})
    assert scalar(app, select(Campaign.status)) == "confirmed"


WEDNESDAY_NIGHT = datetime(2026, 11, 25, 22, 30, tzinfo=UTC)  # 22:30 in London (GMT)


@pytest.fixture
def night(db, tmp_path):  # type: ignore[no-untyped-def]
    """Ruth signed in at 22:30 on a board whose quiet hours are 21:00-08:00, and the clock to move."""
    app = create_app(app_config(db, tmp_path, SMS_BOARD_QUIET_HOURS="21:00-08:00"))
    with time_machine.travel(WEDNESDAY_NIGHT, tick=False) as clock:
        runner, client = Runner(app), app.test_client()
        runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
        runner("area", "add", "oak", "Oak Road", "--postcode", "SE6 3")
        runner("area", "add", "river", "Riverside", "--postcode", "SE10")
        settle_the_street(runner, lambda number: Phone(client, number))
        sign_in(client, RUTH)
        yield app, client, clock


def preview_and_confirm(client, text: str) -> int:  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/dashboard/broadcast")
    shown = client.post("/dashboard/broadcast/preview", data={"csrf_token": token, "area": "elm", "text": text})
    assert shown.status_code == 200, shown.get_data(as_text=True)
    campaign_id = int(re.search(r"/dashboard/broadcasts/(\d+)/confirm", shown.get_data(as_text=True)).group(1))
    assert client.post(f"/dashboard/broadcasts/{campaign_id}/confirm", data={"csrf_token": token}).status_code == 302
    return campaign_id


def status_line(page: str) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r"<p>Status: (.*?)</p>", page).group(1))


def test_a_broadcast_confirmed_in_quiet_hours_says_it_is_held_until_eight_and_counts_held_queued_sent(night):
    app, ruth, clock = night
    campaign_id = preview_and_confirm(ruth, "Bins Weds")
    page = page_text(ruth, f"/dashboard/broadcasts/{campaign_id}")
    assert "Confirmed: held until 08:00 (quiet hours)" in page
    assert "starts sending within a minute" not in page
    assert status_line(page) == "held until 08:00 (quiet hours)"

    board = board_of(app)
    tick(board.sessions, board.settings, utcnow())
    progress = ruth.get(f"/dashboard/broadcasts/{campaign_id}/progress").json
    assert progress["state"] == "held until 08:00 (quiet hours)"
    assert progress["held_until"] == "2026-11-26T08:00:00+00:00"
    assert (progress["counts"]["held"], progress["counts"]["queued"], progress["counts"]["sent"]) == (2, 0, 0)
    page = page_text(ruth, f"/dashboard/broadcasts/{campaign_id}")
    assert status_line(page) == "held until 08:00 (quiet hours)"
    assert re.search(r'Held for quiet hours</th><td class="num" data-count="held">2<', page)
    assert re.search(r'Queued[^<]*</th><td class="num" data-count="queued">0<', page)
    recent = page_text(ruth, "/dashboard/broadcast")
    assert "held until 08:00 (quiet hours)" in recent.split("Recent broadcasts")[1]

    clock.move_to(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    tick(board.sessions, board.settings, utcnow())
    sign_in(ruth, RUTH)  # the night's sign-in has expired
    progress = ruth.get(f"/dashboard/broadcasts/{campaign_id}/progress").json
    assert progress["state"] == "sending" and progress["held_until"] is None
    assert (progress["counts"]["held"], progress["counts"]["queued"]) == (0, 2)


def test_a_preview_never_confirmed_leaves_recent_broadcasts_when_it_lapses(night):
    app, ruth, clock = night
    token = csrf_token(ruth, "/dashboard/broadcast")
    ruth.post("/dashboard/broadcast/preview", data={"csrf_token": token, "area": "elm", "text": "Never sent"})
    campaign_id = scalar(app, select(Campaign.id))
    recent = page_text(ruth, "/dashboard/broadcast").split("Recent broadcasts")[1]
    assert "Never sent" in recent and "preview: not confirmed yet" in recent

    clock.shift(timedelta(minutes=16))
    assert "Never sent" not in page_text(ruth, "/dashboard/broadcast").split("Recent broadcasts")[1]
    assert status_line(page_text(ruth, f"/dashboard/broadcasts/{campaign_id}")) == "not sent: preview lapsed"
    board = board_of(app)
    tick(board.sessions, board.settings, utcnow())  # the clock cancels the draft
    assert scalar(app, select(Campaign.status)) == "cancelled"
    assert "Never sent" not in page_text(ruth, "/dashboard/broadcast").split("Recent broadcasts")[1]
    assert status_line(page_text(ruth, f"/dashboard/broadcasts/{campaign_id}")) == "not sent: preview lapsed"


def test_an_organiser_cannot_broadcast_to_an_area_not_theirs(ruth):
    token = csrf_token(ruth, "/dashboard/broadcast")
    refused = ruth.post("/dashboard/broadcast/preview", data={"csrf_token": token, "area": "oak", "text": "Hi"})
    assert refused.status_code == 400 and "Choose at least one area" in refused.get_data(as_text=True)


# ── administration ────────────────────────────────────────────────────────


def test_organisers_who_are_not_administrators_are_refused_administration(ruth):
    assert ruth.get("/dashboard/admin").status_code == 403
    assert "Administration" not in page_text(ruth, "/dashboard")


def test_an_administrator_creates_an_area_and_appoints_and_removes_an_organiser(client, street, runner):
    sign_in(client, ADMIN)
    bad = submit(client, "/dashboard/admin", "/dashboard/admin/areas",
                 {"name": "Birch Close", "slug": "birch", "postcodes": "SE6 1AB"})
    assert bad.status_code == 400 and "full postcode" in bad.get_data(as_text=True)
    added = submit(client, "/dashboard/admin", "/dashboard/admin/areas",
                   {"name": "Birch Close", "slug": "birch", "postcodes": "SE12", "moderation": "first", "private": "1"})
    assert added.status_code == 302
    listed = json.loads(runner("area", "list", "--json").stdout)
    assert {"slug": "birch", "private": True, "moderation": "first"}.items() <= \
        next(a for a in listed if a["slug"] == "birch").items()

    submit(client, "/dashboard/admin", "/dashboard/admin/organisers", {"number": "07700 900789", "area": "birch"})
    page = page_text(client, "/dashboard/admin")
    assert "Joe · +44 7•••• ••789" in page
    joe = re.search(r'/dashboard/admin/organisers/(\d+)/birch/remove', page).group(1)
    submit(client, "/dashboard/admin", f"/dashboard/admin/organisers/{joe}/birch/remove", {})
    assert "Joe · +44 7•••• ••789" not in page_text(client, "/dashboard/admin")


def test_an_administrator_adds_an_area_without_a_public_page_and_turns_it_on_later(client, street, runner):
    sign_in(client, ADMIN)
    added = submit(client, "/dashboard/admin", "/dashboard/admin/areas",
                   {"name": "Birch Close", "slug": "birch", "postcodes": "SE12", "moderation": "open"})
    assert added.status_code == 302
    assert client.get("/board/birch").status_code == 404
    assert "/board/birch" not in page_text(client, "/")
    page = page_text(client, "/dashboard/admin")
    assert re.search(r"Birch Close.*?no public page", page, re.S)

    turned = submit(client, "/dashboard/admin", "/dashboard/admin/areas/birch/public-page", {"public_page": "1"})
    assert turned.status_code == 302
    assert "Birch Close has a public page now" in page_text(client, turned.headers["Location"])
    assert client.get("/board/birch").status_code == 200 and "/board/birch" in page_text(client, "/")
    submit(client, "/dashboard/admin", "/dashboard/admin/areas/elm/public-page", {"public_page": "0"})
    assert client.get("/board/elm").status_code == 404
    changes = [(e["action"], e["area"], e["channel"], e["detail"])
               for e in json.loads(runner("audit", "--json").stdout) if e["action"] == "area_change"]
    assert changes == [("area_change", "birch", "web", {"public_page": True}),
                       ("area_change", "elm", "web", {"public_page": False})]
    log = page_text(client, "/dashboard/admin/audit")
    assert "public page turned off" in log and "public page turned on" in log and "no public page" in log


def test_organisers_cannot_change_an_areas_public_page(ruth):
    token = csrf_token(ruth, "/dashboard")
    refused = ruth.post("/dashboard/admin/areas/elm/public-page", data={"csrf_token": token, "public_page": "0"})
    assert refused.status_code == 403
    assert ruth.get("/board/elm").status_code == 200


# ── public pages ──────────────────────────────────────────────────────────


def test_public_pages_show_the_boards_number(client, street):
    home = page_text(client, "/")
    assert "07700 900000" in home and "text <code>JOIN ELM</code> to 07700 900000" in home
    assert "07700 900000" in page_text(client, "/board/elm")


def test_without_a_number_the_public_pages_say_so(db, tmp_path, areas):
    from sms_board import create_app

    bare = create_app(app_config(db, tmp_path, TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None,
                                 TWILIO_FROM_NUMBER=None)).test_client()
    assert "This board has no phone number yet" in page_text(bare, "/")
    assert "not set up yet" in page_text(bare, "/board/elm")
    assert "TWILIO_FROM_NUMBER" in page_text(bare, "/simulator")


# ── the overview ──────────────────────────────────────────────────────────


def test_the_overview_speaks_of_texts_and_names_settings_only_to_administrators(ruth, app, client, db, tmp_path):
    page = html.unescape(page_text(ruth, "/dashboard"))
    assert "segment" not in page.lower() and "SMS_BOARD_" not in page
    assert "texts this month (a long text counts as several)" in page
    assert "There is no monthly cap." in page

    admin = app.test_client()
    sign_in(admin, ADMIN)
    assert "There is no monthly cap (set SMS_BOARD_MONTHLY_SEGMENT_CAP to have one)." in \
        re.sub(r"<[^>]+>", "", page_text(admin, "/dashboard"))

    capped = create_app(app_config(db, tmp_path, SMS_BOARD_MONTHLY_SEGMENT_CAP="1000")).test_client()
    sign_in(capped, RUTH)
    page = html.unescape(page_text(capped, "/dashboard"))
    assert "segment" not in page.lower() and "of the monthly cap of 1,000 texts" in page


def test_the_connections_chart_legend_shows_bars_as_the_chart_draws_them(ruth):
    page = page_text(ruth, "/dashboard")
    section = page[page.index('id="h-ledger"'):]
    legend = section[section.index('<ul class="legend">'):section.index("</ul>")]
    chart = section[section.index('<svg class="chart"'):]
    chart = chart[:chart.index("</svg>")]
    assert "<line" not in legend and "dash" not in legend, "a bar chart's key shows no line styles"
    bar_fills = re.findall(r'<rect [^>]*fill="([^"]+)"', chart)
    key_fills = re.findall(r'<rect [^>]*fill="([^"]+)"', legend)
    assert len(key_fills) == 2 and len(set(key_fills)) == 2, "one key per series, told apart"
    assert set(key_fills) <= set(bar_fills), "each key is filled as its bars are"
    hatch = next(fill for fill in key_fills if fill.startswith("url(#"))
    assert f'<pattern id="{hatch[5:-1]}"' in page, "the second series is hatched, so it reads in grey too"

    texts = page[page.index('id="h-texts"'):page.index('id="h-ledger"')]
    key = texts[texts.index('<ul class="legend">'):texts.index("</ul>")]
    assert key.count("<line") == 3 and "stroke-dasharray" in key, "a line chart's key shows its lines"
