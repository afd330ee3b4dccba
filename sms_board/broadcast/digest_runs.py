"""Digest runs: when each area's run is due, starting it, and driving its fan-out.

A digest campaign is one (area, run). The campaigns due together are planned
together (`digest_groups`), their batches stored and measured against the cap
(`digest_batches`), and written together (`digest_fanout`): one statement per
chunk of subscription ids writes every area's rows and, in the same transaction,
moves their `last_digest_at` to the run's cutoff, so each item reaches each
subscriber at most once. Re-running a run, or resuming it after a crash, finds
nobody left to text: the unique (campaign, subscriber, version) key and the moved
`last_digest_at` both say so.

Runs: every area has one scheduled run a day at SMS_BOARD_DIGEST_TIME, local
time; daily subscribers are in every run, weekly ones only in the run on
SMS_BOARD_DIGEST_WEEKDAY. A run due during quiet hours starts when they end.
`sms-board digest` starts a run for everyone with something new, now.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from sms_board.broadcast.billing import cap_room, longest_call_segments
from sms_board.broadcast.campaign_lifecycle import TO_FAN_OUT, initial_status, status_in, transition
from sms_board.broadcast.campaigns import DIGEST, FAN_OUT_CHUNK, pause_campaign
from sms_board.broadcast.digest_batches import (
    DigestReport,
    Timing,
    finish_runs,
    plan_runs,
    reusable_batches,
)
from sms_board.broadcast.digest_calls import count_waiting, plan_calls, write_calls
from sms_board.broadcast.digest_fanout import RunWrite, write_chunk
from sms_board.broadcast.digest_groups import count_group, plan, reached_ids
from sms_board.community.trusted_helpers import copy_digests
from sms_board.models import Area, Campaign, CampaignStatus, HearsBy, Subscription
from sms_board.plumbing.config import WEEKDAYS, Settings
from sms_board.plumbing.db import among, is_sqlite
from sms_board.sending.quiet import held_until

log = logging.getLogger(__name__)

DAILY, WEEKLY, OFF = "daily", "weekly", "off"
FREQUENCIES = (DAILY, WEEKLY, OFF)
MANUAL_PREFIX = "now-"


# ── runs ───────────────────────────────────────────────────────────────────


def latest_slot(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The most recent scheduled digest time at or before `now`, on the area's wall clock."""
    today = now.astimezone(zone).date()
    slot = datetime.combine(today, at, tzinfo=zone)
    if slot > now:
        slot = datetime.combine(today - timedelta(days=1), at, tzinfo=zone)
    return slot


def scheduled_run_key(slot: datetime, zone: ZoneInfo) -> str:
    return slot.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def manual_run_key(now: datetime) -> str:
    return MANUAL_PREFIX + now.strftime("%Y-%m-%dT%H:%M:%S")


def frequencies_for(run_key: str, settings: Settings) -> tuple[str, ...]:
    """Weekly subscribers are in the run on the digest weekday, and in every `sms-board digest`."""
    if run_key.startswith(MANUAL_PREFIX):
        return (DAILY, WEEKLY)
    if date.fromisoformat(run_key[:10]).weekday() == WEEKDAYS.index(settings.digest_weekday):
        return (DAILY, WEEKLY)
    return (DAILY,)


def start_run(session: Session, area_id: int, run_key: str, now: datetime, not_before: datetime | None = None) -> None:
    """Create a digest campaign unless this (area, run) exists already."""
    start_runs(session, [(area_id, run_key, not_before)], now)


def start_runs(session: Session, runs: Sequence[tuple[int, str, datetime | None]], now: datetime) -> None:
    """Create the digest campaign of each (area, run key, slot) that does not exist yet; one statement."""
    if not runs:
        return
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    session.execute(
        insert(Campaign).values([
            {"kind": DIGEST, "status": initial_status(confirmed=True), "area_id": area_id, "area_ids": [area_id],
             "run_key": run_key, "urgent": False, "channel": "sms", "created_at": now, "confirmed_at": now,
             "not_before": not_before}
            for area_id, run_key, not_before in runs
        ]).on_conflict_do_nothing(index_elements=["kind", "area_id", "run_key"])
    )


def fan_out_digests(
    factory: sessionmaker[Session], settings: Settings, campaign_ids: Sequence[int], now: datetime, *,
    chunk: int = FAN_OUT_CHUNK, max_chunks: int | None = None,
) -> DigestReport:
    """Build digest runs' batches and write their outbox rows; resumes runs that stopped halfway.

    All the runs are planned together (a few queries, whatever the number of areas), then
    written together: one statement per chunk of `chunk` subscription ids writes every
    area's rows of that chunk, committed after each chunk, so a run that dies keeps what it
    wrote. `max_chunks` stops early, as a crash would.
    """
    report = DigestReport()
    if not campaign_ids:
        return report
    with factory() as session:
        campaigns = list(session.scalars(
            select(Campaign).where(among(session, Campaign.id, campaign_ids), Campaign.kind == DIGEST,
                                   status_in(TO_FAN_OUT)).order_by(Campaign.id)
        ))
        if not campaigns:
            return report
        areas = {a.id: a for a in session.scalars(
            select(Area).where(among(session, Area.id, [c.area_id for c in campaigns if c.area_id is not None])))}
        resumed = [c.id for c in campaigns if c.status == CampaignStatus.FANNING_OUT]
        starting = [c for c in campaigns if c.status == CampaignStatus.CONFIRMED]
        transition(session, starting, CampaignStatus.FANNING_OUT, allowed_from=(CampaignStatus.CONFIRMED,), now=now)
        timings: dict[Timing, list[Campaign]] = {}
        for campaign in campaigns:
            assert campaign.area_id is not None and campaign.run_key is not None
            # The cutoff is fixed when the run starts, so a resumed run shows the same items;
            # a scheduled run is for those whose digest was due at its slot (`not_before`).
            timing = Timing(frequencies_for(campaign.run_key, settings), campaign.started_at or now,
                             campaign.not_before, held_until(now, settings, areas[campaign.area_id].timezone))
            timings.setdefault(timing, []).append(campaign)
            report.areas[areas[campaign.area_id].slug] = 0
            report.held_until = report.held_until or timing.send_after
        report.runs = len(campaigns)
        runs = plan_runs(session, settings, timings, areas, now, reusable_batches(session, resumed), report)
        session.commit()
        slugs = {c.id: areas[c.area_id].slug for c in campaigns if c.area_id is not None}
        chunks = 0
        for run, area_ids in runs:
            if not run.writing:
                continue
            # Chunks are ranges of subscription ids, each read on its own through the primary key;
            # a resumed run walks them again and finds the done moved past its batches' ranges.
            low, high = session.execute(
                select(func.min(Subscription.id), func.max(Subscription.id))
                .where(among(session, Subscription.area_id, area_ids))
            ).one()
            for first in range(low or 0, (high or -1) + 1, chunk):
                if max_chunks is not None and chunks >= max_chunks:
                    return report
                for campaign_id, (texts, segments) in write_chunk(session, run, first, first + chunk).items():
                    report.texts += texts
                    report.segments += segments
                    report.areas[slugs[campaign_id]] += texts
                session.commit()
                chunks += 1
            _write_calls(session, settings, run, {c.id: c for c in campaigns}, areas, now, report)
            session.commit()
        # Trusted helpers' copies (docs/helpers.md), before the runs' totals are counted.
        report.texts += copy_digests(session, settings, [c.id for c in campaigns], now)
        finish_runs(session, settings, campaigns, now)
        session.commit()
    if report.texts or report.calls:
        log.info("digests: %s texts and %s calls in %s areas", report.texts, report.calls, len(report.areas))
    if report.calls_waiting:
        log.warning("digests: %s voice subscribers have news but voice is off (SMS_BOARD_VOICE): their digests wait",
                    report.calls_waiting)
    return report


def _write_calls(session: Session, settings: Settings, run: RunWrite, campaigns: dict[int, Campaign],
                 areas: dict[int, Area], now: datetime, report: DigestReport) -> None:
    """The run's voice subscribers: one call each (voice on, and room under the cap), or counted as waiting."""
    if not settings.voice.enabled:
        report.calls_waiting += count_waiting(session, run)
        return
    plans = [plan for plan in plan_calls(session, run) if plan.items or plan.subscription_ids]
    calling = [plan for plan in plans if plan.items]
    room = cap_room(session, settings, now) if calling else None
    needed = len(calling) * longest_call_segments(settings)
    if room is not None and needed > room:
        for campaign_id in sorted({plan.campaign_id for plan in calling}):
            pause_campaign(session, settings, campaigns[campaign_id], now, needed=needed, room=room)
            report.paused += 1
        return
    written = write_calls(session, settings, run, plans, {area_id: area.timezone for area_id, area in areas.items()})
    report.calls += sum(written.values())


def fan_out_digest(
    factory: sessionmaker[Session], settings: Settings, campaign_id: int, now: datetime, *,
    chunk: int = FAN_OUT_CHUNK, max_chunks: int | None = None,
) -> DigestReport:
    """One digest run's fan-out (see `fan_out_digests`)."""
    return fan_out_digests(factory, settings, [campaign_id], now, chunk=chunk, max_chunks=max_chunks)


def _resume_all(factory: sessionmaker[Session], settings: Settings, now: datetime) -> DigestReport:
    with factory() as session:
        due = list(session.scalars(
            select(Campaign.id).where(Campaign.kind == DIGEST, status_in(TO_FAN_OUT)).order_by(Campaign.id)
        ))
    return fan_out_digests(factory, settings, due, now)


def run_due_digests(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    """Start each area's scheduled run once it is due (and not in quiet hours), then fan out.

    A run is due at a digest time the area lived through: the first tick on a new board (or
    after `sms-board demo`) at any hour starts nothing until the next digest time.
    """
    with factory.begin() as session:
        wanted: dict[int, tuple[str, datetime]] = {}
        for area_id, zone_name, created_at in session.execute(select(Area.id, Area.timezone, Area.created_at)).all():
            zone = ZoneInfo(zone_name)
            if held_until(now, settings, zone_name) is not None:
                continue  # a run due in quiet hours waits for them to end
            slot = latest_slot(now, settings.digest_time, zone)
            if created_at is not None and slot < created_at:
                continue  # the area did not exist yet at that digest time
            wanted[area_id] = (scheduled_run_key(slot, zone), slot)
        if wanted:
            started = {
                (area_id, key) for area_id, key in session.execute(
                    select(Campaign.area_id, Campaign.run_key).where(
                        Campaign.kind == DIGEST, Campaign.run_key.in_({key for key, _ in wanted.values()}))
                )
            }
            start_runs(session, [(area_id, key, slot) for area_id, (key, slot) in wanted.items()
                                 if (area_id, key) not in started], now)
    report = _resume_all(factory, settings, now)
    return {"digest_runs": report.runs, "digest_texts": report.texts, "digest_calls": report.calls,
            "digest_calls_waiting": report.calls_waiting, "digests_paused": report.paused}


def digest_now(
    factory: sessionmaker[Session], settings: Settings, now: datetime, area_slug: str | None = None, *,
    chunk: int = FAN_OUT_CHUNK,
) -> DigestReport:
    """`sms-board digest`: a run for everyone with something new, whatever their schedule."""
    key = manual_run_key(now)
    with factory.begin() as session:
        query = select(Area.id)
        if area_slug is not None:
            query = query.where(Area.slug == area_slug)
        start_runs(session, [(area_id, key, None) for area_id in session.scalars(query)], now)
        runs = list(session.scalars(select(Campaign.id).where(Campaign.kind == DIGEST, Campaign.run_key == key)))
    return fan_out_digests(factory, settings, runs, now, chunk=chunk)


@dataclass(frozen=True)
class DryRun:
    slug: str
    name: str
    recipients: int
    segments: int
    held_until: datetime | None
    callers: frozenset[int] = frozenset()  # voice subscribers with news here (one call carries all their areas)

    @property
    def calls(self) -> int:
        return len(self.callers)

    def seconds(self, settings: Settings) -> float:
        units = self.segments if settings.rate_unit == "segment" else self.recipients
        return units / settings.rate


def dry_run(session: Session, settings: Settings, now: datetime, area_slug: str | None = None) -> list[DryRun]:
    """What `sms-board digest` would send now, per area; writes nothing."""
    query = select(Area).order_by(Area.slug)
    if area_slug is not None:
        query = query.where(Area.slug == area_slug)
    frequencies = (DAILY, WEEKLY)
    areas = list(session.scalars(query))
    figures = {area.id: [0, 0] for area in areas}
    callers: dict[int, set[int]] = {area.id: set() for area in areas}
    for group in plan(session, settings, areas, frequencies, now):
        if group.body is None:
            continue
        count = count_group(session, frequencies, group)
        figures[group.area_id][0] += count
        figures[group.area_id][1] += count * group.body.segments
        callers[group.area_id] |= reached_ids(session, frequencies, group, HearsBy.VOICE)
    return [DryRun(area.slug, area.name, *figures[area.id], held_until(now, settings, area.timezone),
                   callers=frozenset(callers[area.id])) for area in areas]


def people_called(planned: Sequence[DryRun]) -> int:
    """The calls a dry run's areas add up to: a person in several areas is one call."""
    return len(frozenset().union(*(p.callers for p in planned)))
