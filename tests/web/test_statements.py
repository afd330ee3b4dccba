"""Every dashboard page costs the same number of SQL statements with 3 rows to show or 15: no query per row.

Statements are counted with SQLAlchemy's `before_cursor_execute` event around one page
view. A page that starts loading something per subscriber, per text or per item
issues more statements when there is more to show, and fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from sms_board.app import board_of
from sms_board.clock.jobs import tick
from sms_board.models import Campaign
from sms_board.plumbing.utc import utcnow
from tests.conftest import session_of
from tests.support.web import csrf_token, sign_in

RUTH, ADMIN = "+447700900001", "+447700900002"
PAGES = ["/dashboard", "/dashboard?area=elm", "/dashboard/inbox", "/dashboard/inbox?show=all",
         "/dashboard/subscribers", "/dashboard/exchange",
         "/dashboard/exchange/ledger.csv", "/dashboard/broadcast", "/dashboard/admin", "/board/elm", "/",
         "/dashboard/moderation", "/dashboard/subscribers/import", "/dashboard/admin/audit",
         "/dashboard/admin/audit?area=elm", "/dashboard/reports", "/dashboard/reports?area=elm",
         "/dashboard/reports?area=elm&shareable=1"]
# A page view: the session and who is looking (3), then what the page shows. The ledger CSV
# reads the ledger once per area (`community.exchange.ledger`): three areas here. The overview
# reads its calls per day (placed, answered, by a machine: docs/voice.md) in one more. The Reports
# page reads the kept months in one statement, and works out only a month not kept yet (its first
# view keeps the months that were due, as `sms-board report` does: the warm view below).
MOST = 17


@contextmanager
def counted(engine) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not statement.startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def grow(phone, first: int, count: int) -> None:  # type: ignore[no-untyped-def]
    """`count` more residents of Elm Street, each asking, helping, texting the inbox and reporting a post."""
    people = [phone(f"+4477009002{n:02d}") for n in range(first, first + count)]
    for n, person in enumerate(people):
        person.text("JOIN ELM")
        person.text(f"NAME Resident{first + n}")
        person.text(f"what about the bins on day {first + n}")
        ref = re.search(r"#(R\d+)", person.text(f"NEED Help number {first + n}")[0]).group(1)
        helper = people[n - 1]
        helper.text(f"CAN {ref}")
        person.text(f"OK {ref}")
        if n % 2:
            person.text(f"DONE {ref} 1")
        notice = re.search(r"#(N\d+)", person.text(f"POST Notice number {first + n}")[0]).group(1)
        helper.text(f"REPORT {notice}")  # one report: still up, in the moderation queue


def statements_per_page(app, client) -> dict[str, int]:  # type: ignore[no-untyped-def]
    engine = board_of(app).engine
    found = {}
    for path in PAGES:
        client.get(path)  # warm: the first view of a page may load more (templates, the CSRF token)
        with counted(engine) as statements:
            shown = client.get(path)
        assert shown.status_code == 200, path
        found[path] = len(statements)
    campaign_id = _a_broadcast(app, client)
    for path in (f"/dashboard/broadcasts/{campaign_id}", f"/dashboard/broadcasts/{campaign_id}/progress"):
        with counted(engine) as statements:
            assert client.get(path).status_code == 200
        found[path.replace(str(campaign_id), "N")] = len(statements)
    token = csrf_token(client, "/dashboard/broadcast")
    with counted(engine) as statements:
        client.post("/dashboard/broadcast/measure", json={"text": "Hello", "areas": ["elm"]},
                    headers={"X-CSRFToken": token})
    found["measure"] = len(statements)
    with counted(engine) as statements:
        exported = client.post("/dashboard/subscribers/export.csv", data={"csrf_token": token})
    assert exported.status_code == 200
    found["export.csv"] = len(statements)
    with counted(engine) as statements:  # a search: counted against the limit, then the page
        searched = client.post("/dashboard/subscribers", data={"csrf_token": token, "number": "2"})
    assert searched.status_code == 200
    found["search"] = len(statements)
    return found


def _a_broadcast(app, client) -> int:  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/dashboard/broadcast")
    client.post("/dashboard/broadcast/preview", data={"csrf_token": token, "area": "elm", "text": "Bins Weds"})
    with session_of(app) as session:
        campaign_id = session.scalar(select(Campaign.id).order_by(Campaign.id.desc()))
    client.post(f"/dashboard/broadcasts/{campaign_id}/confirm", data={"csrf_token": token})
    board = board_of(app)
    tick(board.sessions, board.settings, utcnow())
    return campaign_id  # type: ignore[no-any-return]


@pytest.fixture
def admin(areas, runner, client):
    runner("organiser", "add", RUTH, "elm")
    runner("admin", "add", ADMIN)
    sign_in(client, ADMIN)
    return client


def test_no_dashboard_page_issues_a_statement_per_row(app, admin, phone):
    grow(phone, 0, 3)
    few = statements_per_page(app, admin)
    grow(phone, 3, 12)
    many = statements_per_page(app, admin)
    assert many == few, {page: (few[page], many[page]) for page in few if few[page] != many[page]}
    assert max(many.values()) <= MOST, many
