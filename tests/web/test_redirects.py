"""After sign-in, and after "dealt with" in the inbox, the board only ever sends a browser to a page of its own.

A browser drops tabs and newlines from a URL and reads `\\` as `/`, so `/\\t/evil.example`
is `//evil.example`: another site. Each attacker form below must land on the dashboard
instead, and a newline must not turn the sign-in (its code already used) into a 500.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sms_board.models import InboundMessage
from tests.conftest import session_of
from tests.support.web import ask_for_code, enter_code, last_code, sign_in, submit

RUTH, SAM = "+447700900001", "+447700900123"

ATTACKER_PATHS = [
    "//evil.example/",
    "///evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "/\r\nSet-Cookie: x=1",
    "/ /evil.example",
    "/\x00/evil.example",
    "/\x0b/evil.example",
    "/\u3000/evil.example",
    "/\u2028/evil.example",
    "\t//evil.example",
    " /dashboard",
    "/\\evil.example",
    "\\/evil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%252F%252Fevil.example",
    "/%09/evil.example",
    "/%0A/evil.example",
    "/%0d%0a/evil.example",
    "/../evil.example",
    "/./%2E%2E//evil.example",
    "https://evil.example/",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "/javascript:alert(1)//%0aalert(2)",
    "evil.example",
    "http:/evil.example",
    "//@evil.example",
]
LOCAL_PATHS = [
    "/dashboard/inbox",
    "/dashboard/subscribers?digits=123",
    "/dashboard/inbox?show=all&page=2",
    "/dashboard/exchange?area=elm#requests",
    "/dashboard/subscribers?state=active&q=a%20b",
]


@pytest.fixture
def organiser(areas, runner, phone):
    runner("organiser", "add", RUTH, "elm")
    phone(SAM).text("JOIN ELM")


def signed_in_with_next(client, next_path: str):  # type: ignore[no-untyped-def]
    """Sign in from `/login?next=…` the way a tricked organiser would, and return the last redirect."""
    asked = submit(client, "/login", "/login", {"number": RUTH, "next": next_path})
    assert asked.status_code == 302
    return enter_code(client, last_code(client, RUTH), query_string={"next": next_path})


@pytest.mark.parametrize("attack", ATTACKER_PATHS)
def test_after_sign_in_no_attacker_path_leads_off_the_board(client, organiser, attack):
    landed = signed_in_with_next(client, attack)
    assert landed.status_code == 302
    assert landed.headers["Location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200  # signed in, whatever the next= said


@pytest.mark.parametrize("attack", ATTACKER_PATHS)
def test_the_login_pages_never_carry_an_attacker_path_on(client, organiser, attack):
    assert 'name="next"' not in client.get("/login", query_string={"next": attack}).get_data(as_text=True)
    asked = ask_for_code(client, RUTH, query_string={"next": attack})
    assert "evil.example" not in asked.headers["Location"]


@pytest.mark.parametrize("wanted", LOCAL_PATHS)
def test_after_sign_in_a_page_of_the_board_is_followed(client, organiser, wanted):
    assert signed_in_with_next(client, wanted).headers["Location"] == wanted


def test_a_newline_in_next_is_not_an_error_after_the_code_is_used(client, organiser):
    asked = ask_for_code(client, RUTH)
    assert asked.status_code == 302
    landed = enter_code(client, last_code(client, RUTH), query_string={"next": "/\n/x"})
    assert landed.status_code == 302 and landed.headers["Location"] == "/dashboard"


def a_text_in_the_inbox(app, phone) -> int:  # type: ignore[no-untyped-def]
    phone(SAM).text("is the hall open on sunday")
    with session_of(app) as session:
        return session.scalar(select(func.max(InboundMessage.id)))  # type: ignore[no-any-return]


@pytest.mark.parametrize("attack", ATTACKER_PATHS)
def test_the_inbox_back_field_never_leads_off_the_board(client, organiser, phone, app, attack):
    sign_in(client, RUTH)
    text_id = a_text_in_the_inbox(app, phone)
    done = submit(client, "/dashboard/inbox", f"/dashboard/inbox/{text_id}/dealt-with", {"back": attack})
    assert done.status_code == 302 and done.headers["Location"] == "/dashboard/inbox"


def test_the_inbox_back_field_returns_to_the_page_it_came_from(client, organiser, phone, app):
    sign_in(client, RUTH)
    text_id = a_text_in_the_inbox(app, phone)
    done = submit(client, "/dashboard/inbox", f"/dashboard/inbox/{text_id}/dealt-with",
                  {"back": "/dashboard/inbox?show=all"})
    assert done.headers["Location"] == "/dashboard/inbox?show=all"
