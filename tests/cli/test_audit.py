"""`sms-board audit`: what organisers and administrators did, who, when, to which item."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from sms_board.models import AuditEntry, Campaign
from sms_board.plumbing.utc import utcnow
from tests.conftest import Runner, session_of

SAM, PRIYA, RUTH = "+447700900123", "+447700900456", "+447700900001"


def test_the_audit_log_keeps_each_organisers_and_operators_action(areas, phone, runner: Runner, tmp_path):
    runner("area", "add", "carers", "Foster Carers", "--private")
    runner("organiser", "add", RUTH, "elm")
    ruth, sam, priya = phone(RUTH), phone(SAM), phone(PRIYA)
    for person, name in ((ruth, "Ruth"), (sam, "Sam"), (priya, "Priya")):
        person.text("JOIN ELM")
        person.text(f"NAME {name}")
    ruth.text("BROADCAST Bins on Friday")
    ruth.text("YES")
    ruth.text("URGENT Water off on Elm Street until 6pm")
    ruth.text("YES")
    intro = re.search(r"#(I\d+)", ruth.text(f"INTRO {SAM} {PRIYA} gardening")[0]).group(1)
    sam.text(f"OK {intro}")
    priya.text(f"OK {intro}")
    ruth.text(f"UNLINK {intro}")
    runner("area", "invite", "carers", "--uses", "5", "--days", "3")
    (tmp_path / "list.csv").write_text("number,area,consent_source\n07700 900789,oak,paper form\n")
    runner("subscribers", "import", str(tmp_path / "list.csv"))
    runner("subscribers", "export", "--area", "elm")
    runner("broadcast", "--area", "oak", "--yes", "Fete on Saturday")

    log = json.loads(runner("audit", "--json").stdout)

    assert [(e["action"], e["area"], e["item"], e["who"], e["channel"]) for e in log] == [
        *(("area_add", slug, None, "operator", "cli") for slug in ("elm", "oak", "river", "carers")),
        ("organiser_add", "elm", None, "operator", "cli"),
        ("broadcast", "elm", None, "Ruth +44 7•••• ••001", "sms"),
        ("urgent", "elm", None, "Ruth +44 7•••• ••001", "sms"),
        ("intro", "elm", intro, "Ruth +44 7•••• ••001", "sms"),
        ("unlink", "elm", intro, "Ruth +44 7•••• ••001", "sms"),
        ("invite", "carers", None, "operator", "cli"),
        ("import", None, None, "operator", "cli"),
        ("export", "elm", None, "operator", "cli"),
        ("broadcast", "oak", None, "operator", "cli"),
    ]
    assert log[3]["detail"] == {"slug": "carers", "private": True, "moderation": "open", "public_page": False}
    assert log[4]["detail"] == {"organiser": "+44 7•••• ••001"}, "the organiser's number masked"
    log = log[5:]
    assert log[0]["detail"]["text"] == "Elm Street: Bins on Friday" and log[0]["detail"]["recipients"] == 2
    assert log[4]["detail"] == {"uses": 5, "days": 3}
    assert log[5]["detail"] == {"file": "list.csv", "imported": 1, "refused": 0, "already": 0}
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", e["at"]) for e in log)
    assert [e["action"] for e in json.loads(runner("audit", "--area", "carers", "--json").stdout)] == \
        ["area_add", "invite"]
    text = runner("audit", "--area", "elm").stdout.splitlines()
    assert len(text) == 7 and text[4].split()[1:5] == ["intro", "elm", f"#{intro}", "Ruth"]
    assert SAM not in runner("audit").stdout


def test_a_forgotten_organiser_leaves_the_actions_but_not_the_name(areas, phone, runner):
    runner("organiser", "add", RUTH, "elm")
    ruth = phone(RUTH)
    ruth.text("JOIN ELM")
    ruth.text("NAME Ruth")
    phone(SAM).text("JOIN ELM")
    ruth.text("BROADCAST Bins on Friday")
    ruth.text("YES")
    ruth.text("FORGET")
    ruth.text("YES")

    assert [(e["action"], e["who"]) for e in json.loads(runner("audit", "--json").stdout)] == [
        *[("area_add", "operator")] * 3, ("organiser_add", "operator"), ("broadcast", "forgotten")]


def test_a_number_in_a_broadcast_is_masked_in_the_stored_audit_copy_and_where_it_is_shown(areas, phone, runner, app):
    runner("organiser", "add", RUTH, "elm")
    ruth = phone(RUTH)
    ruth.text("JOIN ELM")
    phone(SAM).text("JOIN ELM")
    ruth.text("BROADCAST Lost cat: call Sam on 07700 900123 or 07700-900-456")
    ruth.text("YES")

    with session_of(app) as session:
        [stored] = session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "broadcast")).all()
    masked = "Elm Street: Lost cat: call Sam on +44 7•••• ••123 or +44 7•••• ••456"
    assert stored["text"] == masked, "the audit log keeps no copy of the full number"
    assert json.loads(runner("audit", "--json").stdout)[-1]["detail"]["text"] == masked
    assert "call Sam on +44 7•••• ••123 or +44 7•••• ••456" in runner("audit").stdout
    with session_of(app) as session:
        assert "call Sam on 07700 900123" in session.scalar(select(Campaign.body)), "residents get the number"

    # The log keeps a broadcast's first 80 characters: a number across the cut is masked whole first.
    ruth.text("BROADCAST The street party is on Saturday; bring a chair. Ring Sam on 07700 900123")
    ruth.text("YES")
    with session_of(app) as session:
        last = session.scalars(select(AuditEntry.detail).order_by(AuditEntry.id.desc())).first()
    assert last["text"].startswith("Elm Street: The street party") and "07700" not in last["text"], last


def test_a_full_number_already_in_the_audit_log_is_masked_when_shown(areas, runner, app):
    with session_of(app) as session, session.begin():
        session.add(AuditEntry(created_at=utcnow(), actor="operator", channel="cli", action="broadcast",
                               detail={"text": "Elm Street: call Sam on 07700 900123", "recipients": 2}))
    assert json.loads(runner("audit", "--json").stdout)[-1]["detail"]["text"] == \
        "Elm Street: call Sam on +44 7•••• ••123"
    assert "07700 900123" not in runner("audit").stdout


def test_admin_add_is_in_the_audit_log_once_with_the_number_masked(runner):
    assert runner("admin", "add", SAM).stderr == "+44 7•••• ••123 is now an administrator.\n"
    assert runner("admin", "add", "07700 900123").stderr == "+44 7•••• ••123 is already an administrator.\n"

    log = json.loads(runner("audit", "--json").stdout)
    assert [(e["action"], e["area"], e["who"], e["channel"], e["detail"]) for e in log] == [
        ("admin_add", None, "operator", "cli", {"administrator": "+44 7•••• ••123"})]
    assert "7700900123" not in runner("audit").stdout
