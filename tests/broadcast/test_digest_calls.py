"""Digest calls: a voice subscriber's digest is one call, in the bulk lane, reading all their areas' news."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select, update

from sms_board import create_app
from sms_board.app import board_of
from sms_board.broadcast.digest_runs import digest_now, dry_run
from sms_board.models import (
    Campaign,
    CampaignStatus,
    DigestBatch,
    HearsBy,
    Item,
    Outbox,
    OutboxKind,
    OutboxLane,
    Subscriber,
    Subscription,
)
from tests.conftest import Runner, app_config, session_of
from tests.support.statements import NOW, board


def voice_board(db, tmp_path: Path, **settings: str) -> Flask:  # type: ignore[no-untyped-def]
    return create_app(app_config(db, tmp_path, SMS_BOARD_VOICE="on", **settings))


def landline_in_both(app: Flask, area_ids: list[int]) -> int:
    """The first subscriber of the first area hears the board by telephone, and follows the second area too."""
    with session_of(app) as session:
        someone = session.scalar(select(func.min(Subscription.subscriber_id)).where(Subscription.area_id == area_ids[0]))
        session.execute(update(Subscriber).where(Subscriber.id == someone).values(hears_by=HearsBy.VOICE))
        session.add(Subscription(subscriber_id=someone, area_id=area_ids[1], consent_at=NOW - timedelta(days=1),
                                 consent_text="JOIN", consent_channel="import", last_digest_at=NOW - timedelta(days=1)))
        session.commit()
        assert someone is not None
        return someone


def rows_to(app: Flask, subscriber_id: int) -> list[Outbox]:
    with session_of(app) as session:
        return list(session.scalars(select(Outbox).where(Outbox.subscriber_id == subscriber_id).order_by(Outbox.id)))


def test_a_voice_subscriber_in_two_areas_gets_one_call_reading_both_areas_news(db, tmp_path):
    app = voice_board(db, tmp_path)
    area_ids = board(app, 2, 2)
    landline = landline_in_both(app, area_ids)
    factory, settings = board_of(app).sessions, board_of(app).settings

    report = digest_now(factory, settings, NOW)
    again = digest_now(factory, settings, NOW + timedelta(minutes=1))

    assert (report.texts, report.calls, again.texts, again.calls) == (3, 1, 0, 0)
    [call] = rows_to(app, landline)
    with session_of(app) as session:
        batch = session.get(DigestBatch, call.batch_id)
        campaign = session.get(Campaign, call.campaign_id)
        items = {item.id: (item.area_id, item.body) for item in session.scalars(select(Item))}
        moved = set(session.scalars(select(Subscription.last_digest_at).where(Subscription.subscriber_id == landline)))
    assert (call.kind, call.lane, call.status, call.encoding, call.segments) == (
        OutboxKind.CALL, OutboxLane.BULK, "queued", "voice", 0)
    assert batch is not None and campaign is not None and campaign.area_id == area_ids[0]
    assert [items[item_id][0] for item_id in batch.item_ids] == [area_ids[0]] * 3 + [area_ids[1]] * 3
    assert all(items[item_id][1] in call.body for item_id in batch.item_ids)
    assert moved == {NOW}


def test_with_voice_off_a_voice_subscriber_is_counted_waiting_and_keeps_their_news(db, tmp_path):
    app = create_app(app_config(db, tmp_path))  # SMS_BOARD_VOICE is off unless turned on
    area_ids = board(app, 2, 2)
    landline = landline_in_both(app, area_ids)

    report = digest_now(board_of(app).sessions, board_of(app).settings, NOW)

    assert (report.texts, report.calls, report.calls_waiting) == (3, 0, 1)
    assert rows_to(app, landline) == []  # never a text instead: a landline cannot take one
    on = voice_board(db, tmp_path)
    later = digest_now(board_of(on).sessions, board_of(on).settings, NOW + timedelta(minutes=5))
    assert (later.texts, later.calls) == (0, 1)
    [call] = rows_to(on, landline)
    with session_of(on) as session:
        assert len(session.get(DigestBatch, call.batch_id).item_ids) == 6  # type: ignore[union-attr]


def test_the_digest_command_says_voice_is_off_and_counts_calls_apart_in_a_dry_run(db, tmp_path):
    app = create_app(app_config(db, tmp_path))
    area_ids = board(app, 1, 3)
    with session_of(app) as session:
        someone = session.scalar(select(func.min(Subscription.subscriber_id)).where(Subscription.area_id == area_ids[0]))
        session.execute(update(Subscriber).where(Subscriber.id == someone).values(hears_by=HearsBy.VOICE))
        session.commit()
    runner = Runner(app)

    planned = runner("digest", "--dry-run")
    with session_of(app) as session:
        [figures] = dry_run(session, board_of(app).settings, NOW + timedelta(days=1))
    sent = runner("digest")

    assert (figures.recipients, figures.calls) == (2, 1)
    assert "1 voice subscribers would wait: voice is off (SMS_BOARD_VOICE=off)" in planned.output
    assert "1 voice subscribers waiting: voice is off" in sent.output


def test_a_dry_run_counts_a_voice_subscriber_in_two_areas_as_one_call(db, tmp_path):
    app = voice_board(db, tmp_path)
    landline_in_both(app, board(app, 2, 2))

    planned = Runner(app)("digest", "--dry-run")
    per_area = json.loads(Runner(app)("digest", "--dry-run", "--json").output)

    assert [area["calls"] for area in per_area] == [1, 1], "each area counts the people it would reach"
    assert "1 voice subscribers would be called" in planned.output


def test_a_digest_call_pauses_its_campaign_at_the_monthly_cap(db, tmp_path):
    # Each text is one segment; a 3-minute call at 0.015 a minute is ceil(0.045 / 0.04) = 2 segments.
    app = voice_board(db, tmp_path, SMS_BOARD_MONTHLY_SEGMENT_CAP="3")
    area_ids = board(app, 1, 3)
    with session_of(app) as session:
        someone = session.scalar(select(func.min(Subscription.subscriber_id)).where(Subscription.area_id == area_ids[0]))
        session.execute(update(Subscriber).where(Subscriber.id == someone).values(hears_by=HearsBy.VOICE))
        session.commit()

    report = digest_now(board_of(app).sessions, board_of(app).settings, NOW)

    assert (report.texts, report.calls, report.paused) == (2, 0, 1)
    with session_of(app) as session:
        assert session.scalar(select(Campaign.status)) == CampaignStatus.PAUSED
        assert session.scalar(select(func.count()).where(Outbox.kind == OutboxKind.CALL)) == 0
