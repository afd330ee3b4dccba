"""Broadcasts as stored campaigns: preview, confirm, fan out, finish.

A campaign moves draft → confirmed → fanning_out → sending → done (or paused,
cancelled). Confirming only marks it confirmed; the clock's next minute fans
it out, never the webhook. The audience is fixed when fan-out starts: active
subscribers of its areas who had joined by then and can still be texted. The
fan-out writes the outbox in chunks, each its own transaction, skipping anyone
already written, so a fan-out killed halfway resumes where it stopped and
texts nobody twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, exists, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from sms_board.broadcast.fanout import Body, cap_room, reachable, write_outbox
from sms_board.broadcast.jobs import due_job
from sms_board.broadcast.outbox import enqueue
from sms_board.config import Settings
from sms_board.models import (
    Area,
    Campaign,
    CampaignStatus,
    Organiser,
    Outbox,
    OutboxKind,
    OutboxStatus,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from sms_board.quiet import held_until
from sms_board.segments import truncate_to_segments
from sms_board.texts import render

log = logging.getLogger(__name__)

# The YES window (handlers.confirm.CONFIRM_WINDOW): a draft older than this can never be confirmed.
DRAFT_LIFETIME = timedelta(minutes=15)
# Twilio refuses bodies over 1600 characters; ten GSM-7 segments stay under it.
MAX_BROADCAST_SEGMENTS = 10
FAN_OUT_CHUNK = 5000

BROADCAST = "broadcast"
DIGEST = "digest"
_WAITING = (OutboxStatus.HELD.value, OutboxStatus.QUEUED.value, OutboxStatus.SENDING.value)
_TO_FAN_OUT = (CampaignStatus.CONFIRMED.value, CampaignStatus.FANNING_OUT.value)

# The account's currency is not in Twilio's API; the board's region is the best guess.
_CURRENCY_BY_REGION = {
    "GB": "£", "GG": "£", "JE": "£", "IM": "£",
    "US": "$", "CA": "$", "AU": "$", "NZ": "$",
    "IE": "€", "FR": "€", "DE": "€", "ES": "€", "IT": "€", "NL": "€", "BE": "€", "PT": "€",
    "AT": "€", "FI": "€", "GR": "€", "LU": "€",
}


def money(amount: float, settings: Settings) -> str:
    """An amount in the account's currency, with a symbol where the region names one."""
    return f"{_CURRENCY_BY_REGION.get(settings.default_region, '')}{amount:,.2f}"


@dataclass(frozen=True)
class Preview:
    areas: list[Area]
    recipients: int
    body: Body
    cost: float

    @property
    def segments(self) -> int:
        return self.body.segments


def broadcast_body(areas: Sequence[Area], text: str, *, urgent: bool) -> Body:
    """The text residents receive: the organiser's words under the area's name."""
    rendered = render("broadcast_message", areas=list(areas), text=" ".join(text.split()), urgent=urgent)
    body = Body.of(rendered)
    if body.segments > MAX_BROADCAST_SEGMENTS:
        body = Body.of(truncate_to_segments(body.text, MAX_BROADCAST_SEGMENTS))
    return body


def audience(area_ids: Sequence[int], *, exclude_id: int | None = None, joined_by: datetime | None = None) -> Select:  # type: ignore[type-arg]
    """`(phone, id)` of everyone a broadcast to these areas reaches, each once."""
    member = exists().where(
        Subscription.subscriber_id == Subscriber.id,
        Subscription.area_id.in_(list(area_ids)),
        Subscription.status == SubscriptionStatus.ACTIVE.value,
    )
    if joined_by is not None:
        member = member.where(Subscription.consent_at <= joined_by)
    query = select(Subscriber.phone, Subscriber.id).where(*reachable(), member)
    if exclude_id is not None:
        query = query.where(Subscriber.id != exclude_id)
    return query


def count_audience(session: Session, area_ids: Sequence[int], *, exclude_id: int | None = None,
                   joined_by: datetime | None = None) -> int:
    query = audience(area_ids, exclude_id=exclude_id, joined_by=joined_by).subquery()
    return session.scalar(select(func.count()).select_from(query)) or 0


def preview_broadcast(
    session: Session, settings: Settings, areas: Sequence[Area], text: str, *, urgent: bool,
    sender: Subscriber | None = None,
) -> Preview:
    """Who a broadcast would reach and what it would cost; nothing is written."""
    body = broadcast_body(areas, text, urgent=urgent)
    # The organiser knows what they wrote: "neighbours" are everyone else.
    recipients = count_audience(session, [a.id for a in areas], exclude_id=sender.id if sender else None)
    cost = round(recipients * body.segments * settings.price_per_segment, 2)
    return Preview(list(areas), recipients, body, cost)


def create_broadcast(
    session: Session, preview: Preview, *, urgent: bool, now: datetime, created_by: Subscriber | None = None,
    confirmed: bool = False,
) -> Campaign:
    """Store a broadcast: a draft waiting for YES, or already confirmed (the CLI's --yes)."""
    campaign = Campaign(
        kind=BROADCAST,
        status=(CampaignStatus.CONFIRMED if confirmed else CampaignStatus.DRAFT).value,
        area_id=preview.areas[0].id if len(preview.areas) == 1 else None,
        area_ids=[a.id for a in preview.areas],
        body=preview.body.text,
        urgent=urgent,
        created_by_id=created_by.id if created_by else None,
        channel="sms" if created_by else "cli",
        audience=preview.recipients,
        segments=preview.segments,
        estimated_cost=preview.cost,
        created_at=now,
        confirmed_at=now if confirmed else None,
    )
    session.add(campaign)
    session.flush()
    log.info("broadcast %s %s: %s recipients, %s segments each", campaign.id, campaign.status,
             preview.recipients, preview.segments)
    return campaign


def confirm_broadcast(campaign: Campaign, now: datetime) -> bool:
    """Draft → confirmed; False when it is no longer a draft."""
    if campaign.status != CampaignStatus.DRAFT.value:
        return False
    campaign.status = CampaignStatus.CONFIRMED.value
    campaign.confirmed_at = now
    return True


def areas_of(session: Session, campaign: Campaign) -> list[Area]:
    ids = campaign.area_ids or ([campaign.area_id] if campaign.area_id else [])
    return list(session.scalars(select(Area).where(Area.id.in_(ids)).order_by(Area.name)))


def pause_campaign(session: Session, settings: Settings, campaign: Campaign, now: datetime, *, needed: int,
                   room: int) -> None:
    """Stop a campaign at the monthly cap and tell its areas' organisers."""
    campaign.status = CampaignStatus.PAUSED.value
    campaign.note = (f"paused at the monthly cap of {settings.monthly_segment_cap} segments: "
                     f"needed {needed}, {max(room, 0)} left")
    log.warning("campaign %s %s", campaign.id, campaign.note)
    areas = areas_of(session, campaign)
    organisers = session.scalars(
        select(Subscriber).where(
            Subscriber.id.in_(select(Organiser.subscriber_id).where(Organiser.area_id.in_([a.id for a in areas])))
        ).order_by(Subscriber.id)
    )
    template = "digest_paused" if campaign.kind == DIGEST else "broadcast_paused"
    for organiser in organisers:
        enqueue(
            session, settings, organiser,
            render(template, areas=areas, cap=settings.monthly_segment_cap, needed=needed, room=max(room, 0)),
            OutboxKind.NOTIFY, zone_name=areas[0].timezone if areas else None, now=now,
        )


@dataclass
class FanOutReport:
    started: int = 0
    texts: int = 0
    paused: int = 0


def fan_out_broadcast(
    factory: sessionmaker[Session], settings: Settings, campaign_id: int, now: datetime, *,
    chunk: int = FAN_OUT_CHUNK, max_chunks: int | None = None,
) -> FanOutReport:
    """Write a confirmed broadcast's outbox rows; resumes a fan-out that stopped halfway.

    `max_chunks` stops early (the campaign stays `fanning_out` for the next tick):
    that is what a crash looks like, and how the tests make one.
    """
    report = FanOutReport()
    with factory() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None or campaign.kind != BROADCAST or campaign.status not in _TO_FAN_OUT:
            return report
        if campaign.status == CampaignStatus.CONFIRMED.value:
            room = cap_room(session, settings, now)
            if room is not None:
                needed = count_audience(session, campaign.area_ids, exclude_id=campaign.created_by_id) * (
                    campaign.segments or 1)
                if needed > room:
                    pause_campaign(session, settings, campaign, now, needed=needed, room=room)
                    session.commit()
                    report.paused += 1
                    return report
            campaign.status = CampaignStatus.FANNING_OUT.value
            campaign.started_at = now
            report.started += 1
        body = Body.of(campaign.body or "")
        # Quiet hours are each area's own; areas that share a time zone share one statement.
        # A resident in two target areas in different zones gets the first zone's timing.
        zones: dict[str, list[int]] = {}
        for area in areas_of(session, campaign):
            zones.setdefault(area.timezone, []).append(area.id)
        chunks = 0
        for zone_name, area_ids in zones.items():
            send_after = held_until(now, settings, zone_name, urgent=campaign.urgent)
            members = audience(area_ids, exclude_id=campaign.created_by_id, joined_by=campaign.started_at)
            # Chunks are ranges of subscriber ids, so each chunk reads only its own range;
            # a resumed fan-out walks them again and the unique constraint skips the done.
            after = 0
            while True:
                if max_chunks is not None and chunks >= max_chunks:
                    session.commit()
                    return report
                last = session.scalar(
                    members.with_only_columns(Subscriber.id).where(Subscriber.id > after)
                    .order_by(Subscriber.id).offset(chunk - 1).limit(1)
                )
                window = members.where(Subscriber.id > after)
                if last is not None:
                    window = window.where(Subscriber.id <= last)
                report.texts += write_outbox(session, window, body, kind=OutboxKind.BROADCAST,
                                             campaign_id=campaign_id, now=now, send_after=send_after)
                chunks += 1
                if last is None:
                    break
                session.commit()
                after = last
        campaign.status = CampaignStatus.SENDING.value
        campaign.audience = session.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.campaign_id == campaign_id))
        session.commit()
    log.info("broadcast %s fanned out: %s texts written this run", campaign_id, report.texts)
    return report


@due_job("drafts_lapsed", order=10)
def lapse_drafts(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """Broadcast previews nobody confirmed in time are cancelled."""
    with factory.begin() as session:
        result = session.execute(
            update(Campaign)
            .where(Campaign.status == CampaignStatus.DRAFT.value, Campaign.created_at < now - DRAFT_LIFETIME)
            .values(status=CampaignStatus.CANCELLED.value, note="not confirmed in time", finished_at=now)
        )
        return result.rowcount or 0


@due_job("broadcasts", order=20)
def fan_out_confirmed(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    """Fan out every confirmed broadcast, and resume any whose fan-out stopped halfway."""
    with factory() as session:
        due = list(session.scalars(
            select(Campaign.id).where(Campaign.kind == BROADCAST, Campaign.status.in_(_TO_FAN_OUT))
            .order_by(Campaign.id)
        ))
    total = FanOutReport()
    for campaign_id in due:
        report = fan_out_broadcast(factory, settings, campaign_id, now)
        total.started += report.started
        total.texts += report.texts
        total.paused += report.paused
    return {"broadcasts_started": total.started, "broadcast_texts": total.texts, "broadcasts_paused": total.paused}


@due_job("quiet_hours_held", order=35)
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
                Campaign.status.in_([CampaignStatus.FANNING_OUT.value, CampaignStatus.SENDING.value,
                                     CampaignStatus.PAUSED.value]),
                Campaign.urgent.is_(False),
            )
        ).all()
        zones = dict(session.execute(select(Area.id, Area.timezone)).all())
        for campaign_id, area_id, area_ids in running:
            first_area = area_id or next(iter(area_ids or []), None)
            until = held_until(now, settings, zones.get(first_area, settings.timezone))
            if until is None:
                continue
            result = session.execute(
                update(Outbox)
                .where(Outbox.campaign_id == campaign_id, Outbox.status == OutboxStatus.QUEUED.value)
                .values(status=OutboxStatus.HELD.value, send_after=until, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            held += result.rowcount or 0
    return held


@due_job("campaigns_done", order=90)
def finish_campaigns(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """A campaign is done when none of its texts is still waiting or in flight."""
    with factory.begin() as session:
        waiting = exists().where(Outbox.campaign_id == Campaign.id, Outbox.status.in_(_WAITING))
        result = session.execute(
            update(Campaign)
            .where(Campaign.status == CampaignStatus.SENDING.value, ~waiting)
            .values(status=CampaignStatus.DONE.value, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0
