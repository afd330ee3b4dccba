"""The campaign life cycle: a campaign moves only from the states its move names, a draft is
confirmed once however many confirmations race, and YES by text and Confirm on the dashboard
refuse alike."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from sms_board.app import board_of
from sms_board.broadcast.broadcasts import confirm_broadcast
from sms_board.broadcast.campaign_lifecycle import (
    DRAFTS,
    NOT_ORGANISER_NOTE,
    TO_FAN_OUT,
    Refusal,
    transition,
)
from sms_board.models import AuditEntry, Campaign, CampaignStatus, Outbox, Subscriber
from sms_board.plumbing.utc import utcnow
from tests.broadcast.test_broadcast import (
    RUTH,
    WEDNESDAY_NOON,
    broadcasts,
    campaigns,
    neighbourhood,
    run_clock,
)
from tests.conftest import Runner, session_of
from tests.support.web import sign_in, submit

ADMIN = "+447700900002"
C = CampaignStatus


@pytest.fixture
def clock():
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def street(clock, app):
    """Ruth organises Elm Street, where Sam, Priya and Joe live."""
    return neighbourhood(app, clock)


def test_a_campaign_moves_only_from_the_states_named(street, app, clock):
    street["ruth"].text("BROADCAST Bin collection moved to Friday")
    clock.shift(timedelta(minutes=16))
    assert run_clock(app)["drafts_lapsed"] == 1  # draft → cancelled, by the clock
    with session_of(app) as session:
        campaign = session.scalars(select(Campaign)).one()
        # A lapsed draft cannot be confirmed, nor fanned out: the database row does not move.
        assert transition(session, campaign, C.CONFIRMED, allowed_from=DRAFTS, now=utcnow()) == 0
        assert transition(session, campaign, C.FANNING_OUT, allowed_from=TO_FAN_OUT, now=utcnow()) == 0
        session.commit()
        assert (campaign.status, campaign.confirmed_at, campaign.started_at) == (C.CANCELLED.value, None, None)
        ruth = session.scalar(select(Subscriber).where(Subscriber.phone == RUTH))
        assert confirm_broadcast(session, campaign, utcnow(), confirmed_by=ruth) == Refusal.NOT_A_DRAFT
        session.commit()
    assert campaigns(app)[0].status == C.CANCELLED.value
    run_clock(app)
    assert broadcasts(app) == []


@pytest.mark.postgres_only(reason="two sessions writing at once need a database that takes concurrent writers")
def test_two_confirmations_racing_send_the_broadcast_once(street, app):
    """A double click, or YES by text as Confirm is clicked: both find the draft, one confirms it."""
    street["ruth"].text("BROADCAST Street party on Saturday from noon")
    factory = board_of(app).sessions
    both_read_the_draft = threading.Barrier(2, timeout=10)
    outcomes: list[Refusal | None] = []

    def confirmation() -> None:
        with factory() as session:
            campaign = session.scalars(select(Campaign)).one()
            ruth = session.scalar(select(Subscriber).where(Subscriber.phone == RUTH))
            assert campaign.status == C.DRAFT.value
            both_read_the_draft.wait()
            outcomes.append(confirm_broadcast(session, campaign, utcnow(), confirmed_by=ruth))
            session.commit()

    threads = [threading.Thread(target=confirmation) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes, key=str) == sorted([None, Refusal.NOT_A_DRAFT], key=str)
    with session_of(app) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "broadcast")) == 1, "one confirmation in the audit log"
    counts = run_clock(app)
    assert counts["broadcasts_started"] == 1 and counts["broadcast_texts"] == 3
    with session_of(app) as session:
        per_person = session.execute(
            select(Outbox.to_number, func.count()).where(Outbox.kind == "broadcast").group_by(Outbox.to_number)
        ).all()
    assert len(per_person) == 3 and {count for _, count in per_person} == {1}


def remove_ruth_as_organiser(app: Flask) -> None:
    """An administrator removes Ruth from Elm Street on the dashboard (she still organises Oak Road)."""
    admin = app.test_client()
    Runner(app)("admin", "add", ADMIN)
    sign_in(admin, ADMIN)
    with session_of(app) as session:
        ruth_id = session.scalar(select(Subscriber.id).where(Subscriber.phone == RUTH))
    assert submit(admin, "/dashboard/admin", f"/dashboard/admin/organisers/{ruth_id}/elm/remove", {}).status_code == 302


def test_a_removed_organiser_is_refused_alike_by_text_and_on_the_dashboard_and_the_draft_is_cancelled(street, app):
    Runner(app)("organiser", "add", RUTH, "oak")
    ruth_by_text = street["ruth"]
    ruth_on_the_web = app.test_client()
    sign_in(ruth_on_the_web, RUTH)
    ruth_by_text.text("BROADCAST ELM Bins on Friday")
    submit(ruth_on_the_web, "/dashboard/broadcast", "/dashboard/broadcast/preview",
           {"area": "elm", "text": "Bins on Friday"})
    by_text, on_the_web = (c.id for c in campaigns(app))
    assert [c.channel for c in campaigns(app)] == ["sms", "web"]
    assert len({tuple(c.area_ids) for c in campaigns(app)}) == 1, "both for Elm Street alone"

    remove_ruth_as_organiser(app)

    assert ruth_by_text.text("YES") == ["Only an area's organisers can send to everyone. Your message is saved and "
                                        "an organiser will see it."]
    refused = submit(ruth_on_the_web, "/dashboard/broadcast", f"/dashboard/broadcasts/{on_the_web}/confirm", {},
                     follow_redirects=True)
    assert ("You are no longer an organiser of every area this broadcast is for, so it has been cancelled."
            in refused.get_data(as_text=True))
    with session_of(app) as session:
        outcome = {c.id: (c.status, c.note) for c in session.scalars(select(Campaign))}
    assert outcome[by_text] == outcome[on_the_web] == (C.CANCELLED.value, NOT_ORGANISER_NOTE)
    run_clock(app)
    assert broadcasts(app) == []
