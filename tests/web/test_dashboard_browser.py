"""An organiser on the dashboard in a real browser (Debian's Chromium, driven by Playwright).

Each main page is checked with axe-core (from the npm registry, injected into the page):
no serious or critical violations. With SMS_BOARD_SCREENSHOTS=1 the pages are saved
under docs/screenshots/ for the README (`make screenshots`); otherwise to a temporary folder.
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import select
from werkzeug.serving import make_server

from sms_board.app import board_of
from sms_board.clock.jobs import tick
from sms_board.models import Area, Outbox, Subscriber
from sms_board.plumbing.utc import utcnow
from sms_board.sending.sender import drain
from tests.conftest import development_board
from tests.reports.conftest import Month
from tests.support.axe import serious_violations

pytestmark = pytest.mark.browser

RUTH, ADMIN = "+447700900001", "+447700900002"
SAM, PRIYA, JOE = "+447700900123", "+447700900456", "+447700900789"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def app(db, tmp_path, request):  # type: ignore[no-untyped-def]
    """A development board (console transport, no Twilio credentials): the simulator's pages are shot too.
    A test may give it settings (`parametrize("app", [{…}], indirect=True)`)."""
    return development_board(db, tmp_path, **getattr(request, "param", {}))


@pytest.fixture
def neighbourhood(areas, runner, phone):
    """Ruth organises Elm Street; Sam and Priya live there, Joe by the oak; one administrator."""
    runner("organiser", "add", RUTH, "elm")
    runner("admin", "add", ADMIN)
    for number, name, area in [(SAM, "Sam", "ELM"), (PRIYA, "Priya", "ELM"), (JOE, "Joe", "OAK"), (RUTH, "Ruth", "ELM")]:
        person = phone(number)
        person.text(f"JOIN {area}")
        person.text(f"NAME {name}")
    phone(SAM).text("NEED A lift to the GP on Thursday morning")
    phone(PRIYA).text("OFFER Dog walking at weekends")


@pytest.fixture
def server(app, neighbourhood) -> Iterator[str]:
    live = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=live.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{live.server_port}"
    finally:
        live.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    # bypass_csp: the board's own CSP refuses inline scripts, and axe-core is injected as one.
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def shoot(tmp_path):  # type: ignore[no-untyped-def]
    folder = SHOTS if os.environ.get("SMS_BOARD_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> None:  # type: ignore[no-untyped-def]
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return save


def accessible(page) -> None:  # type: ignore[no-untyped-def]
    found = serious_violations(page)
    assert not found, f"{page.url}: serious accessibility violations:\n{json.dumps(found, indent=2)}"


def outbox_code(app, number: str) -> str:  # type: ignore[no-untyped-def]
    with board_of(app).sessions() as session:
        for body in session.scalars(select(Outbox.body).where(Outbox.to_number == number).order_by(Outbox.id.desc())):
            found = re.search(r"sign-in code is (\d{6})", body)
            if found:
                return found.group(1)
    raise AssertionError(f"no code texted to {number}")


def ask_for_a_code(page, server: str, number: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/login")
    page.get_by_label("Your mobile number").fill(number)
    page.get_by_role("button", name="Text me a code").click()
    page.wait_for_selector("text=a 6-digit code is on its way")


def type_code(page, code: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("6-digit code").fill(code)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page, server: str, app, number: str = RUTH) -> None:  # type: ignore[no-untyped-def]
    ask_for_a_code(page, server, number)
    type_code(page, outbox_code(app, number))
    page.wait_for_selector("h1:has-text('Overview')")


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_an_organiser_signs_in_by_a_code_texted_to_them(page, server, app, shoot):
    page.goto(f"{server}/login")
    accessible(page)
    shoot(page, "login")
    ask_for_a_code(page, server, RUTH)
    assert "+44 7•••• ••001" in page.inner_text("main")
    accessible(page)
    code = outbox_code(app, RUTH)

    with time_machine.travel(utcnow(), tick=True) as clock:
        type_code(page, wrong(code))
        page.wait_for_selector("text=That code is not right. 4 more tries")

        clock.shift(timedelta(minutes=11))
        type_code(page, code)
        page.wait_for_selector("text=That code has expired")

        ask_for_a_code(page, server, RUTH)
        fresh = outbox_code(app, RUTH)
        for _ in range(5):
            type_code(page, wrong(fresh))
        page.wait_for_selector("text=Too many wrong tries")
        type_code(page, fresh)
        page.wait_for_selector("text=Too many wrong tries")

        ask_for_a_code(page, server, RUTH)
        type_code(page, outbox_code(app, RUTH))
        page.wait_for_selector("h1:has-text('Overview')")
        assert page.locator("svg.chart").count() == 3
        accessible(page)
        shoot(page, "overview")

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_selector("text=You have signed out.")
        page.goto(f"{server}/dashboard/inbox")
        page.wait_for_selector("h1:has-text('Sign in')")


def test_a_resident_asking_for_a_code_gets_the_same_page_and_no_code(page, server, app):
    ask_for_a_code(page, server, SAM)
    assert "If +44 7•••• ••123 belongs to an organiser or administrator" in page.inner_text("main")
    with board_of(app).sessions() as session:
        assert not session.scalars(select(Outbox.body).where(Outbox.to_number == SAM,
                                                             Outbox.body.like("%sign-in code%"))).all()
    type_code(page, "123456")
    page.wait_for_selector("text=That code is not right.")
    page.goto(f"{server}/dashboard")
    page.wait_for_selector("h1:has-text('Sign in')")


def test_the_composer_counts_as_the_organiser_types_and_the_broadcast_goes_out(page, server, app, shoot):
    sign_in(page, server, app)
    page.get_by_role("link", name="Broadcast").click()
    message = page.get_by_label("Message", exact=True)
    message.fill("Bin collection moves to Wednesday this week")
    figure = page.locator("#counter [data-figure=encoding]")
    page.wait_for_function("document.querySelector('[data-figure=characters]').textContent === '43'")
    assert figure.inner_text() == "GSM-7"
    assert page.locator("[data-figure=recipients]").inner_text() == "2"  # Sam and Priya, not Ruth herself
    assert page.locator("[data-figure=segments]").inner_text() == "1"

    message.press("End")
    message.type(" \U0001f5d1\ufe0f")
    page.wait_for_function("document.querySelector('[data-figure=encoding]').textContent === 'UCS-2'")
    assert page.locator("#highlight mark.ucs2").inner_text() == "\U0001f5d1\ufe0f"
    accessible(page)
    shoot(page, "composer")
    page.get_by_role("button", name="Use plain characters").click()
    page.wait_for_function("document.querySelector('[data-figure=encoding]').textContent === 'GSM-7'")
    assert message.input_value() == "Bin collection moves to Wednesday this week"
    assert page.locator("#ucs2").is_hidden()

    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("text=Check before sending")
    assert "Elm Street: Bin collection moves to Wednesday this week" in page.inner_text(".preview-text")
    accessible(page)
    shoot(page, "preview")
    page.get_by_role("button", name="Send to 2 neighbours").click()
    page.wait_for_selector("text=Confirmed: the board starts sending within a minute.")
    assert page.locator("[data-progress=status]").inner_text() == "confirmed"

    board = board_of(app)
    tick(board.sessions, board.settings, utcnow())
    drain(board.sessions, board.transport, board.settings)
    page.wait_for_function("document.querySelector('[data-count=sent]').textContent === '2'", timeout=10_000)
    accessible(page)
    shoot(page, "broadcast-progress")


def test_the_composer_says_remove_the_emoji_and_plain_characters_keep_the_full_stop(page, server, app):
    sign_in(page, server, app)
    page.goto(f"{server}/dashboard/broadcast")
    message = page.get_by_label("Message", exact=True)
    message.fill("Garden waste goes out on Wednesday: green bags and cut items only \U0001f33f\nThanks, Ruth")
    hint = page.locator("#save-hint")
    hint.wait_for(state="visible")
    assert hint.inner_text() == ("Remove the emoji \U0001f33f and it needs 1 text each instead of 2 "
                                 "(\u201cUse plain characters\u201d does it).")
    page.get_by_role("button", name="Use plain characters").click()
    page.wait_for_function("document.querySelector('[data-figure=encoding]').textContent === 'GSM-7'")
    assert message.input_value() == "Garden waste goes out on Wednesday: green bags and cut items only.\nThanks, Ruth"
    assert hint.is_hidden()
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("text=Check before sending")
    assert "cut items only. Thanks, Ruth" in page.inner_text(".preview-text")


def test_the_composer_says_welsh_letters_are_kept_and_offers_to_take_out_only_the_emoji(page, server, app):
    sign_in(page, server, app)
    page.goto(f"{server}/dashboard/broadcast")
    message = page.get_by_label("Message", exact=True)
    message.fill("D\u0175r wedi\u2019i ddiffodd \u2014 \u0177 \u00e2 \u00ea")
    page.wait_for_function("document.querySelector('[data-figure=encoding]').textContent === 'UCS-2'")
    page.locator("#ucs2").wait_for(state="visible")
    assert page.locator("#ucs2-list li").all_inner_texts() == [
        f"{letter} a letter: kept as written" for letter in sorted("\u0175\u0177\u00e2\u00ea")]
    assert page.locator("#highlight mark.ucs2.letter").all_inner_texts() == ["\u0175", "\u0177", "\u00e2", "\u00ea"]
    assert page.get_by_role("button", name="Use plain characters").is_hidden()
    accessible(page)

    message.press("End")
    message.type(" \U0001f4a7")
    page.get_by_role("button", name="Use plain characters").wait_for(state="visible")
    assert page.locator("#ucs2-list li").last.inner_text() == (
        "\U0001f4a7 no plain look-alike: \u201cUse plain characters\u201d takes it out")
    page.get_by_role("button", name="Use plain characters").click()
    page.wait_for_function("!document.querySelector('#ucs2-list').textContent.includes('takes it out')")
    assert message.input_value() == "D\u0175r wedi'i ddiffodd - \u0177 \u00e2 \u00ea"


@pytest.mark.parametrize("app", [{"SMS_BOARD_LANGUAGES": "cy,en"}], indirect=True)
def test_on_a_bilingual_board_each_language_has_its_box_counter_and_cost(page, server, app, phone, shoot):
    phone(SAM).text("CYMRAEG")  # Sam reads Welsh, Priya English
    sign_in(page, server, app)
    page.goto(f"{server}/dashboard/broadcast")
    welsh, english = page.get_by_label("Message in Cymraeg (CY)"), page.get_by_label("Message in English (EN)")
    welsh.fill("D\u0175r wedi\u2019i ddiffodd tan 3yp")
    page.wait_for_function("document.querySelector('#counter-cy [data-figure=encoding]').textContent === 'UCS-2'")
    page.wait_for_function("document.querySelector('#counter-cy [data-figure=recipients]').textContent === '2'")
    assert page.locator("#totals-notes li").all_inner_texts() == [
        "English: no version, so its 1 reader gets the Cymraeg version."]

    english.fill("Water off until 3pm")
    page.wait_for_function("document.querySelector('#counter-en [data-figure=recipients]').textContent === '1'")
    assert page.locator("#counter-cy [data-figure=recipients]").inner_text() == "1"
    assert page.locator("#counter-en [data-figure=encoding]").inner_text() == "GSM-7"
    assert page.locator("#counter-en [data-figure=cost_text]").inner_text() == "\u00a30.04"
    assert page.locator("#totals-summary").inner_text() == "In all: 2 recipients, 2 texts, about \u00a30.08"
    assert page.locator("#totals-notes li").count() == 0
    accessible(page)
    shoot(page, "composer-versions")

    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("text=Check before sending")
    assert "Cymraeg (CY): 1 recipient" in page.inner_text("main")
    accessible(page)
    page.get_by_role("button", name="Send to 2 neighbours").click()
    page.wait_for_selector("text=Confirmed: the board starts sending within a minute.")


def test_an_urgent_broadcast_asks_once_more(page, server, app):
    sign_in(page, server, app)
    page.goto(f"{server}/dashboard/broadcast")
    page.get_by_label("Message", exact=True).fill("Water main burst on Elm Street: boil water before drinking")
    page.get_by_label("URGENT").check()
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("text=goes at once, even at night, to 2 people")
    send = page.get_by_role("button", name="Send URGENT to 2")
    send.click()
    assert "Check before sending" in page.inner_text("h1"), "the browser keeps the unticked form"
    page.get_by_label("I mean to send this URGENT broadcast now").check()
    send.click()
    page.wait_for_selector("text=Confirmed")


def test_an_organiser_replies_to_an_inbox_text_and_it_is_in_the_outbox(page, server, app, phone, runner, shoot):
    phone(SAM).text("Is the bin day changing this week?")
    sign_in(page, server, app)
    page.get_by_role("link", name=re.compile("^Inbox")).click()
    card = page.locator("article", has_text="Is the bin day changing this week?")
    assert "+44 7•••• ••123" in card.inner_text() and "Sam" in card.inner_text()
    assert "7700900123" not in page.content()
    accessible(page)
    shoot(page, "inbox")
    card.get_by_label("Reply by text to Sam").fill("Yes: Wednesday this week only.")
    card.get_by_role("button", name="Send reply").click()
    page.wait_for_selector("text=Reply sent to the outbox.")

    sent = [row for row in json.loads(runner("outbox", "--json").stdout) if row["to"] == SAM]
    assert sent[-1]["body"] == "Yes: Wednesday this week only.\n- Elm Street organisers"
    assert sent[-1]["kind"] == "notify" and RUTH[3:] not in sent[-1]["body"]
    page.get_by_role("link", name="Show every text, dealt with too").click()
    page.wait_for_selector("text=Dealt with")
    page.wait_for_selector("text=Yes: Wednesday this week only.")


def test_a_form_without_its_csrf_token_is_refused(page, server, app):
    sign_in(page, server, app, ADMIN)
    page.goto(f"{server}/dashboard/admin")
    page.get_by_label("Name", exact=True).fill("Birch Close")
    page.get_by_label("Short name residents text (JOIN …)").fill("birch")
    page.eval_on_selector_all("input[name=csrf_token]", "inputs => inputs.forEach(i => i.value = 'forged')")
    page.get_by_role("button", name="Add the area").click()
    page.wait_for_selector("text=This form could not be accepted")
    with board_of(app).sessions() as session:
        assert session.scalar(select(Area).where(Area.slug == "birch")) is None


def test_the_main_pages_are_accessible_and_fit_a_phone(browser, server, app, shoot):
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True)
    page = context.new_page()
    sign_in(page, server, app, ADMIN)
    for path, name in [("/dashboard/subscribers", "subscribers"), ("/dashboard/exchange", "exchange"),
                       ("/dashboard/admin", "admin"), ("/", "home"), ("/board/elm", "board"),
                       ("/simulator?from=%2B447700900001", "simulator")]:
        page.goto(server + path)
        accessible(page)
        shoot(page, name)
    context.close()

    phone = browser.new_context(viewport=PHONE, bypass_csp=True, java_script_enabled=False)
    page = phone.new_page()
    for path, name in [("/", "phone-home"), ("/board/elm", "phone-board"), ("/simulator", "phone-simulator")]:
        page.goto(server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide on a 390px phone"
        shoot(page, name)
    frame = page.locator(".phone").bounding_box()
    use = page.get_by_role("button", name="Use").bounding_box()
    assert use["x"] + use["width"] <= frame["x"] + frame["width"], "the Use button stays inside the phone"
    assert "(organiser)" in page.inner_text(".numbers")
    phone.close()


def test_an_organiser_approves_a_held_post_and_it_is_on_the_public_board(page, server, app, runner, phone, shoot):
    runner("area", "add", "quiet", "Quiet Lane", "--postcode", "SE9", "--moderation", "all")
    runner("organiser", "add", RUTH, "quiet")
    mo, lin = "+447700900601", "+447700900602"
    for number, name in [(mo, "Mo"), (lin, "Lin")]:
        phone(number).text("JOIN QUIET")
        phone(number).text(f"NAME {name}")
    phone(lin).text("POST Lost cat, ginger, answers to Biscuit")
    phone(mo).text("POST Free piano, you collect")
    page.goto(f"{server}/board/quiet")
    assert "Free piano" not in page.inner_text("main")

    sign_in(page, server, app)
    page.get_by_role("link", name="Moderation").click()
    card = page.locator("article", has_text="Free piano, you collect")
    assert "Mo" in card.inner_text() and "+44 7•••• ••601" in card.inner_text()
    assert "7700900601" not in page.content()
    accessible(page)
    shoot(page, "moderation")
    card.get_by_role("button", name=re.compile("^Approve")).click()
    page.wait_for_selector("text=it's up on Quiet Lane and Mo has been told")
    page.goto(f"{server}/board/quiet")
    assert "Free piano, you collect" in page.inner_text("main")
    assert "Lost cat" not in page.inner_text("main"), "Lin's post still waits"


def test_a_csv_with_a_bad_row_writes_nothing_then_the_fixed_file_imports(page, server, app, shoot):
    header = "number,area,name,consent_source,consent_at\n"
    bad = header + "07700 900501,elm,Ann,paper form at the May fair,\n07700 900502,elm,Bob,,\n"
    sign_in(page, server, app)
    page.get_by_role("link", name="Subscribers").click()
    page.get_by_role("link", name="Import a CSV list").click()
    accessible(page)
    page.get_by_label("CSV file").set_input_files({"name": "fair.csv", "mimeType": "text/csv", "buffer": bad.encode()})
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_selector("text=1 row failed: nothing was written")
    assert "consent_source is empty" in page.locator("table", has_text="Rows that failed").inner_text()
    assert page.get_by_role("button", name=re.compile("^Import")).count() == 0
    accessible(page)
    shoot(page, "import-errors")
    with board_of(app).sessions() as session:
        assert session.scalar(select(Subscriber).where(Subscriber.phone == "+447700900501")) is None

    fixed = bad.replace("Bob,,", "Bob,paper form at the May fair,")
    page.get_by_label("CSV file").set_input_files({"name": "fair.csv", "mimeType": "text/csv",
                                                  "buffer": fixed.encode()})
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_selector("text=Dry run, nothing written yet")
    accessible(page)
    shoot(page, "import-dry-run")
    page.get_by_role("button", name="Import 2 subscribers").click()
    page.wait_for_selector("text=2 of 2 rows subscribed, each sent a welcome text")
    page.get_by_label("Number", exact=True).fill("502")
    page.get_by_role("button", name="Search").click()
    assert "Bob" in page.locator("table").inner_text()


def test_an_administrator_makes_an_invite_code_and_reads_the_audit_log(page, server, app, runner, shoot):
    runner("area", "add", "carers", "Foster Carers", "--private")
    sign_in(page, server, app, ADMIN)
    page.goto(f"{server}/dashboard/admin")
    page.get_by_label("Private area", exact=True).select_option("carers")
    page.get_by_label("How many people may use it").fill("5")
    page.get_by_role("button", name="Make a code").click()
    page.wait_for_selector("text=shown only this once")
    code = page.locator("#invite-code").inner_text()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{2}", code)
    accessible(page)
    shoot(page, "invite-code")
    page.get_by_role("link", name="Audit log").first.click()
    page.wait_for_selector("h1:has-text('Audit log')")
    assert "invite" in page.locator("table").inner_text() and code not in page.content()
    page.get_by_label("Area", exact=True).select_option("carers")
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("text=2 entries.")  # the area added, then its invite
    accessible(page)
    shoot(page, "audit")


def test_the_audit_log_reads_as_one_card_per_entry_on_a_phone(browser, server, app, runner, shoot):
    runner("subscribers", "export", "--area", "elm")
    phone = browser.new_context(viewport=PHONE, bypass_csp=True)
    page = phone.new_page()
    sign_in(page, server, app, ADMIN)
    page.goto(f"{server}/dashboard/admin/audit")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the audit log is {width}px wide on a 390px phone"
    details = page.locator('td[data-label="Detail"]')
    assert details.count() == 6  # three areas, an organiser, an administrator, the export
    for n in range(details.count()):
        box = details.nth(n).bounding_box()
        assert box["width"] >= 300, f"a detail squeezed to {box['width']:.0f}px: {details.nth(n).inner_text()!r}"
    card = page.locator("tr", has_text="made an administrator")
    assert card.inner_text().splitlines() == [
        card.locator("td").first.inner_text(), "admin add", "-", "-", "operator", "cli",
        "+44 7•••• ••002 made an administrator"], "one line per field, the card's own order"
    labels = card.locator("td").evaluate_all("cells => cells.map(c => getComputedStyle(c, '::before').content)")
    assert labels == ['"When: "', '"Action: "', '"Area: "', '"Item: "', '"Who: "', '"Via: "', '"Detail: "']
    assert "3 rows, full numbers" in page.inner_text("main")  # Sam, Priya and Ruth live on Elm Street
    accessible(page)
    shoot(page, "phone-audit")
    phone.close()


def a_year_on_elm_street(phone) -> None:  # type: ignore[no-untyped-def]
    """Eight more neighbours join Elm thirteen months ago; then, month by month, one to three exchanges
    (mostly between people helping each other for the first time, every fourth between an old pair),
    and in some months a request nobody answers."""
    from itertools import combinations

    now = utcnow()
    first = datetime(now.year - 1, now.month, 1, 10, 0, tzinfo=UTC) - timedelta(days=20)
    people = [phone(f"+4477009006{n:02d}") for n in range(8)]
    pairs = list(combinations(range(8), 2))
    with time_machine.travel(first, tick=False) as traveller:
        street = Month(traveller)
        for person, name in zip(people, ("Ann", "Bob", "Cat", "Dev", "Eve", "Fay", "Gus", "Hal"), strict=True):
            person.text("JOIN ELM")
            person.text(f"NAME {name}")
        done = 0
        for month in range(12):
            start = datetime(first.year + (first.month + month) // 12, (first.month + month) % 12 + 1, 3, 10, 0,
                             tzinfo=UTC)
            for n in range(month % 3 + 1):
                a, b = pairs[done - 3 if done % 4 == 3 else done]
                asker, helper = (a, b) if done % 2 else (b, a)
                street.exchange(people[asker], people[helper], start + timedelta(days=2 * n), timedelta(hours=3),
                                str(n + 1))
                done += 1
            if month % 4 == 1:
                street.at(start + timedelta(days=9))
                people[month % 8].text("NEED someone to help clear the gutters")


def test_the_reports_page_draws_a_year_and_prints_on_one_a4_sheet(page, server, app, phone, shoot):
    a_year_on_elm_street(phone)
    sign_in(page, server, app)
    page.get_by_role("link", name="Reports").click()
    page.wait_for_selector("h1:has-text('Report for Elm Street')")
    charts = page.locator("svg.chart")
    assert charts.count() == 3
    for n in range(3):
        box = charts.nth(n).bounding_box()
        assert charts.nth(n).is_visible() and box["width"] >= 300 and box["height"] >= 100, box
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= DESKTOP["width"], f"the Reports page is {width}px wide in a {DESKTOP['width']}px window"
    accessible(page)
    shoot(page, "reports")

    # A councillor's one sheet: the print stylesheet (Chromium's page.pdf prints with `@media print`).
    pdf = page.pdf(format="A4", print_background=True)
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(unicodedata.normalize("NFKC", reader.pages[0].extract_text()).split())  # no "ﬁ", no line ends
    assert len(reader.pages) == 1, f"the printed report is {len(reader.pages)} A4 pages"
    assert "Report for Elm Street" in text, text
    for title in ("New connections", "Gave and received", "Requests unanswered for 3 days", "Hours given",
                  "Members never in an exchange"):
        assert title in text, f"{title!r} is not on the printed page"
    figures = dict(page.locator("table.report-figures tbody tr").evaluate_all(
        "rows => rows.map(r => [r.querySelector('th').textContent.trim(), r.querySelector('td').textContent.trim()])"))
    assert re.search(rf"Hours given\s*{figures['Hours given']}\b", text), text
    trends = text.split("Twelve months", 1)[1]
    for title in ("New connections", "Gave and received", "Requests unanswered for 3 days"):
        assert title in trends, f"the chart {title!r} is not on the printed page"
    months = page.locator("svg.chart").first.locator("text.axis").all_text_contents()
    assert len(months) == 5 + 12 * 2 and all(label in trends for label in months), months  # its axis, bars, months
    for absent in ("Overview", "Inbox", "Broadcast", "Sign out", "Download the figures", "Shareable version"):
        assert absent not in text, f"{absent!r} is printed"

    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the Reports page is {width}px wide on a 390px phone"


# ── a Welsh council's board: the main pages in Welsh ─────────────────────────


@pytest.fixture
def welsh_server(db, tmp_path) -> Iterator[tuple[str, object]]:  # type: ignore[no-untyped-def]
    """A `cy,en` development board with the same neighbourhood, Sam having joined in Welsh."""
    from tests.conftest import Phone, Runner

    app = development_board(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en")
    runner, client = Runner(app), app.test_client()
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("organiser", "add", RUTH, "elm")
    runner("admin", "add", ADMIN)
    for number, words in [(SAM, ("YMUNO ELM", "ENW Sam")), (PRIYA, ("JOIN ELM", "NAME Priya")),
                          (RUTH, ("JOIN ELM", "NAME Ruth"))]:
        for body in words:
            Phone(client, number).text(body)
    Phone(client, SAM).text("ANGEN Lifft i'r feddygfa ddydd Iau")
    Phone(client, PRIYA).text("is the bin day changing")
    live = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=live.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{live.server_port}", app
    finally:
        live.shutdown()
        thread.join(timeout=5)


def test_the_main_pages_in_welsh_are_accessible_and_the_language_is_chosen_with_a_link(browser, welsh_server, shoot):
    from sms_board.text.languages import pack

    server, app = welsh_server
    cy = pack("cy").page_translations().gettext
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True, locale="en-GB")
    page = context.new_page()
    page.goto(f"{server}/login")
    assert page.get_attribute("html", "lang") == "en-GB", "the browser asks for English, which the board speaks"
    page.get_by_role("link", name="Cymraeg").click()
    page.wait_for_selector("html[lang=cy]")
    assert page.get_by_role("link", name="English").get_attribute("lang") == "en-GB"
    accessible(page)
    page.get_by_label(cy("Your mobile number")).fill(ADMIN)
    page.get_by_role("button", name=cy("Text me a code")).click()
    page.wait_for_selector(f"h1:has-text('{cy('Enter your code')}')")
    page.get_by_label(cy("6-digit code")).fill(outbox_code(app, ADMIN))
    page.get_by_role("button", name=cy("Sign in")).click()
    page.wait_for_selector(f"h1:has-text('{cy('Overview')}')")
    for path, name in [("/dashboard", "overview"), ("/dashboard/inbox", "inbox"), ("/dashboard/moderation", "moderation"),
                       ("/dashboard/subscribers", "subscribers"), ("/dashboard/subscribers/import", "import"),
                       ("/dashboard/exchange", "exchange"), ("/dashboard/admin", "admin"),
                       ("/dashboard/admin/audit", "audit"), ("/", "home"), ("/board/elm", "board"),
                       ("/simulator", "simulator")]:
        page.goto(server + path)
        assert page.get_attribute("html", "lang") == "cy", path
        accessible(page)
        shoot(page, f"cy-{name}")
    # The composer in Welsh: its live counter's words and numbers come from the server in Welsh.
    page.goto(f"{server}/dashboard/broadcast")
    assert page.get_attribute("main", "lang") is None and page.get_attribute("html", "lang") == "cy"
    page.get_by_label("Elm Street").check()
    page.locator("#text-cy").fill("D\u0175r wedi ei ddiffodd tan 3yp")
    page.wait_for_function("document.getElementById('counter-summary-cy').textContent.indexOf('UCS-2') >= 0")
    assert page.inner_text("#counter-summary-cy").startswith("1 neges yr un, UCS-2")
    assert page.locator("#ucs2-list-cy li").inner_text().endswith(cy("a letter: kept as written"))
    assert page.get_attribute("#totals-notes span", "lang") == "en-GB", "a language's name inside Welsh words"
    accessible(page)
    shoot(page, "cy-composer")
    page.get_by_role("button", name=cy("Preview")).click()
    page.wait_for_selector(f"h1:has-text('{cy('Check before sending')}')")
    accessible(page)

    page.goto(f"{server}/dashboard/subscribers")
    row = page.locator("tr", has_text="+44 7•••• ••123")
    language = row.get_by_label(cy("Language of %(number)s") % {"number": "+44 7•••• ••123"}, exact=True)
    assert language.input_value() == "cy"
    language.select_option("en")
    row.get_by_role("button", name=cy("Change the language of %(number)s") % {"number": "+44 7•••• ••123"}).click()
    page.wait_for_selector("p.flash")
    said = cy("%(number)s is texted in %(language)s now.") % {"number": "+44 7•••• ••123", "language": "English"}
    assert page.inner_text("p.flash") == said
    accessible(page)
    with board_of(app).sessions() as session:
        assert session.scalar(select(Subscriber.language).where(Subscriber.phone == SAM)) == "en"
    context.close()



# Every item of the top bar: the name of the board, each link, and Sign out.
HEADER_ITEMS = """[...document.querySelectorAll('header.top .brand, header.top nav li, header.top form button')]
                  .map(e => { const r = e.getBoundingClientRect();
                              return {text: e.textContent.trim(), top: r.top, bottom: r.bottom, height: r.height,
                                      lines: Math.round(r.height / parseFloat(getComputedStyle(e).lineHeight))}; })"""


@pytest.mark.parametrize("width", [1024, 1100, 1440])
def test_the_top_bar_is_one_line_on_a_laptop(browser, server, app, width):
    """An administrator sees every link (Reports and Admin too): at 1,024 px and wider, the name of the board,
    the links and Sign out are one line."""
    context = browser.new_context(viewport={"width": width, "height": 800}, bypass_csp=True)
    page = context.new_page()
    sign_in(page, server, app, ADMIN)
    items = page.evaluate(HEADER_ITEMS)
    assert [item["text"] for item in items][-2:] == ["Audit log", "Sign out"] and any(i["text"] == "Reports" for i in items)
    tops = {round(item["top"]) for item in items}
    assert max(tops) - min(tops) <= 4, f"at {width}px the top bar wraps: {items}"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()


@pytest.mark.parametrize("width", [390, 600, 800, 1000])
def test_below_a_laptop_the_top_bar_wraps_between_items_never_inside_one(browser, server, app, width):
    context = browser.new_context(viewport={"width": width, "height": 800}, bypass_csp=True)
    page = context.new_page()
    sign_in(page, server, app, ADMIN)
    items = page.evaluate(HEADER_ITEMS)
    assert [item for item in items if item["lines"] > 1] == [], f"at {width}px an item breaks inside: {items}"
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"the page is wider than {width}px"
    context.close()
