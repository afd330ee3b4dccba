"""A subscription's status moves only the ways `sending.subscription_status` lists.

STOP ends what is active and only START brings it back: not a JOIN, not an organiser
accepting a request, not a LEAVE sent while opted out. Each is tried here, by text and
against the owner itself, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from sms_board.app import board_of
from sms_board.community import subscriptions
from sms_board.models import Area, Subscriber, Subscription, SubscriptionStatus
from sms_board.plumbing.utc import utcnow
from sms_board.sending import subscription_status
from sms_board.text.templates import render
from tests.conftest import session_of

ALICE, RUTH = "+447700900456", "+447700900001"


def statuses(app: Flask, number: str) -> dict[str, str]:
    with session_of(app) as session:
        return dict(session.execute(
            select(Area.slug, Subscription.status).join(Subscription.area).join(Subscription.subscriber)
            .where(Subscriber.phone == number)
        ).all())


def test_only_start_brings_back_what_stop_ended(app, areas, phone):
    alice = phone(ALICE)
    alice.text("JOIN ELM")
    alice.text("JOIN OAK")
    alice.text("LEAVE OAK")
    assert alice.text("STOP") == [render("stop_confirm")]
    board = board_of(app)
    now = utcnow()
    with board.sessions.begin() as session:
        person = session.scalar(select(Subscriber).where(Subscriber.phone == ALICE))
        elm, oak = (session.scalar(select(Area).where(Area.slug == slug)) for slug in ("elm", "oak"))
        # JOIN's path (also an invite code's and an accepted request's) refuses a stopped area…
        assert not subscriptions.subscribe(session, person, elm, words="JOIN ELM", wording="", channel="sms", now=now)
        # …a LEAVE cannot turn it into a left one (which START would then not bring back)…
        assert subscriptions.leave(session, person, [elm], words="LEAVE ELM", channel="sms", now=now) == []
        # …and no move that does not name `stopped` touches it.
        assert subscription_status.transition(session, Subscription.area_id == elm.id, SubscriptionStatus.ACTIVE,
                                        allowed_from=subscription_status.REJOINS_FROM, now=now) == 0
        # A left area stays left: STOP did not end it.
        assert subscription_status.stop_all(session, person.id, now) == 0
        assert subscription_status.transition(session, Subscription.area_id == oak.id, SubscriptionStatus.ACTIVE,
                                        allowed_from=subscription_status.RESTARTS_FROM, now=now) == 0
    assert statuses(app, ALICE) == {"elm": "stopped", "oak": "left"}

    alice.text("START")

    assert statuses(app, ALICE) == {"elm": "active", "oak": "left"}
    with session_of(app) as session:
        ended = session.scalar(select(Subscription.ended_at).join(Subscription.area).where(Area.slug == "elm"))
    assert ended is None, "back to active: no longer ended"


def test_a_leave_or_join_texted_after_stop_resurrects_nothing(app, areas, phone):
    alice = phone(ALICE)
    alice.text("JOIN ELM")
    alice.text("STOP")

    assert alice.text("LEAVE ELM") == []
    assert alice.text("JOIN OAK") == []
    assert alice.text("JOIN ELM") == []

    assert statuses(app, ALICE) == {"elm": "stopped"}
    assert alice.received() == [], "nothing queued for an opted-out number"


def test_a_request_accepted_after_its_resident_stopped_waits_for_start(app, areas, runner, phone):
    runner("area", "add", "carers", "Foster Carers", "--private", "--postcode", "SE4")
    runner("organiser", "add", RUTH, "carers")
    alice, ruth = phone(ALICE), phone(RUTH)
    request = re.search(r"#(J\d+)", alice.text("JOIN CARERS")[0]).group(1)
    alice.text("STOP")

    ruth.text(f"ACCEPT {request}")

    assert statuses(app, ALICE) == {"carers": "stopped"}, "an opted-out number is in no area"
    assert "Foster Carers" in alice.text("START")[0]
    assert statuses(app, ALICE) == {"carers": "active"}
