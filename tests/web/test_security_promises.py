"""What held when the board was probed as an attacker would (issue 17's "Keep" list), kept holding.

Each test walks the board's own list of routes where it can (`app.url_map`), so a page or
form added later is covered without anyone remembering to add it here:

- the sign-in's per-address limit counts the address that connected, and a client's own
  `X-Forwarded-For` only when `SMS_BOARD_PROXY_HOPS` says a proxy of ours wrote it;
- every POST needs the form's CSRF token, except Twilio's two webhooks, which need its signature;
- an organiser asking for another area's pages by URL gets a 404 and learns nothing;
- every answer carries the safety headers (CSP with `frame-ancestors 'none'`, nosniff, referrer policy);
- what residents write is shown as text on every page that shows it, never as markup or template.

The rest of the list is proved where its feature is tested (docs/security.md has the table):
sign-in in test_signin.py, webhook signatures in test_webhook.py and test_status_callback.py,
private areas in tests/handlers/test_private_areas.py.
"""

from __future__ import annotations

import io
import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from sms_board import create_app
from sms_board.models import (
    Campaign,
    InboundMessage,
    Item,
    Outbox,
    Subscriber,
    TrustedHelper,
    VoiceMessage,
)
from tests.conftest import (
    ACCOUNT_SID,
    BOARD_NUMBER,
    app_config,
    development_board,
    session_of,
)
from tests.support.web import ask_for_code, csrf_token, sign_in, submit, text_message

RUTH, OLIVE, ADMIN = "+447700900001", "+447700900003", "+447700900002"
SAM, JOE, KIM = "+447700900123", "+447700900789", "+447700900654"
CSRF_REFUSAL = "This form could not be accepted"
TWILIO_WEBHOOKS = {"sms.inbound", "status.status_callback", "voice.call_script", "voice.call_key", "voice.inbound",
                   "voice.inbound_key", "voice.recording_callback", "calls.call_status", "calls.machine_detected",
                   "calls.bridge"}
SIGNED_IN_BLUEPRINTS = {"dashboard", "compose", "admin"}


def _path(rule_text: str, values: dict[str, str]) -> str:
    """A rule's path with each `<converter:name>` filled from `values` by name (`1` for any other id)."""
    def fill(part: re.Match[str]) -> str:
        converter, name = part.group(1) or "default", part.group(2)
        return values.get(name, "1" if converter in ("int", "id") else "elm")

    return re.sub(r"<(?:([^:<>]+):)?([^<>]+)>", fill, rule_text)


def _count(app: Flask, model: type) -> int:
    with session_of(app) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# ── sign-in: the per-address limit sees the address that connected ──────────


def _ask_from(client: FlaskClient, n: int, remote: str, **headers: str) -> int:
    """Ask for a code for a fresh number (so only the per-address limit can bite) from `remote`."""
    return ask_for_code(client, f"+4477009006{n:02d}", environ_base={"REMOTE_ADDR": remote},
                        headers=headers).status_code


def test_a_client_cannot_escape_the_per_address_limit_by_claiming_another_address(app, areas):
    """With no proxy configured, X-Forwarded-For (or Forwarded, X-Real-IP) is the client's own word: ignored."""
    client = app.test_client()
    for n in range(20):
        assert _ask_from(client, n, "192.0.2.7", **{"X-Forwarded-For": f"198.51.100.{n}"}) == 302
    for n, spoof in enumerate([{"X-Forwarded-For": "198.51.100.99"}, {"Forwarded": "for=198.51.100.98"},
                               {"X-Real-IP": "198.51.100.97"}, {"X-Forwarded-For": "198.51.100.96, 192.0.2.8"}]):
        assert _ask_from(client, 20 + n, "192.0.2.7", **spoof) == 429, spoof
    assert _ask_from(client, 30, "192.0.2.8") == 302, "another address that connected is not limited"


def test_behind_a_configured_proxy_the_visitor_is_limited_and_an_extra_forwarded_entry_does_not_help(
        db, tmp_path, areas):
    """SMS_BOARD_PROXY_HOPS=1: the last X-Forwarded-For entry (our proxy's) is believed, not the ones before it."""
    behind = create_app(app_config(db, tmp_path, SMS_BOARD_PROXY_HOPS="1")).test_client()
    proxy = "10.0.0.1"
    for n in range(20):
        assert _ask_from(behind, n, proxy, **{"X-Forwarded-For": "203.0.113.5"}) == 302
    assert _ask_from(behind, 20, proxy, **{"X-Forwarded-For": "203.0.113.5"}) == 429
    assert _ask_from(behind, 21, proxy, **{"X-Forwarded-For": "198.51.100.1, 203.0.113.5"}) == 429, \
        "an entry the visitor wrote before our proxy's is not believed"
    assert _ask_from(behind, 22, proxy, **{"X-Forwarded-For": "203.0.113.6"}) == 302, \
        "another visitor behind the same proxy is not limited"


# ── CSRF: every POST route, read from the app ─────────────────────────────────


def test_every_post_route_refuses_a_form_without_its_token_and_the_webhooks_an_unsigned_one(
        db, tmp_path, client, runner):
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("admin", "add", ADMIN)
    # A development board has every route (the simulator too); signed in, so only the token can refuse.
    development = development_board(db, tmp_path)
    admin = development.test_client()
    sign_in(admin, ADMIN)
    outbox_before = _count(development, Outbox)

    posts = [rule for rule in development.url_map.iter_rules() if "POST" in (rule.methods or ())]
    checked = set()
    for rule in posts:
        path = _path(rule.rule, {})
        if rule.endpoint in TWILIO_WEBHOOKS:
            # Twilio cannot send a CSRF token; it signs instead (refused unsigned on a board with its token).
            assert client.post(path, data={"From": SAM, "Body": "STOP"}).status_code == 403, path
            continue
        for name, form, headers in [("no token", {}, {}), ("forged token", {"csrf_token": "forged"}, {}),
                                    ("forged header", {}, {"X-CSRFToken": "forged"})]:
            refused = admin.post(path, data=form, headers=headers)
            assert refused.status_code == 400 and CSRF_REFUSAL in refused.get_data(as_text=True), \
                (path, name, refused.status_code)
        checked.add(rule.endpoint)
    assert len(checked) >= 18 and {"auth.logout", "simulator.send", "compose.measure_json", "admin.remove"} <= checked
    assert admin.get("/dashboard").status_code == 200, "refused forms did not sign the administrator out"
    assert _count(development, Outbox) == outbox_before and _count(development, InboundMessage) == 0


# ── areas: an organiser of one area asks for another's by URL ───────────────────

OAK_SECRETS = ("oak road meeting about the", "Oak Road broadcast", "Free oak sideboard")


@pytest.fixture
def two_areas(app, areas, runner, phone):  # type: ignore[no-untyped-def]
    """Ruth organises Elm Street; Olive organises Oak Road, which has a text, a broadcast and a reported post."""
    runner("organiser", "add", RUTH, "elm")
    runner("organiser", "add", OLIVE, "oak")
    phone(SAM).text("JOIN ELM")
    for number in (JOE, KIM, OLIVE):
        phone(number).text("JOIN OAK")
    phone(JOE).text("oak road meeting about the bins, when is it?")
    post = re.search(r"#(N\d+)", phone(JOE).text("POST Free oak sideboard, you collect")[0]).group(1)  # type: ignore[union-attr]
    phone(KIM).text(f"REPORT {post}")
    phone(OLIVE).text("BROADCAST OAK Oak Road broadcast: the street party is on")
    with session_of(app) as session, session.begin():
        joe = session.scalar(select(Subscriber).where(Subscriber.phone == JOE))
        # Joe rang the board and left Oak Road's organisers a voice message (key 0).
        session.add(VoiceMessage(recording_sid="RE" + "0" * 32, call_sid="CA" + "0" * 32, subscriber_id=joe.id,
                                 from_number=JOE))
    phone(JOE).text("NAME Joe")
    phone(JOE).text("HELPER 07700 900555")
    with session_of(app) as session:
        return {
            "voice_id": str(session.scalar(select(VoiceMessage.id))),
            "helper_id": str(session.scalar(select(TrustedHelper.id))),
            "campaign_id": str(session.scalar(select(Campaign.id))),
            "inbound_id": str(session.scalar(select(InboundMessage.id).where(InboundMessage.body.like("oak road%")))),
            "item_id": str(session.scalar(select(Item.id).where(Item.body.like("Free oak%")))),
            "joe_id": str(session.scalar(select(Subscriber.id).where(Subscriber.phone == JOE))),
        }


def test_an_organiser_gets_404_for_every_url_of_another_area_and_learns_nothing(app, client, two_areas):
    olive = app.test_client()
    sign_in(olive, OLIVE)
    campaign = f"/dashboard/broadcasts/{two_areas['campaign_id']}"
    # What Olive's own pages show, so the 404s below are about whose area it is, not a missing row.
    assert olive.get(campaign).status_code == 200 and olive.get(campaign + "/progress").status_code == 200
    assert all(secret in olive.get(page).get_data(as_text=True) for page, secret in
               [("/dashboard/inbox", OAK_SECRETS[0]), ("/dashboard/moderation", OAK_SECRETS[2])])

    sign_in(client, RUTH)
    ids = two_areas
    token = csrf_token(client, "/dashboard/subscribers")
    by_url = {
        "dashboard.overview": ("GET", "/dashboard?area=oak", {}),
        "dashboard.subscribers": ("GET", "/dashboard/subscribers?area=oak", {}),
        "dashboard.exchange": ("GET", "/dashboard/exchange?area=oak", {}),
        "dashboard.ledger_download": ("GET", "/dashboard/exchange/ledger.csv?area=oak", {}),
        "dashboard.reports": ("GET", "/dashboard/reports?area=oak", {}),
        "dashboard.reports_download": ("GET", "/dashboard/reports/report.csv?area=oak&shareable=1", {}),
        "dashboard.reports_pdf": ("GET", "/dashboard/reports/report.pdf?area=oak", {}),
        "compose.broadcast": ("GET", campaign, {}),
        "compose.progress_json": ("GET", campaign + "/progress", {}),
        "compose.confirm": ("POST", campaign + "/confirm", {"urgent_ok": "1"}),
        "dashboard.voice_audio": ("GET", f"/dashboard/inbox/voice/{ids['voice_id']}.mp3", {}),
        "dashboard.voice_dealt_with": ("POST", f"/dashboard/inbox/voice/{ids['voice_id']}/dealt-with", {}),
        "dashboard.dealt_with": ("POST", f"/dashboard/inbox/{ids['inbound_id']}/dealt-with", {}),
        "dashboard.moderate": ("POST", f"/dashboard/moderation/{ids['item_id']}", {"decision": "hide"}),
        "dashboard.subscribers_search": ("POST", "/dashboard/subscribers", {"area": "oak", "number": "789"}),
        "dashboard.subscribers_export": ("POST", "/dashboard/subscribers/export.csv", {"area": "oak"}),
        "dashboard.subscriber_language": ("POST", f"/dashboard/subscribers/{ids['joe_id']}/language",
                                          {"language": "en"}),
        "dashboard.subscriber_hears_by": ("POST", f"/dashboard/subscribers/{ids['joe_id']}/hears-by",
                                          {"hears_by": "sms"}),
        "dashboard.enrol": ("POST", "/dashboard/subscribers/enrol",
                            {"area": "oak", "number": "07700900111", "consent_source": "phoned by Ruth"}),
        "dashboard.subscriber_helpers": ("GET", f"/dashboard/subscribers/{ids['joe_id']}/helpers", {}),
        "dashboard.subscriber_helper_add": ("POST", f"/dashboard/subscribers/{ids['joe_id']}/helpers/add",
                                            {"number": "07700900556", "consent": "asked in person"}),
        "dashboard.helper_end": ("POST", f"/dashboard/helpers/{ids['helper_id']}/end", {}),
        "dashboard.import_check": ("POST", "/dashboard/subscribers/import",
                                   {"area": "oak", "file": (io.BytesIO(b"number\n07700900111\n"), "oak.csv")}),
    }
    for endpoint, (method, url, form) in by_url.items():
        answer = client.open(url, method=method, data={"csrf_token": token, **form} if method == "POST" else None)
        page = answer.get_data(as_text=True)
        assert answer.status_code == 404, (endpoint, url, answer.status_code)
        assert not any(secret in page for secret in OAK_SECRETS) and "Oak Road" not in page, (endpoint, page)

    # A reply to another area's text: refused exactly as for a text that does not exist, and nothing is sent.
    def reply_to(inbound_id: str) -> tuple[int, list[str]]:
        answer = client.post(f"/dashboard/inbox/{inbound_id}/reply", data={"csrf_token": token, "text": "Hello"})
        page = client.get(answer.headers["Location"]).get_data(as_text=True)
        return answer.status_code, re.findall(r'<p class="flash[^"]*"[^>]*>([^<]*)</p>', page)

    assert reply_to(ids["inbound_id"]) == reply_to("999999") == (302, ["That text is not in your inbox."])

    # Every page of the signed-in blueprints, read from the app: a new page gets this check too.
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in SIGNED_IN_BLUEPRINTS or rule.endpoint in by_url:
            continue
        if "GET" in (rule.methods or ()):
            path = rule.rule
            if rule.endpoint.startswith("admin."):
                # Administrators' pages refuse an organiser whichever area they name (Oak Road's poster too).
                path = re.sub(r"<[^>]+>", "oak", path)
            assert "<" not in path, f"{rule.rule}: add another area's id for it to by_url above"
            answer = client.get(path + "?area=oak")
            page = answer.get_data(as_text=True)
            allowed = {403} if rule.endpoint.startswith("admin.") else {200, 404}
            assert answer.status_code in allowed, (rule.rule, answer.status_code)
            assert not any(secret in page for secret in OAK_SECRETS), (rule.rule, "shows Oak Road's data")
        elif rule.arguments and not rule.endpoint.startswith("admin.") and rule.endpoint != "dashboard.reply_to":
            raise AssertionError(f"{rule.rule}: add another area's id for it to by_url above")

    with session_of(app) as session:
        assert session.scalar(select(Campaign.status)) == "draft", "Ruth's confirm did not send Olive's broadcast"
        inbound = session.get(InboundMessage, int(ids["inbound_id"]))
        assert inbound is not None and inbound.dealt_with_at is None
        assert session.scalars(select(TrustedHelper.status)).all() == ["proposed"], "Ruth touched Joe's helpers"
        item = session.get(Item, int(ids["item_id"]))
        assert item is not None and item.status == "published"
        joe = session.scalar(select(Subscriber.id).where(Subscriber.phone == JOE))
        assert session.scalars(select(Outbox).where(Outbox.subscriber_id == joe, Outbox.kind == "notify")).all() == []


# ── headers on every answer ──────────────────────────────────────────────────


def _safety_headers_problems(answer) -> list[str]:  # type: ignore[no-untyped-def]
    problems = []
    headers = answer.headers
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("X-Content-Type-Options")
    if headers.get("Referrer-Policy") != "same-origin":
        problems.append("Referrer-Policy")
    if answer.mimetype == "text/html":
        policy = {part.split()[0]: part.split()[1:] for part in headers.get("Content-Security-Policy", "").split(";")
                  if part.strip()}
        if policy.get("frame-ancestors") != ["'none'"] or headers.get("X-Frame-Options") != "DENY":
            problems.append("framing")
        if policy.get("script-src") != ["'self'"] or policy.get("object-src") != ["'none'"] \
                or policy.get("base-uri") != ["'none'"] or policy.get("form-action") != ["'self'"]:
            problems.append(f"Content-Security-Policy {policy}")
    return problems


def test_every_page_and_answer_carries_the_safety_headers(db, tmp_path, runner):
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("admin", "add", ADMIN)
    runner("organiser", "add", ADMIN, "elm")
    development = development_board(db, tmp_path)
    anonymous, admin = development.test_client(), development.test_client()
    text_message(anonymous, ADMIN, "JOIN ELM")
    text_message(anonymous, ADMIN, "BROADCAST ELM Bins go out on Wednesday")
    with session_of(development) as session:
        campaign_id = str(session.scalar(select(Campaign.id)))
    sign_in(admin, ADMIN)

    answers = {}
    for rule in development.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        path = _path(rule.rule, {"campaign_id": campaign_id, "filename": "board.css"})
        answers[f"{path} signed in"] = admin.get(path)
        answers[f"{path} anonymous"] = anonymous.get(path)
    assert {answer.status_code for answer in answers.values()} >= {200, 302}
    answers.update({
        "not found": anonymous.get("/board/nowhere"),
        "form refused": anonymous.post("/login", data={"number": ADMIN}),
        "signed out POST": anonymous.post("/logout", data={"csrf_token": csrf_token(anonymous, "/login")}),
        "too large": anonymous.post("/sms/inbound", data={"Body": "x" * 70_000}),
        "csv": submit(admin, "/dashboard/subscribers", "/dashboard/subscribers/export.csv", {}),
        "json": admin.post("/dashboard/broadcast/measure", json={"text": "Hi", "areas": ["elm"]},
                           headers={"X-CSRFToken": csrf_token(admin, "/dashboard/broadcast")}),
        "twiml": development.test_client().post("/sms/inbound", data={
            "MessageSid": f"SM{uuid.uuid4().hex}", "AccountSid": ACCOUNT_SID, "From": SAM, "To": BOARD_NUMBER,
            "Body": "HELP"}),
    })
    assert answers["not found"].status_code == 404 and answers["too large"].status_code == 413
    assert answers["csv"].mimetype == "text/csv" and answers["json"].mimetype == "application/json"
    wrong = {name: problems for name, answer in answers.items() if (problems := _safety_headers_problems(answer))}
    assert not wrong, wrong


# ── what residents write is shown as text ─────────────────────────────────────

# Markup that would run as script, an event handler, SVG, and template syntax that would be evaluated.
ATTACK = "<script>alert(1)</script> <img src=x onerror=alert(2)> <svg onload=alert(3)> {{7*7}} {% raw %}"
# Pages that show only the start of a text (a list of recent broadcasts, the audit log's 80 characters).
CUT_SHORT = {"composer's recent broadcasts", "audit log"}
SHOWN_AS_TEXT = "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(2)&gt; &lt;svg onload=alert(3)&gt;"


def _shows_attack_as_text(page: str, where: str) -> None:
    assert "<script>alert" not in page and "<img src=x" not in page and "<svg onload" not in page, \
        f"{where}: a resident's words became markup"
    if where in CUT_SHORT:
        assert SHOWN_AS_TEXT[:40] in page, f"{where}: the words are not on the page (so this check proves nothing)"
        return
    assert SHOWN_AS_TEXT in page, f"{where}: the words are not on the page (so this check proves nothing)"
    assert "{{7*7}} {% raw %}" in page, f"{where}: template syntax in a resident's words was not kept as typed"


def test_markup_and_template_syntax_in_residents_words_is_shown_as_text_on_every_page(db, tmp_path, runner):
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("area", "add", "quiet", "Quiet Lane", "--postcode", "SE9", "--moderation", "all")
    runner("admin", "add", ADMIN)
    for area in ("elm", "quiet"):
        runner("organiser", "add", ADMIN, area)
    development = development_board(db, tmp_path)
    anyone, admin = development.test_client(), development.test_client()
    for number, area in [(SAM, "ELM"), (JOE, "ELM"), (KIM, "QUIET"), (ADMIN, "ELM")]:
        text_message(anyone, number, f"JOIN {area}")
    text_message(anyone, SAM, f"POST {ATTACK}")
    text_message(anyone, SAM, f"NEED {ATTACK}")
    text_message(anyone, JOE, f"OFFER {ATTACK}")
    text_message(anyone, KIM, f"POST {ATTACK}")  # held for an organiser on Quiet Lane
    text_message(anyone, JOE, f"hello? {ATTACK}")  # not a keyword: kept in the organisers' inbox
    text_message(anyone, ADMIN, f"BROADCAST ELM {ATTACK}")
    text_message(anyone, ADMIN, "YES")
    with session_of(development) as session:
        campaign_id = session.scalar(select(Campaign.id))
        need = session.scalar(select(Item.id).where(Item.kind == "request"))
        texted = session.scalar(select(InboundMessage.id).where(InboundMessage.body.like("hello?%")))
    text_message(anyone, KIM, "JOIN ELM")
    text_message(anyone, KIM, f"CAN R{need}")  # a connection in progress, shown with the request's words
    text_message(anyone, SAM, f"OK R{need}")
    sign_in(admin, ADMIN)
    submit(admin, "/dashboard/inbox", f"/dashboard/inbox/{texted}/reply", {"text": f"Thanks {ATTACK}"})

    pages = {
        "public board": anyone.get("/board/elm"),
        "simulator thread": anyone.get(f"/simulator?from={SAM.replace('+', '%2B')}"),
        "inbox, with the reply": admin.get("/dashboard/inbox?show=all"),
        "moderation": admin.get("/dashboard/moderation"),
        "help exchange": admin.get("/dashboard/exchange"),
        "composer's recent broadcasts": admin.get("/dashboard/broadcast"),
        "broadcast": admin.get(f"/dashboard/broadcasts/{campaign_id}"),
        "audit log": admin.get("/dashboard/admin/audit"),
        # An organiser's upload is shown back as it was read: the file's name, and each refused line.
        "subscriber import check": admin.post("/dashboard/subscribers/import", data={
            "csrf_token": csrf_token(admin, "/dashboard/subscribers/import"),
            "file": (io.BytesIO(f"number,area,name,consent_source,consent_at\n{ATTACK},elm,Ann,paper,\n".encode()),
                     f"{ATTACK}.csv")}),
    }
    for where, answer in pages.items():
        assert answer.status_code == (400 if where == "subscriber import check" else 200), (where, answer.status_code)
        _shows_attack_as_text(answer.get_data(as_text=True), where)
