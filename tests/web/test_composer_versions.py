"""The broadcast composer on a board that speaks Welsh and English: a box per language, each with its own
counter and cost, the totals and what the SMS preview would say, then the very campaign BROADCAST CY/EN makes."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from sms_board import create_app
from sms_board.app import board_of
from sms_board.clock.jobs import tick
from sms_board.models import Campaign, CampaignVersion, Outbox, Subscriber
from sms_board.plumbing.utc import utcnow
from tests.conftest import Phone, Runner, app_config, session_of
from tests.support.web import csrf_token, sign_in

RUTH, SIONED, TOM, NEB = "+447700900001", "+447700900321", "+447700900654", "+447700900111"
WELSH = "D\u0175r wedi\u2019i ddiffodd tan 3yp"
ENGLISH = "Water off until 3pm"


@pytest.fixture
def bilingual(db, tmp_path):  # type: ignore[no-untyped-def]
    """Ruth organises Elm Street on a Welsh-first board: Sioned reads Welsh, Tom English, Neb is not known."""
    with time_machine.travel(datetime(2026, 11, 25, 12, 0, tzinfo=UTC), tick=False):
        app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en"))
        runner, client = Runner(app), app.test_client()
        runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
        for number, words in [
            (RUTH, "JOIN ELM"),
            (SIONED, "YMUNO ELM"),
            (TOM, "JOIN ELM"),
            (NEB, "JOIN ELM"),
        ]:
            Phone(client, number).text(words)
        with session_of(app) as session:
            session.execute(update(Subscriber).where(Subscriber.phone == NEB).values(language=None))
            session.commit()
        runner("organiser", "add", RUTH, "elm")
        sign_in(client, RUTH)
        client.get("/?lang=en")  # Ruth texts in English: her pages too (the Welsh ones: test_web_languages)
        yield app, client


def measure(client: FlaskClient, versions: dict[str, str]) -> dict:  # type: ignore[type-arg]
    token = csrf_token(client, "/dashboard/broadcast")
    answer = client.post(
        "/dashboard/broadcast/measure",
        json={"areas": ["elm"], "versions": versions},
        headers={"X-CSRFToken": token},
    )
    assert answer.status_code == 200
    return answer.json  # type: ignore[no-any-return]


def test_the_composer_has_a_box_per_language_each_with_its_own_counter(bilingual):
    _app, ruth = bilingual
    page = html.unescape(ruth.get("/dashboard/broadcast").get_data(as_text=True))
    assert re.findall(r'<textarea id="(text-\w+)" name="(text-\w+)"', page) == [
        ("text-cy", "text-cy"),
        ("text-en", "text-en"),
    ]
    assert '<label for="text-cy">Message in <span lang="cy">Cymraeg</span> (CY)</label>' in page
    assert '<label for="text-en">Message in <span lang="en-GB">English</span> (EN)</label>' in page
    assert (
        page.count('data-figure="cost_text"') == 2
        and 'id="counter-cy"' in page
        and 'id="counter-en"' in page
    )
    assert 'someone whose language is not known gets every version, <span lang="cy">Cymraeg</span> first' in page


def test_each_box_counts_its_own_readers_and_cost_and_the_totals_say_what_the_sms_preview_says(
    bilingual,
):
    _app, ruth = bilingual
    welsh_only = measure(ruth, {"cy": WELSH, "en": ""})
    assert list(welsh_only["versions"]) == ["cy"]
    assert (
        welsh_only["versions"]["cy"]["recipients"],
        welsh_only["versions"]["cy"]["encoding"],
    ) == (3, "UCS-2")
    assert welsh_only["notes"] == ["English: no version, so its 1 reader gets the Cymraeg version."]

    both = measure(ruth, {"cy": WELSH, "en": ENGLISH})
    cy, en = both["versions"]["cy"], both["versions"]["en"]
    assert (cy["recipients"], cy["cost_text"], cy["body"]) == (
        2,
        "\u00a30.08",
        "Elm Street: D\u0175r wedi'i ddiffodd tan 3yp",
    )
    assert (en["recipients"], en["cost_text"], en["encoding"]) == (2, "\u00a30.08", "GSM-7")
    assert both["summary"] == "In all: 3 recipients, 4 texts, about \u00a30.16"
    assert both["notes"] == [
        "1 recipient whose language is not known gets every version, Cymraeg first."
    ]
    # The same figures as the organiser's SMS preview.
    Phone(ruth, RUTH).text(f"BROADCAST CY {WELSH}")
    sms = Phone(ruth, RUTH).text(f"BROADCAST EN {ENGLISH}")[0]
    assert sms.startswith("Send to 3 neighbours in Elm Street (~\u00a30.16)?")
    assert ": 2 (1 text each, ~\u00a30.08)" in sms

    nothing = measure(ruth, {"cy": "", "en": "  "})
    assert nothing["versions"] == {} and nothing["problems"] == {
        "text": "Write the message in at least one language."
    }


def test_a_previewed_pair_is_the_same_campaign_as_by_sms_and_each_reader_gets_theirs(bilingual):
    app, ruth = bilingual
    token = csrf_token(ruth, "/dashboard/broadcast")
    shown = ruth.post(
        "/dashboard/broadcast/preview",
        data={"csrf_token": token, "area": "elm", "text-cy": WELSH, "text-en": ENGLISH},
    )
    page = html.unescape(shown.get_data(as_text=True))
    assert shown.status_code == 200, page
    assert "3 neighbours in Elm Street: 4 texts in all, about \u00a30.16." in page
    assert '<span lang="cy">Cymraeg</span> (CY): 2 recipients' in page
    assert '<span lang="en-GB">English</span> (EN): 2 recipients' in page
    assert (
        "Elm Street: D\u0175r wedi'i ddiffodd tan 3yp" in page and f"Elm Street: {ENGLISH}" in page
    )
    assert (
        '1 recipient whose language is not known gets every version, <span lang="cy">Cymraeg</span> first.'
        in page
    )
    # "Change the message" keeps both.
    assert 'name="text-cy" value="D\u0175r wedi\u2019i ddiffodd tan 3yp"' in page

    with session_of(app) as session:
        campaign = session.scalars(select(Campaign)).one()
        assert (campaign.status, campaign.channel, campaign.by_language, campaign.audience) == (
            "draft",
            "web",
            True,
            3,
        )
        assert session.scalars(
            select(CampaignVersion.language).order_by(CampaignVersion.position)
        ).all() == ["cy", "en"]
    assert (
        ruth.post(
            f"/dashboard/broadcasts/{campaign.id}/confirm", data={"csrf_token": token}
        ).status_code
        == 302
    )
    board = board_of(app)
    tick(board.sessions, board.settings, utcnow())
    with session_of(app) as session:
        sent = session.execute(
            select(Outbox.to_number, Outbox.body)
            .where(Outbox.kind == "broadcast")
            .order_by(Outbox.id)
        ).all()
    assert [body for number, body in sent if number == NEB] == [
        "Elm Street: D\u0175r wedi'i ddiffodd tan 3yp",
        f"Elm Street: {ENGLISH}",
    ]
    assert [body for number, body in sent if number == SIONED] == [
        "Elm Street: D\u0175r wedi'i ddiffodd tan 3yp"
    ]
    assert [body for number, body in sent if number == TOM] == [f"Elm Street: {ENGLISH}"]

    progress = ruth.get(f"/dashboard/broadcasts/{campaign.id}/progress").json
    assert (progress["audience"], progress["written"], progress["counts"]["queued"]) == (3, 4, 4)
    shown = html.unescape(ruth.get(f"/dashboard/broadcasts/{campaign.id}").get_data(as_text=True))
    assert '<h2><span lang="cy">Cymraeg</span> (CY)</h2>' in shown
    assert '<h2><span lang="en-GB">English</span> (EN)</h2>' in shown
    assert re.search(r'data-progress="written">4<', shown)


def test_an_empty_composer_on_a_bilingual_board_asks_for_a_message_in_one_language(bilingual):
    _app, ruth = bilingual
    token = csrf_token(ruth, "/dashboard/broadcast")
    refused = ruth.post(
        "/dashboard/broadcast/preview", data={"csrf_token": token, "area": "elm", "text-cy": ""}
    )
    assert refused.status_code == 400
    assert "Write the message in at least one language." in refused.get_data(as_text=True)


def test_the_english_board_keeps_its_one_message_box(app: Flask, client, runner):
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("organiser", "add", RUTH, "elm")
    Phone(client, RUTH).text("JOIN ELM")
    sign_in(client, RUTH)
    page = client.get("/dashboard/broadcast").get_data(as_text=True)
    assert (
        '<textarea id="text" name="text"' in page
        and "text-en" not in page
        and 'id="counter"' in page
    )
