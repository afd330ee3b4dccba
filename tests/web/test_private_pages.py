"""Pages for signed-in organisers show residents' data: no browser or proxy cache may keep a copy.

A shared computer's back button, or a caching proxy between the organiser and the board,
would otherwise show yesterday's inbox, subscriber list or ledger to the next person.
"""

from __future__ import annotations

from sqlalchemy import select

from sms_board.models import Campaign, Subscriber
from tests.conftest import session_of
from tests.support.web import sign_in, submit

ADMIN = "+447700900002"
SAM, PRIYA = "+447700900123", "+447700900456"
SIGNED_IN_BLUEPRINTS = {"dashboard", "admin", "compose"}


def test_every_signed_in_page_and_download_says_no_store(app, client, runner, phone):
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("admin", "add", ADMIN)
    runner("organiser", "add", ADMIN, "elm")
    for number, name in [(SAM, "Sam"), (PRIYA, "Priya"), (ADMIN, "Ruth")]:
        phone(number).text("JOIN ELM")
        phone(number).text(f"NAME {name}")
    phone(SAM).text("NEED A lift to the GP on Thursday")
    phone(ADMIN).text("BROADCAST ELM Bins go out on Wednesday")
    with session_of(app) as session:
        campaign_id = session.scalar(select(Campaign.id))
        sam_id = session.scalar(select(Subscriber.id).where(Subscriber.phone == SAM))
    sign_in(client, ADMIN)

    # Every page of the signed-in blueprints, read from the app itself: a new page is walked too.
    pages = sorted(
        rule.rule.replace("<id:campaign_id>", str(campaign_id)).replace("<id:subscriber_id>", str(sam_id))
        .replace("<slug>", "elm")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in SIGNED_IN_BLUEPRINTS and "GET" in (rule.methods or ())
        # A voice message's audio is fetched from Twilio as it is played (tests/voice/test_voice_messages.py
        # plays one); here an unknown one is asked for below, whose answer must not be kept either.
        and rule.endpoint != "dashboard.voice_audio"
    )
    assert "/dashboard/exchange/ledger.csv" in pages and "/dashboard/admin/audit" in pages
    for page in pages:
        assert "<" not in page, f"{page}: give this test a value for its part"
        shown = client.get(page)
        assert shown.status_code == 200, (page, shown.status_code)
        assert shown.headers.get("Cache-Control") == "no-store", page

    answers = {
        "subscribers export": submit(client, "/dashboard/subscribers", "/dashboard/subscribers/export.csv", {}),
        "broadcast preview": submit(client, "/dashboard/broadcast", "/dashboard/broadcast/preview",
                                    {"area": "elm", "text": "Street party on Saturday"}),
        "inbox reply refused": submit(client, "/dashboard/inbox", "/dashboard/inbox/999999/reply", {"text": "Hi"}),
        "unknown page": client.get("/dashboard/broadcasts/999999"),
        "unknown voice message": client.get("/dashboard/inbox/voice/999999.mp3"),
    }
    for name, answer in answers.items():
        assert answer.headers.get("Cache-Control") == "no-store", (name, answer.status_code)
    assert answers["subscribers export"].mimetype == "text/csv" and SAM in answers["subscribers export"].text


def test_public_pages_may_still_be_cached(client, runner):
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    for page in ["/", "/board/elm"]:
        assert "no-store" not in client.get(page).headers.get("Cache-Control", "")
