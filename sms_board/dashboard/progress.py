"""A broadcast's delivery, counted from its outbox rows by status (one grouped statement).

Besides the counts, what an organiser needs to read at a glance: a broadcast whose every
text waits for quiet hours says "held until 08:00 (quiet hours)", not "sending", and a
preview nobody confirmed says it was not sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from sms_board.broadcast.campaigns import BROADCAST, DRAFT_LIFETIME, LAPSED_NOTE
from sms_board.dashboard.scope import Viewer
from sms_board.models import Area, Campaign, CampaignStatus, Outbox, OutboxStatus
from sms_board.plumbing.config import Settings
from sms_board.sending.quiet import held_until
from sms_board.text.phrases import Phrase, phrase

S = OutboxStatus
# What an organiser watching a broadcast wants to tell apart.
GROUPS = {
    "held": (S.HELD,),
    "queued": (S.QUEUED,),
    "sending": (S.SENDING,),
    "sent": (S.SENT,),
    "delivered": (S.DELIVERED,),
    "failed": (S.FAILED, S.UNDELIVERED),
    "unknown": (S.UNKNOWN,),
    "cancelled": (S.CANCELLED,),
}
FINISHED = (CampaignStatus.DONE, CampaignStatus.CANCELLED)
# Statuses in which nothing has gone yet, so texts held for the night are the whole story.
NOT_YET_GOING = (CampaignStatus.CONFIRMED, CampaignStatus.FANNING_OUT, CampaignStatus.SENDING)
LAPSED = phrase("not sent: preview lapsed")
NOT_CONFIRMED = phrase("preview: not confirmed yet")
# What each status reads as on a page (the CLI prints the English).
STATES = {
    CampaignStatus.DRAFT: phrase("draft"),
    CampaignStatus.CONFIRMED: phrase("confirmed"),
    CampaignStatus.FANNING_OUT: phrase("fanning out"),
    CampaignStatus.SENDING: phrase("sending"),
    CampaignStatus.DONE: phrase("done"),
    CampaignStatus.PAUSED: phrase("paused"),
    CampaignStatus.CANCELLED: phrase("cancelled"),
}


@dataclass(frozen=True)
class Progress:
    campaign_id: int
    status: str
    audience: int
    written: int
    counts: dict[str, int]
    note: str | None
    # When the held texts go (or, confirmed but not yet written, would go); None when nothing waits for quiet hours.
    held_until: datetime | None
    # What the status line says, e.g. "held until 08:00 (quiet hours)".
    state: Phrase

    @property
    def finished(self) -> bool:
        return self.status in FINISHED or self.state == LAPSED

    def as_json(self) -> dict[str, object]:
        return {"campaign_id": self.campaign_id, "status": self.status, "state": self.state,
                "audience": self.audience, "written": self.written, "counts": self.counts,
                "held_until": self.held_until.isoformat() if self.held_until else None,
                "finished": self.finished, "note": self.note}


def lapsed(campaign: Campaign, now: datetime) -> bool:
    """A preview nobody confirmed in its 15 minutes (the clock cancels it within a minute of that)."""
    if campaign.status == CampaignStatus.DRAFT:
        return now - campaign.created_at > DRAFT_LIFETIME
    return campaign.status == CampaignStatus.CANCELLED and campaign.note == LAPSED_NOTE


def progresses(session: Session, settings: Settings, campaigns: Sequence[Campaign],
               now: datetime) -> dict[int, Progress]:
    """Each campaign's progress, keyed by id: one grouped statement for all of them, and one for
    their areas' time zones (quiet hours are each area's own)."""
    rows = session.execute(
        select(Outbox.campaign_id, Outbox.status, func.count(), func.min(Outbox.send_after))
        .where(Outbox.campaign_id.in_([c.id for c in campaigns]))
        .group_by(Outbox.campaign_id, Outbox.status)
    ).all()  # even for none: a page costs the same statements whatever it lists
    by_status: dict[int, dict[str, int]] = {}
    first_release: dict[int, datetime] = {}
    for campaign_id, status, count, send_after in rows:
        by_status.setdefault(campaign_id, {})[status] = count
        if status == S.HELD and send_after is not None:
            first_release[campaign_id] = send_after
    zones = _zones(session, settings, campaigns)
    return {c.id: _progress(settings, c, by_status.get(c.id, {}), first_release.get(c.id), zones[c.id], now)
            for c in campaigns}


def progress(session: Session, settings: Settings, campaign: Campaign, now: datetime) -> Progress:
    return progresses(session, settings, [campaign], now)[campaign.id]


def _zones(session: Session, settings: Settings, campaigns: Sequence[Campaign]) -> dict[int, str]:
    """Each campaign's time zone: its first area's by name, as the fan-out and the SMS YES take it."""
    wanted = {area_id for c in campaigns for area_id in _area_ids(c)}
    by_name = session.execute(
        select(Area.id, Area.timezone).where(Area.id.in_(sorted(wanted))).order_by(Area.name)
    ).all()
    zones = {}
    for campaign in campaigns:
        ids = set(_area_ids(campaign))
        zones[campaign.id] = next((zone for area_id, zone in by_name if area_id in ids), settings.timezone)
    return zones


def _area_ids(campaign: Campaign) -> list[int]:
    return campaign.area_ids or ([campaign.area_id] if campaign.area_id else [])


def _progress(settings: Settings, campaign: Campaign, by_status: dict[str, int], release: datetime | None,
              zone_name: str, now: datetime) -> Progress:
    counts = {name: sum(by_status.get(s, 0) for s in statuses) for name, statuses in GROUPS.items()}
    if campaign.status == CampaignStatus.CONFIRMED:
        # Not written yet: the fan-out holds them if it runs in quiet hours (as the SMS YES says).
        release = held_until(now, settings, zone_name, urgent=campaign.urgent)
    elif counts["queued"] or counts["sending"]:
        release = None  # some go now; the held rest are in the counts
    state = STATES[CampaignStatus(campaign.status)]
    if lapsed(campaign, now):
        state = LAPSED
    elif campaign.status == CampaignStatus.DRAFT:
        state = NOT_CONFIRMED
    elif release is not None and campaign.status in NOT_YET_GOING:
        clock = release.astimezone(ZoneInfo(zone_name)).strftime("%H:%M")
        state = phrase("held until %(time)s (quiet hours)", time=clock)
    return Progress(campaign.id, campaign.status, campaign.audience or 0, sum(by_status.values()), counts,
                    None if state == LAPSED else campaign.note,
                    release if campaign.status in NOT_YET_GOING else None, state)


def visible_broadcast(session: Session, viewer: Viewer, campaign_id: int) -> Campaign | None:
    """The broadcast if the viewer may see it (an administrator, an organiser of its areas, or its writer); else None."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.kind != BROADCAST:
        return None
    if not (viewer.is_admin or viewer.covers(campaign.area_ids) or campaign.created_by_id == viewer.subscriber_id):
        return None
    return campaign


def recent_broadcasts(session: Session, settings: Settings, viewer: Viewer, now: datetime) -> list[tuple[Campaign, Phrase]]:
    """The last ten broadcasts sent or being sent, and previews still waiting for a confirmation, with their states."""
    query = (
        select(Campaign)
        .where(Campaign.kind == BROADCAST,
               or_(Campaign.confirmed_at.is_not(None),
                   and_(Campaign.status == CampaignStatus.DRAFT,
                        Campaign.created_at >= now - DRAFT_LIFETIME)))
        .order_by(Campaign.id.desc()).limit(10)
    )
    if not viewer.is_admin:
        query = query.where(or_(Campaign.area_id.in_(viewer.area_ids), Campaign.created_by_id == viewer.subscriber_id))
    campaigns = list(session.scalars(query))
    states = progresses(session, settings, campaigns, now)
    return [(campaign, states[campaign.id].state) for campaign in campaigns]
