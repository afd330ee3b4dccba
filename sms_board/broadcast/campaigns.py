"""What digests and broadcasts share: their areas, the cap's pause, and the clock's campaign jobs.

A campaign moves draft → confirmed → fanning_out → sending → done (or paused,
cancelled), only through `campaign_lifecycle`, which owns every status change.
Confirming only marks it confirmed; the clock's next minute fans it out, never the
webhook. The fan-out writes the outbox in chunks, each its own transaction, skipping
anyone already written, so a fan-out killed halfway resumes where it stopped and
texts nobody twice. A campaign is done when none of
its texts is still waiting or in flight.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from sms_board.broadcast.campaign_lifecycle import (
    DRAFT_LIFETIME,
    DRAFTS,
    DRAINING,
    LAPSED_NOTE,
    TO_PAUSE,
    WITH_TEXTS_WAITING,
    status_in,
    transition,
)
from sms_board.community.languages import enqueue_in_their_language
from sms_board.models import (
    Area,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Organiser,
    Outbox,
    OutboxKind,
    Subscriber,
)
from sms_board.plumbing.config import Settings
from sms_board.sending.delivery import UNFINISHED, hold, in_statuses
from sms_board.sending.quiet import held_until

log = logging.getLogger(__name__)

FAN_OUT_CHUNK = 5000

BROADCAST = CampaignKind.BROADCAST
DIGEST = CampaignKind.DIGEST


def areas_of(session: Session, campaign: Campaign) -> list[Area]:
    ids = campaign.area_ids or ([campaign.area_id] if campaign.area_id else [])
    return list(session.scalars(select(Area).where(Area.id.in_(ids)).order_by(Area.name)))


def pause_campaign(session: Session, settings: Settings, campaign: Campaign, now: datetime, *, needed: int,
                   room: int) -> bool:
    """Stop a campaign at the monthly cap and tell its areas' organisers; False if it had moved on."""
    note = (f"paused at the monthly cap of {settings.monthly_segment_cap} segments: "
            f"needed {needed}, {max(room, 0)} left")
    if not transition(session, campaign, CampaignStatus.PAUSED, allowed_from=TO_PAUSE, now=now, note=note):
        return False
    log.warning("campaign %s %s", campaign.id, campaign.note)
    areas = areas_of(session, campaign)
    organisers = session.scalars(
        select(Subscriber).where(
            Subscriber.id.in_(select(Organiser.subscriber_id).where(Organiser.area_id.in_([a.id for a in areas])))
        ).order_by(Subscriber.id)
    )
    template = "digest_paused" if campaign.kind == DIGEST else "broadcast_paused"
    for organiser in organisers:
        enqueue_in_their_language(
            session, settings, organiser, template, OutboxKind.NOTIFY, zone_name=areas[0].timezone if areas else None,
            now=now, areas=areas, cap=settings.monthly_segment_cap, needed=needed, room=max(room, 0),
        )
    return True


def lapse_drafts(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """Broadcast previews nobody confirmed in time are cancelled."""
    with factory.begin() as session:
        return transition(session, Campaign.created_at < now - DRAFT_LIFETIME, CampaignStatus.CANCELLED,
                          allowed_from=DRAFTS, now=now, note=LAPSED_NOTE)


def hold_for_quiet_hours(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """A run still queued when quiet hours begin waits for them to end (URGENT goes on).

    A big digest at a slow rate can take hours to send; rows the sender has not yet
    claimed go back to `held` until the morning, so nobody is texted at midnight.
    """
    if settings.quiet_hours is None:
        return 0
    held = 0
    with factory.begin() as session:
        running = session.execute(
            select(Campaign.id, Campaign.area_id, Campaign.area_ids).where(
                # A digest paused by the cap part-way has texts queued too: they must not go at night.
                status_in(WITH_TEXTS_WAITING),
                Campaign.urgent.is_(False),
            )
        ).all()
        zones = dict(session.execute(select(Area.id, Area.timezone)).all())
        for campaign_id, area_id, area_ids in running:
            first_area = area_id or next(iter(area_ids or []), None)
            until = held_until(now, settings, zones.get(first_area, settings.timezone))
            if until is None:
                continue
            held += hold(session, Outbox.campaign_id == campaign_id, until, now)
    return held


def finish_campaigns(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """A campaign is done when none of its texts is still waiting or in flight."""
    with factory.begin() as session:
        waiting = exists().where(Outbox.campaign_id == Campaign.id, in_statuses(UNFINISHED))
        return transition(session, ~waiting, CampaignStatus.DONE, allowed_from=DRAINING, now=now)
