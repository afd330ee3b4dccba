"""An id or a page number too big for the database is "not found" (or the last page), never a 500.

The routes are read from the app's own URL map, so a route added later with an id in its
path is tried here without anyone remembering to add it.
"""

from __future__ import annotations

import pytest
from flask import url_for
from werkzeug.routing import IntegerConverter

from sms_board.web.ids import IdConverter
from tests.support.web import csrf_token, sign_in

ADMIN, SAM = "+447700900002", "+447700900123"
# Past SQLite's and PostgreSQL's bigint, past PostgreSQL's integer, and past 64 bits altogether.
HUGE = ["99999999999999999999", str(2**63), str(2**31)]
# What each form needs so that the route reaches its id (a moderation decision is checked first).
FORMS = {"dashboard.moderate": {"decision": "approve"}, "dashboard.reply_to": {"text": "hello"}}


@pytest.fixture
def admin(client, areas, runner, phone):
    runner("admin", "add", ADMIN)
    phone(SAM).text("JOIN ELM")
    sign_in(client, ADMIN)
    return client


def routes_with_ids(app):  # type: ignore[no-untyped-def]
    return [rule for rule in app.url_map.iter_rules()
            if any(isinstance(c, IntegerConverter) for c in rule._converters.values())]


def path_with_id(app, rule, huge: str) -> str:  # type: ignore[no-untyped-def]
    """The rule's URL with `huge` for each id (and an area's slug for any other part)."""
    marker = 7340033
    values = {name: marker if isinstance(c, IntegerConverter) else "elm" for name, c in rule._converters.items()}
    with app.test_request_context():
        return url_for(rule.endpoint, **values).replace(str(marker), huge)


def test_every_id_in_a_path_is_read_by_the_one_id_converter(app):
    rules = routes_with_ids(app)
    assert len(rules) >= 7
    for rule in rules:
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                assert type(converter) is IdConverter, f"{rule.rule}: write <id:{name}>, not <int:{name}>"


@pytest.mark.parametrize("huge", HUGE)
def test_a_huge_id_in_any_path_is_not_found(app, admin, huge):
    token = csrf_token(admin, "/dashboard/admin")
    for rule in routes_with_ids(app):
        path = path_with_id(app, rule, huge)
        if "POST" in rule.methods:
            answer = admin.post(path, data={"csrf_token": token, **FORMS.get(rule.endpoint, {})})
        else:
            answer = admin.get(path)
        assert answer.status_code == 404, (rule.rule, path, answer.status_code)


@pytest.mark.parametrize("huge", HUGE)
def test_a_huge_page_number_shows_the_last_page_of_every_list(app, admin, huge):
    lists = [rule for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and not rule.arguments and rule.rule.startswith("/dashboard")]
    assert len(lists) >= 8
    for rule in lists:
        answer = admin.get(rule.rule, query_string={"page": huge})
        assert answer.status_code < 400, (rule.rule, answer.status_code)
    assert "Page 1 of 1" in admin.get("/dashboard/subscribers", query_string={"page": huge}).get_data(as_text=True)
    assert "page 1 of 1" in admin.get("/dashboard/admin/audit", query_string={"page": huge}).get_data(as_text=True)
    assert admin.get("/dashboard/inbox", query_string={"page": huge, "show": "all"}).status_code == 200
