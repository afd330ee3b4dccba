"""Broadcasts: an organiser's message to everyone in one or more areas, after a YES.

The audience is fixed when fan-out starts: active subscribers of its areas who
had joined by then and can still be texted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from sms_board.broadcast import campaign_lifecycle as lifecycle
from sms_board.broadcast.billing import cap_room
from sms_board.broadcast.campaign_lifecycle import (
    TO_FAN_OUT,
    Refusal,
    initial_status,
    status_in,
    transition,
)
from sms_board.broadcast.campaigns import BROADCAST, FAN_OUT_CHUNK, areas_of, pause_campaign
from sms_board.broadcast.fanout import write_outbox
from sms_board.community import audit
from sms_board.models import (
    Area,
    AuditAction,
    Campaign,
    CampaignStatus,
    Outbox,
    OutboxKind,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from sms_board.plumbing.config import Settings
from sms_board.plumbing.db import PLAN_EACH_TIME, among
from sms_board.sending.outbox import Body, lane_for, prepare
from sms_board.sending.quiet import held_until
from sms_board.sending.reachability import reachable
from sms_board.text.phone import mask_numbers
from sms_board.text.segments import truncate_to_segments
from sms_board.text.templates import render

log = logging.getLogger(__name__)

# Twilio refuses bodies over 1600 characters; ten GSM-7 segments stay under it.
MAX_BROADCAST_SEGMENTS = 10


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
    body = prepare(rendered)
    if body.segments > MAX_BROADCAST_SEGMENTS:
        body = prepare(truncate_to_segments(body.text, MAX_BROADCAST_SEGMENTS))
    return body


def audience(
    session: Session, area_ids: Sequence[int], *, exclude_id: int | None = None, joined_by: datetime | None = None,
    after: int | None = None, through: int | None = None,
) -> Select:  # type: ignore[type-arg]
    """`(phone, id)` of everyone a broadcast to these areas reaches, each once.

    `after` < id ≤ `through` (a chunk of a fan-out) bounds both sides of the join: bounded on
    `subscribers` alone, PostgreSQL hashed every subscription of the areas for every chunk.
    """
    member = exists().where(
        Subscription.subscriber_id == Subscriber.id,
        among(session, Subscription.area_id, area_ids),
        Subscription.status == SubscriptionStatus.ACTIVE,
        *_window(Subscription.subscriber_id, after, through),
    )
    if joined_by is not None:
        member = member.where(Subscription.consent_at <= joined_by)
    query = select(Subscriber.phone, Subscriber.id).where(*reachable(), *_window(Subscriber.id, after, through), member)
    if exclude_id is not None:
        query = query.where(Subscriber.id != exclude_id)
    return query


def _window(column: ColumnElement[int], after: int | None, through: int | None) -> list[ColumnElement[bool]]:
    return [*([column > after] if after is not None else []), *([column <= through] if through is not None else [])]


def count_audience(session: Session, area_ids: Sequence[int], *, exclude_id: int | None = None,
                   joined_by: datetime | None = None) -> int:
    query = audience(session, area_ids, exclude_id=exclude_id, joined_by=joined_by).subquery()
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
        status=initial_status(confirmed=confirmed),
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
    if confirmed:
        _audit(session, campaign, created_by, now)
    log.info("broadcast %s %s: %s recipients, %s segments each", campaign.id, campaign.status,
             preview.recipients, preview.segments)
    return campaign


def confirm_broadcast(session: Session, campaign: Campaign, now: datetime, *,
                      confirmed_by: Subscriber) -> Refusal | None:
    """Draft → confirmed and into the audit log, for YES and the dashboard alike; else why not.

    `campaign_lifecycle.confirm` decides (`may_confirm`) and moves it with a conditional
    UPDATE, so of two confirmations racing exactly one passes; a refusal after which nobody
    could confirm the draft cancels it.
    """
    refusal = lifecycle.confirm(session, campaign, confirmed_by, now)
    if refusal is None:
        _audit(session, campaign, confirmed_by, now)
    return refusal


def _audit(session: Session, campaign: Campaign, by: Subscriber | None, now: datetime) -> None:
    """One audit row per target area, so that each area's log shows what reached it.

    Its first words are masked before they are cut: cut first, half a number would be left to mask.
    """
    action = AuditAction.URGENT if campaign.urgent else AuditAction.BROADCAST
    for area_id in campaign.area_ids:
        audit.record(session, action, now, actor=by, label=None if by else audit.OPERATOR,
                     channel=campaign.channel, area_id=area_id, campaign=campaign.id,
                     recipients=campaign.audience, text=mask_numbers(campaign.body or "")[:80])


@dataclass
class FanOutReport:
    started: int = 0
    texts: int = 0
    paused: int = 0
    # When the first texts written now may go, when quiet hours hold them.
    held_until: datetime | None = None


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
        if campaign is None or campaign.kind != BROADCAST or campaign.status not in TO_FAN_OUT:
            return report
        if campaign.status == CampaignStatus.CONFIRMED:
            room = cap_room(session, settings, now)
            if room is not None:
                needed = count_audience(session, campaign.area_ids, exclude_id=campaign.created_by_id) * (
                    campaign.segments or 1)
                if needed > room:
                    pause_campaign(session, settings, campaign, now, needed=needed, room=room)
                    session.commit()
                    report.paused += 1
                    return report
            if not transition(session, campaign, CampaignStatus.FANNING_OUT, allowed_from=(CampaignStatus.CONFIRMED,),
                              now=now):
                return report  # another fan-out started it first; it (or the next tick) writes the rows
            report.started += 1
        body = prepare(campaign.body or "")
        lane = lane_for(OutboxKind.BROADCAST, urgent=campaign.urgent)
        # Quiet hours are each area's own; areas that share a time zone share one statement.
        # A resident in two target areas in different zones gets the first zone's timing.
        zones: dict[str, list[int]] = {}
        for area in areas_of(session, campaign):
            zones.setdefault(area.timezone, []).append(area.id)
        chunks = 0
        for zone_name, area_ids in zones.items():
            send_after = held_until(now, settings, zone_name, urgent=campaign.urgent)
            # Chunks are ranges of subscriber ids, so each chunk reads only its own range (both
            # the boundary and the write); a resumed fan-out walks them again and the unique
            # constraint skips the done. Two statements a chunk, whatever the size of the board.
            after = 0
            while True:
                if max_chunks is not None and chunks >= max_chunks:
                    session.commit()
                    return report
                members = audience(session, area_ids, exclude_id=campaign.created_by_id, joined_by=campaign.started_at,
                                   after=after)
                last = session.scalar(
                    members.with_only_columns(Subscriber.id).order_by(Subscriber.id).offset(chunk - 1).limit(1),
                    execution_options=PLAN_EACH_TIME,
                )
                window = audience(session, area_ids, exclude_id=campaign.created_by_id, joined_by=campaign.started_at,
                                  after=after, through=last)
                written = write_outbox(session, window, body, kind=OutboxKind.BROADCAST, lane=lane,
                                       campaign_id=campaign_id, now=now, send_after=send_after)
                report.texts += written
                if written and send_after and (report.held_until is None or send_after < report.held_until):
                    report.held_until = send_after
                chunks += 1
                if last is None:
                    break
                session.commit()
                after = last
        written = select(func.count()).select_from(Outbox).where(Outbox.campaign_id == campaign_id).scalar_subquery()
        transition(session, campaign, CampaignStatus.SENDING, allowed_from=(CampaignStatus.FANNING_OUT,), now=now,
                   audience=written)
        session.commit()
    log.info("broadcast %s fanned out: %s texts written this run", campaign_id, report.texts)
    return report


def fan_out_confirmed(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    """Fan out every confirmed broadcast, and resume any whose fan-out stopped halfway."""
    with factory() as session:
        due = list(session.scalars(
            select(Campaign.id).where(Campaign.kind == BROADCAST, status_in(TO_FAN_OUT))
            .order_by(Campaign.id)
        ))
    total = FanOutReport()
    for campaign_id in due:
        report = fan_out_broadcast(factory, settings, campaign_id, now)
        total.started += report.started
        total.texts += report.texts
        total.paused += report.paused
    return {"broadcasts_started": total.started, "broadcast_texts": total.texts, "broadcasts_paused": total.paused}
