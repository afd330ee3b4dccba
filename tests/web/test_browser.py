"""A person in a real browser (Debian's Chromium, driven by Playwright) texts the board from the simulator.

Chromium comes from the system (`apt-get install chromium`), never from a
download at test time. Where it is missing and cannot be installed, these
tests are skipped with a loud BROWSER TESTS SKIPPED line.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.conftest import development_board

pytestmark = pytest.mark.browser


@pytest.fixture
def app(db, tmp_path):  # type: ignore[no-untyped-def]
    """The simulator exists only on a development board (console transport, no Twilio credentials)."""
    return development_board(db, tmp_path)


@pytest.fixture
def live_server(app, areas) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def page(browser, live_server):  # type: ignore[no-untyped-def]
    """A new page in a browser context of its own (the shared Chromium: tests/support/browser.py)."""
    return browser.new_page()


def test_a_resident_joins_and_posts_from_the_simulator(page, live_server):
    page.goto(f"{live_server}/simulator?from=%2B447700900123")
    page.get_by_label("Message").fill("JOIN ELM")
    page.get_by_role("button", name="Send").click()
    page.wait_for_selector("text=Welcome to Elm Street board.")

    page.get_by_label("Message").fill("POST Lost ginger cat near the park")
    page.get_by_role("button", name="Send").click()
    page.wait_for_selector("text=Posted as #N1 to Elm Street.")
    bubbles = page.locator(".bubble").all_inner_texts()
    assert bubbles.index("JOIN ELM") < next(i for i, b in enumerate(bubbles) if b.startswith("Welcome"))


def test_switching_phone_shows_that_phones_thread(page, live_server):
    page.goto(f"{live_server}/simulator?from=%2B447700900123")
    page.get_by_label("Message").fill("JOIN ELM")
    page.get_by_role("button", name="Send").click()
    page.wait_for_selector("text=Welcome to Elm Street board.")
    page.get_by_role("link", name="+447700900456").click()
    page.wait_for_selector("text=Try JOIN ELM")
    assert page.get_by_label("From number").input_value() == "+447700900456"
