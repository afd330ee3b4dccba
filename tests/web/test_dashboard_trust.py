"""What an organiser notices on the trust-and-safety pages: the moderation queue, importing and
exporting subscribers, invite codes and the audit log; the same rules (and rows) as by SMS and the CLI."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, select

from sms_board.models import AuditEntry, ConsentEvent, Item, Subscriber, Subscription
from sms_board.plumbing.utc import utcnow
from tests.conftest import session_of
from tests.support.web import csrf_token, sign_in, submit

RUTH, ADMIN, OLIVE = "+447700900001", "+447700900002", "+447700900003"
SAM, PRIYA, JOE, ADA = "+447700900123", "+447700900456", "+447700900789", "+447700900321"
HEADER = "number,area,name,consent_source,consent_at\n"
PAPER = "paper form at the 12 Nov residents' meeting"


@pytest.fixture
def lane(areas, runner, phone):
    """Quiet Lane holds every post (Ruth organises it); Olive organises Oak Road; one administrator."""
    runner("area", "add", "quiet", "Quiet Lane", "--postcode", "SE9", "--moderation", "all")
    runner("organiser", "add", RUTH, "quiet")
    runner("organiser", "add", OLIVE, "oak")
    runner("admin", "add", ADMIN)
    for number, name, area in [(SAM, "Sam", "QUIET"), (PRIYA, "Priya", "QUIET"), (JOE, "Joe", "QUIET"),
                               (ADA, "Ada", "OAK")]:
        phone(number).text(f"JOIN {area}")
        phone(number).text(f"NAME {name}")


def page_text(client, path: str) -> str:  # type: ignore[no-untyped-def]
    shown = client.get(path)
    assert shown.status_code == 200, (path, shown.status_code)
    return html.unescape(shown.get_data(as_text=True))


def ref_of(reply: list[str]) -> str:
    return re.search(r"#([NRO]\d+)", " ".join(reply)).group(1)  # type: ignore[union-attr]


def item_id(ref: str) -> int:
    return int(ref[1:])


def audit_rows(app) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        session.expunge_all()
        return rows


def decide(client, ref: str, decision: str, reason: str = ""):  # type: ignore[no-untyped-def]
    return submit(client, "/dashboard/moderation", f"/dashboard/moderation/{item_id(ref)}",
                  {"decision": decision, "reason": reason})


# ── moderation ────────────────────────────────────────────────────────────


def test_a_held_post_waits_in_the_queue_and_approving_it_puts_it_on_the_board(client, lane, phone, app):
    ref = ref_of(phone(SAM).text("POST Free piano, you collect"))
    phone(PRIYA).text("POST Lost cat, ginger")
    assert "Free piano" not in page_text(client, "/board/quiet")
    sign_in(client, RUTH)

    queue = page_text(client, "/dashboard/moderation")
    assert "Free piano, you collect" in queue and "Sam" in queue and "+44 7•••• ••123" in queue
    assert "7700900123" not in queue
    assert queue.index("Lost cat") < queue.index("Free piano"), "newest first"

    done = decide(client, ref, "approve")
    assert done.status_code == 302
    assert f"Approved #{ref}: it's up on Quiet Lane and Sam has been told." in page_text(client, "/dashboard/moderation")
    assert "Free piano, you collect" in page_text(client, "/board/quiet")
    assert phone(SAM).received()[-1].body == f"Your post #{ref} is up on Quiet Lane board: an organiser approved it."
    [entry] = [row for row in audit_rows(app) if row.action == "approve"]
    assert (entry.channel, entry.actor, entry.item_id) == ("web", "+44 7•••• ••001", item_id(ref))


def test_rejecting_tells_the_author_the_reason_as_reject_by_sms_does(client, lane, phone, app):
    ref = ref_of(phone(SAM).text("POST Selling raffle tickets for my car"))
    sign_in(client, RUTH)
    decide(client, ref, "reject", "  not   a neighbourhood notice ")
    told = phone(SAM).received()[-1].body
    assert told.endswith("an organiser turned it down. Reason: not a neighbourhood notice"), told
    assert "Selling raffle" not in page_text(client, "/dashboard/moderation").split("</h1>")[1].split("Rejected")[0]
    [entry] = [row for row in audit_rows(app) if row.action == "reject"]
    assert entry.detail["reason"] == "not a neighbourhood notice" and entry.channel == "web"


def test_a_reported_post_can_be_hidden_then_restored(client, lane, phone, app):
    ref = ref_of(phone(ADA).text("POST Bins are rubbish, literally"))
    phone("+447700900654").text("JOIN OAK")
    phone("+447700900654").text(f"REPORT {ref}")
    sign_in(client, OLIVE)
    assert "Reported 1 time, still up" in page_text(client, "/dashboard/moderation")

    decide(client, ref, "hide")
    assert "Bins are rubbish" not in page_text(client, "/board/oak")
    assert "Hidden after 1 report" in page_text(client, "/dashboard/moderation")
    assert "organisers look at it" in phone(ADA).received()[-1].body
    decide(client, ref, "approve")
    assert "Bins are rubbish" in page_text(client, "/board/oak")
    assert [row.action for row in audit_rows(app)][-2:] == ["hide", "restore"]


def test_an_organiser_sees_and_decides_only_their_own_areas(client, lane, phone, app):
    ref = ref_of(phone(SAM).text("POST Free piano"))
    sign_in(client, OLIVE)
    assert "Free piano" not in page_text(client, "/dashboard/moderation")
    assert decide(client, ref, "approve").status_code == 404
    with session_of(app) as session:
        assert session.get(Item, item_id(ref)).status == "pending"  # type: ignore[union-attr]


def test_a_decision_without_its_csrf_token_is_refused(client, lane, phone, app):
    ref = ref_of(phone(SAM).text("POST Free piano"))
    sign_in(client, RUTH)
    refused = client.post(f"/dashboard/moderation/{item_id(ref)}", data={"decision": "approve"})
    assert refused.status_code == 400 and "This form could not be accepted" in refused.get_data(as_text=True)
    with session_of(app) as session:
        assert session.get(Item, item_id(ref)).status == "pending"  # type: ignore[union-attr]


# ── import and export ─────────────────────────────────────────────────────


def upload(client, body: str, *, area: str = "", name: str = "list.csv"):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/dashboard/subscribers/import")
    return client.post("/dashboard/subscribers/import", content_type="multipart/form-data", data={
        "csrf_token": token, "area": area, "file": (io.BytesIO((HEADER + body).encode()), name)})


def confirm(client, shown: str):  # type: ignore[no-untyped-def]
    """The import button of a dry-run page, with what the page carries."""
    csv_text = re.search(r'<textarea name="csv" hidden>(.*?)</textarea>', shown, re.S).group(1)  # type: ignore[union-attr]
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', shown))
    return client.post("/dashboard/subscribers/import", content_type="multipart/form-data",
                       data={**fields, "csv": html.unescape(csv_text)})


def subscriptions(app) -> int:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return session.scalar(select(func.count()).select_from(Subscription)) or 0


def test_a_file_with_a_bad_row_is_listed_by_line_and_nothing_is_written(client, lane, app):
    sign_in(client, RUTH)
    before = subscriptions(app)
    checked = upload(client, f"07700 900501,quiet,Ann,{PAPER},\n07700 900502,quiet,Bob,,\nnot a number,quiet,,{PAPER},\n")
    shown = checked.get_data(as_text=True)
    assert checked.status_code == 400
    assert "2 rows failed: nothing was written" in shown
    assert re.search(r">3</td><td[^>]*>\+44 7•••• ••502</td><td>consent_source is empty", shown)
    assert re.search(r">4</td><td[^>]*>not a number</td>", shown)
    assert "Import 1 subscriber" not in shown and subscriptions(app) == before


def test_the_dashboard_import_refuses_an_impossible_number_and_a_landline_by_line_without_echoing_them(
    client, lane, app,
):
    sign_in(client, RUTH)
    before = subscriptions(app)
    checked = upload(client, f"07700 900501,quiet,Ann,{PAPER},\n0770090030,quiet,,{PAPER},\n"
                             f"020 7946 0123,quiet,,{PAPER},\n")
    shown = checked.get_data(as_text=True)
    assert checked.status_code == 400 and "2 rows failed: nothing was written" in shown
    assert re.search(r">3</td><td[^>]*>[^<]*</td><td>not a valid UK number", shown)
    assert re.search(r">4</td><td[^>]*>\+44 2•••• ••123</td><td>a landline can&#39;t get texts: write voice in its "
                     r"hears_by column", shown)
    assert "7946 0123" not in shown and "2079460123" not in shown
    assert subscriptions(app) == before


def test_a_dry_run_then_the_import_subscribes_with_the_consent_source_and_refuses_opted_out(
    client, lane, app, phone,
):
    phone("+447700900503").text("JOIN QUIET")
    phone("+447700900503").text("STOP")
    sign_in(client, RUTH)
    before = subscriptions(app)
    checked = upload(client, f"07700 900501,,Ann,{PAPER},2025-11-12\n07700 900503,,,{PAPER},\n", area="quiet")
    shown = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "Dry run, nothing written yet" in shown
    assert "refused: this number opted out by STOP" in shown and subscriptions(app) == before

    done = confirm(client, shown)
    assert done.status_code == 302, done.get_data(as_text=True)
    assert "1 of 2 rows subscribed, each sent a welcome text; 0 already subscribed, 1 refused." in page_text(
        client, done.headers["Location"])
    assert subscriptions(app) == before + 1
    with session_of(app) as session:
        event = session.scalar(select(ConsentEvent).where(ConsentEvent.channel == "import"))
        assert event is not None and event.words == PAPER
    assert "STOP" in phone("+447700900501").received()[-1].body
    [entry] = [row for row in audit_rows(app) if row.action == "import"]
    assert (entry.channel, entry.actor, entry.detail["imported"]) == ("web", "+44 7•••• ••001", 1)


def test_an_organiser_cannot_import_into_an_area_they_do_not_organise(client, lane, app):
    sign_in(client, RUTH)
    shown = upload(client, f"07700 900501,oak,Ann,{PAPER},\n").get_data(as_text=True)
    assert "oak is not one of the areas you organise" in shown


def test_a_file_that_is_not_utf8_is_refused_in_one_line(client, lane):
    sign_in(client, RUTH)
    token = csrf_token(client, "/dashboard/subscribers/import")
    shown = client.post("/dashboard/subscribers/import", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO((HEADER + "07700 900123,quiet,Zoë,x,\n").encode("cp1252")), "l.csv")})
    assert shown.status_code == 400 and 'l.csv is not UTF-8 text' in shown.get_data(as_text=True)


def test_an_upload_over_the_limit_is_refused_before_it_is_read(client, lane):
    sign_in(client, RUTH)
    token = csrf_token(client, "/dashboard/subscribers/import")
    huge = HEADER + f"07700 900501,quiet,Ann,{PAPER},\n" * 70_000  # ≈ 4.6 MB
    refused = client.post("/dashboard/subscribers/import", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(huge.encode()), "big.csv")})
    assert refused.status_code == 413 and "10,000 rows is about 1 MB" in refused.get_data(as_text=True)


def test_organisers_export_masked_numbers_and_administrators_full_ones(client, lane, app):
    sign_in(client, RUTH)
    token = csrf_token(client, "/dashboard/subscribers")
    masked = client.post("/dashboard/subscribers/export.csv", data={"csrf_token": token}).get_data(as_text=True)
    assert masked.splitlines()[0] == "number,area,name,joined,digest,consent_source,consent_at,channel,language,hears_by"
    assert "+44 7•••• ••123,quiet,Sam" in masked and "7700900123" not in masked and "Ada" not in masked

    client = app.test_client()
    sign_in(client, ADMIN)
    token = csrf_token(client, "/dashboard/subscribers?area=oak")
    full = client.post("/dashboard/subscribers/export.csv", data={"csrf_token": token, "area": "oak"})
    assert full.headers["Content-Disposition"] == 'attachment; filename="subscribers-oak.csv"'
    assert "+447700900321,oak,Ada" in full.get_data(as_text=True)
    exports = [(row.actor, row.detail) for row in audit_rows(app) if row.action == "export"]
    assert exports == [("+44 7•••• ••001", {"rows": 3, "masked": True}), ("+44 7•••• ••002", {"rows": 1})]


# ── administration: invite codes and the audit log ───────────────────────


def test_an_invite_code_is_shown_once_and_lets_a_resident_join(client, lane, runner, phone, app):
    runner("area", "add", "carers", "Foster Carers", "--private")
    sign_in(client, ADMIN)
    made = submit(client, "/dashboard/admin", "/dashboard/admin/invites", {"area": "carers", "uses": "2", "days": "3"})
    shown = made.get_data(as_text=True)
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    code = re.search(r'id="invite-code">([2-9A-Z]{4}-[2-9A-Z]{2})<', shown).group(1)  # type: ignore[union-attr]
    assert "shown only this once" in shown
    admin_page = page_text(client, "/dashboard/admin")
    assert code not in admin_page and "2 of 2" in admin_page
    assert "Foster Carers" in " ".join(phone(PRIYA).text(f"JOIN CARERS {code.lower()}"))
    [entry] = [row for row in audit_rows(app) if row.action == "invite"]
    assert (entry.channel, entry.detail) == ("web", {"uses": 2, "days": 3})


@pytest.mark.parametrize("uses, days", [("99999999999999999999", "3"), ("2", "99999999999999999999"),
                                        ("1001", "3"), ("2", "367"), ("0", "3")])
def test_an_invite_asked_for_beyond_its_limits_is_refused_in_one_line(client, lane, runner, uses, days, app):
    runner("area", "add", "carers", "Foster Carers", "--private")
    sign_in(client, ADMIN)
    refused = submit(client, "/dashboard/admin", "/dashboard/admin/invites", {"area": "carers", "uses": uses, "days": days})
    assert refused.status_code == 400
    assert "Uses must be 1 to 1000 and days 1 to 366." in refused.get_data(as_text=True)
    assert not [row for row in audit_rows(app) if row.action == "invite"]


def test_a_public_area_gets_no_invite_code(client, lane):
    sign_in(client, ADMIN)
    refused = submit(client, "/dashboard/admin", "/dashboard/admin/invites", {"area": "elm"})
    assert refused.status_code == 400 and "elm is public" in refused.get_data(as_text=True)


def test_administration_actions_are_in_the_audit_log_newest_first_without_full_numbers(client, lane, phone, app):
    sign_in(client, ADMIN)
    submit(client, "/dashboard/admin", "/dashboard/admin/areas", {"name": "Birch Close", "slug": "birch"})
    submit(client, "/dashboard/admin", "/dashboard/admin/organisers", {"number": "07700 900789", "area": "birch"})
    with session_of(app) as session:
        joe = session.scalar(select(Subscriber.id).where(Subscriber.phone == JOE))
    submit(client, "/dashboard/admin", f"/dashboard/admin/organisers/{joe}/birch/remove", {})
    ref = ref_of(phone(SAM).text("POST Free piano"))
    decide(client, ref, "approve")

    log = page_text(client, "/dashboard/admin/audit")
    assert [log.index(word) for word in ("approve", "organiser remove", "organiser add", "area add")] == sorted(
        log.index(word) for word in ("approve", "organiser remove", "organiser add", "area add"))
    assert "+44 7•••• ••789" in log and "7700900789" not in log and "7700900002" not in log
    birch = page_text(client, "/dashboard/admin/audit?area=birch")
    assert "area add" in birch and "approve" not in birch
    assert [row.action for row in audit_rows(app) if row.channel == "web"][:3] == \
        ["area_add", "organiser_add", "organiser_remove"]


def test_organisers_get_no_audit_log(client, lane):
    sign_in(client, RUTH)
    assert client.get("/dashboard/admin/audit").status_code == 403
    assert "Audit log" not in page_text(client, "/dashboard")


def test_the_audit_page_masks_numbers_in_texts_stored_before_they_were_masked(client, lane, app):
    with session_of(app) as session, session.begin():
        session.add(AuditEntry(created_at=utcnow(), actor="operator", channel="cli", action="broadcast",
                               detail={"text": "Quiet Lane: call Sam on 07700 900123 (or %2B44+7700+900456)"}))
    sign_in(client, ADMIN)
    log = page_text(client, "/dashboard/admin/audit")
    assert "call Sam on +44 7•••• ••123 (or +44 7•••• ••456)" in log
    assert "900123" not in log.replace("••123", "") and "900456" not in log


def test_each_audit_entry_is_written_in_words(client, lane, phone, runner, app):
    """Not `masked: True` or `campaign: 2`: what a person would say about each action."""
    runner("broadcast", "--area", "quiet", "--yes", "Fete on Saturday")
    ref = ref_of(phone(SAM).text("POST Free piano"))
    sign_in(client, RUTH)
    client.post("/dashboard/subscribers/export.csv", data={"csrf_token": csrf_token(client, "/dashboard/subscribers")})
    decide(client, ref, "reject", "selling")
    runner("subscribers", "export", "--area", "oak")

    admin = app.test_client()
    sign_in(admin, ADMIN)
    log = page_text(admin, "/dashboard/admin/audit")
    details = [re.sub(r"<[^>]+>", "", cell).strip()
               for cell in re.findall(r'<td data-label="Detail"[^>]*>(.*?)</td>', log, re.S)]
    assert details == [
        "1 row, full numbers",
        "was waiting for an organiser; reason: “selling”",
        "3 rows, numbers masked",
        "to 3 people (broadcast 1): “Quiet Lane: Fete on Saturday”",
        "+44 7•••• ••002 made an administrator",
        "+44 7•••• ••003 made an organiser",
        "+44 7•••• ••001 made an organiser",
        "public; with a public page; every post waits for an organiser",
        *["public; with a public page; posts go up at once"] * 3,
    ]
    assert not re.search(r"\b[a-z_]+: (True|False|\d+)\b", log), "no raw key: value left"
