"""The dashboard's trusted helpers page: an organiser sees a resident's helpers, records one with the
resident's consent (the helper still agrees by text) and ends one; CSRF and area scope hold."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from sms_board.models import AuditEntry, Subscriber, TrustedHelper
from tests.conftest import session_of
from tests.support.web import csrf_token, sign_in, submit

RUTH, ROSE, SAM = "+447700900001", "+447700900111", "+447700900222"


def rose_id(app) -> int:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        found = session.scalar(select(Subscriber.id).where(Subscriber.phone == ROSE))
        assert found is not None
        return found


def flashes(page: str) -> list[str]:
    return [html.unescape(found) for found in re.findall(r'<p class="flash[^"]*"[^>]*>([^<]*)</p>', page)]


def test_an_organiser_records_a_helper_who_is_asked_by_text_and_ends_it(areas, runner, phone, app, client):
    runner("organiser", "add", RUTH, "elm")
    rose = phone(ROSE)
    rose.text("JOIN ELM")
    rose.text("NAME Rose")
    sign_in(client, RUTH)
    page_url = f"/dashboard/subscribers/{rose_id(app)}/helpers"
    assert page_url in client.get("/dashboard/subscribers").get_data(as_text=True)
    assert "No helpers." in client.get(page_url).get_data(as_text=True)

    refused = submit(client, page_url, page_url + "/add", {"number": "07700 900222", "consent": " "}, follow_redirects=True)
    assert flashes(refused.get_data(as_text=True)) == [
        "Say how the resident agreed, e.g. asked in person by Ruth, 3 Dec."]
    landline = submit(client, page_url, page_url + "/add", {"number": "020 7946 0555", "consent": "asked by Ruth"},
                      follow_redirects=True)
    assert flashes(landline.get_data(as_text=True)) == ["That number can't get texts: a helper needs a mobile."]

    added = submit(client, page_url, page_url + "/add", {"number": "07700 900222", "consent": "asked by Ruth on the phone"},
                   follow_redirects=True)
    with session_of(app) as session:
        row = session.scalars(select(TrustedHelper)).one()
        assert (row.status, row.asked_by, row.resident_channel, row.resident_words) == (
            "proposed", "+44 7•••• ••001", "web", "asked by Ruth on the phone")
    shown = added.get_data(as_text=True)
    assert flashes(shown) == [f"+44 7•••• ••222 is asked by text to be the helper ({row.ref}): nothing changes "
                              f"until they reply OK {row.ref}."]
    assert "asked, no answer yet" in shown and SAM not in shown
    assert phone(SAM).received()[0].body.startswith("Rose (Elm Street) asks you to be their helper")

    ended = submit(client, page_url, f"/dashboard/helpers/{row.id}/end", {}, follow_redirects=True)
    assert flashes(ended.get_data(as_text=True)) == [
        f"{row.ref} has ended. Nobody is told: tell the resident and the helper if they should know."]
    with session_of(app) as session:
        assert session.scalars(select(TrustedHelper.status)).one() == "ended"
        assert [str(a) for a in session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
                if str(a).startswith("helper")] == ["helper_add", "helper_end"]


def test_the_helpers_forms_need_their_csrf_token(areas, runner, phone, app, client):
    runner("organiser", "add", RUTH, "elm")
    phone(ROSE).text("JOIN ELM")
    phone(ROSE).text("NAME Rose")
    sign_in(client, RUTH)
    page_url = f"/dashboard/subscribers/{rose_id(app)}/helpers"
    assert csrf_token(client, page_url)
    forged = client.post(page_url + "/add", data={"number": "07700 900222", "consent": "asked"})
    assert forged.status_code == 400
    with session_of(app) as session:
        assert session.scalars(select(TrustedHelper)).all() == []
