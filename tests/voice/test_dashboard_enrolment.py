"""The dashboard's subscriber page: how each subscriber hears the board, changed by an organiser of
their area, and someone enrolled by telephone with the consent they gave (`/dashboard/subscribers/enrol`).

The forms carry their CSRF token; an organiser acts only on their own areas' subscribers; a landline is
never switched to texts, and a board that places no calls shows none of it.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from sms_board import create_app
from sms_board.models import AuditEntry, ConsentEvent, HearsBy, Subscriber, Subscription
from tests.conftest import Phone, Runner, app_config, session_of
from tests.support.web import sign_in, submit

RUTH, SAM, JOE, CARDIFF = "+447700900001", "+447700900123", "+447700900789", "+442920180123"
CONSENT = "phoned by Ruth, 3 Dec"


def board(db, tmp_path, voice: str = "on") -> Flask:  # type: ignore[no-untyped-def]
    app = create_app(app_config(db, tmp_path, SMS_BOARD_VOICE=voice))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street")
    runner("area", "add", "oak", "Oak Road")
    Phone(app.test_client(), RUTH).text("JOIN ELM")
    Phone(app.test_client(), RUTH).text("NAME Ruth")
    runner("organiser", "add", RUTH, "elm")
    Phone(app.test_client(), SAM).text("JOIN ELM")
    Phone(app.test_client(), JOE).text("JOIN OAK")
    return app


@pytest.fixture
def app(db, tmp_path) -> Flask:
    return board(db, tmp_path)


def hears_by(app: Flask, number: str) -> HearsBy | None:
    with session_of(app) as session:
        return session.scalar(select(Subscriber.hears_by).where(Subscriber.phone == number))


def subscriber_id(app: Flask, number: str) -> int:
    with session_of(app) as session:
        return session.scalars(select(Subscriber.id).where(Subscriber.phone == number)).one()


def change(client, app: Flask, number: str, value: str):  # type: ignore[no-untyped-def]
    return submit(client, "/dashboard/subscribers", f"/dashboard/subscribers/{subscriber_id(app, number)}/hears-by",
                  {"hears_by": value, "back": "/dashboard/subscribers"})


def enrol(client, **fields: str):  # type: ignore[no-untyped-def]
    return submit(client, "/dashboard/subscribers/enrol", "/dashboard/subscribers/enrol",
                  {"area": "elm", "name": "", "language": "", **fields})


def shown_hearing(page: str) -> dict[str, str]:
    """Each row's masked number → how the page says they hear the board."""
    rows = re.findall(r'<tr><td style="white-space: nowrap">([^<]+)</td>(.*?)</tr>', page, re.S)
    return {number: re.search(r'<select name="hears_by"[^>]*>.*?<option value="\w+" selected>([^<]+)</option>',
                              rest, re.S).group(1) for number, rest in rows}


def test_an_organiser_sees_and_changes_how_a_subscriber_hears_the_board(app):
    client = app.test_client()
    sign_in(client, RUTH)
    assert shown_hearing(client.get("/dashboard/subscribers?lang=en").get_data(as_text=True))["+44 7•••• ••123"] \
        == "by text"

    changed = change(client, app, SAM, "voice")

    assert changed.status_code == 302 and hears_by(app, SAM) == HearsBy.VOICE
    page = client.get("/dashboard/subscribers?lang=en").get_data(as_text=True)
    assert "+44 7•••• ••123 hears the board by telephone now." in page
    assert shown_hearing(page)["+44 7•••• ••123"] == "by telephone"


def test_an_organiser_enrols_a_landline_with_the_consent_they_were_given(app):
    client = app.test_client()
    sign_in(client, RUTH)

    enrolled = enrol(client, number="029 2018 0123", name="Glenys", consent_source=CONSENT)

    assert enrolled.status_code == 302
    with session_of(app) as session:
        glenys = session.scalars(select(Subscriber).where(Subscriber.phone == CARDIFF)).one()
        assert (glenys.hears_by, glenys.name) == (HearsBy.VOICE, "Glenys")
        assert session.scalars(select(Subscription.consent_text).where(Subscription.subscriber_id == glenys.id)).one() \
            == CONSENT
        assert session.scalars(select(ConsentEvent.words).where(ConsentEvent.subscriber_id == glenys.id)).one() \
            == CONSENT
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "import")).one()
        assert (audit.channel, audit.actor) == ("web", "Ruth +44 7•••• ••001")
    page = client.get("/dashboard/subscribers?lang=en").get_data(as_text=True)
    assert shown_hearing(page)["+44 2•••• ••123"] == "by telephone"

    refused = change(client, app, CARDIFF, "sms")
    assert "a landline can&#39;t get texts: choose “by telephone”" in client.get(refused.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert hears_by(app, CARDIFF) == HearsBy.VOICE


def test_enrolment_refusals_are_shown_in_one_line_and_write_nothing(app):
    client = app.test_client()
    sign_in(client, RUTH)

    no_consent = enrol(client, number="029 2018 0123", consent_source=" ")
    other_area = enrol(client, number="029 2018 0123", consent_source=CONSENT, area="oak")
    bad_number = enrol(client, number="029 2018", consent_source=CONSENT)

    no_area = enrol(client, number="029 2018 0123", consent_source=CONSENT, area="")

    assert [response.status_code for response in (no_consent, other_area, bad_number, no_area)] == [400, 404, 400, 400]
    assert "Say how they agreed" in no_consent.get_data(as_text=True)
    assert "not a valid UK number" in bad_number.get_data(as_text=True)
    assert "Choose one of your areas." in no_area.get_data(as_text=True)
    assert hears_by(app, CARDIFF) is None


def test_an_organiser_cannot_change_someone_outside_their_areas_nor_without_the_form(app):
    client = app.test_client()
    sign_in(client, RUTH)

    assert change(client, app, JOE, "voice").status_code == 404
    forged = client.post(f"/dashboard/subscribers/{subscriber_id(app, SAM)}/hears-by", data={"hears_by": "voice"})
    assert forged.status_code == 400
    assert hears_by(app, JOE) == hears_by(app, SAM) == HearsBy.SMS


def test_a_board_that_places_no_calls_shows_no_choice_and_refuses_voice(db, tmp_path):
    app = board(db, tmp_path, voice="off")
    client = app.test_client()
    sign_in(client, RUTH)

    page = client.get("/dashboard/subscribers?lang=en").get_data(as_text=True)
    assert "Hears the board" not in page and "Enrol by telephone" not in page
    refused = change(client, app, SAM, "voice")
    assert "this board doesn&#39;t place calls: set SMS_BOARD_VOICE=on" in \
        client.get(refused.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert hears_by(app, SAM) == HearsBy.SMS
