"""A digest run's fan-out bookkeeping: its stored batches, the monthly cap, its figures.

Each group a run planned (`digest_groups`) is stored once as a `DigestBatch`, which also
says whose digest it is; a run resumed after a crash reuses the batches it already built,
so it writes the same bodies. Before anything is written, the monthly cap decides which
batches there is room for (a campaign whose next group would pass it is paused and its
organisers told), and once a run is written its audience, segments and cost ride on its
status move. `DigestReport` is what the runs did, for the clock and `sms-board digest`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import case, func, insert, select, text
from sqlalchemy.orm import Session

from sms_board.broadcast.billing import cap_room
from sms_board.broadcast.campaign_lifecycle import transition
from sms_board.broadcast.campaigns import pause_campaign
from sms_board.broadcast.digest_fanout import RunWrite, count_by_batch
from sms_board.broadcast.digest_groups import Group, month_start, plan
from sms_board.models import Area, Campaign, CampaignStatus, DigestBatch, Outbox
from sms_board.plumbing.config import Settings
from sms_board.plumbing.db import among, is_sqlite

# New digest batches per INSERT (a dozen parameters each, well under any database's limit).
_BATCH_ROWS = 500


@dataclass
class DigestReport:
    runs: int = 0
    texts: int = 0
    segments: int = 0
    paused: int = 0
    held_until: datetime | None = None
    areas: dict[str, int] = field(default_factory=dict)
    calls: int = 0  # digests read by a call (`digest_calls`)
    calls_waiting: int = 0  # voice subscribers with news while voice is off: nobody is called, nothing moves

    def add(self, other: DigestReport) -> None:
        self.runs += other.runs
        self.texts += other.texts
        self.calls += other.calls
        self.calls_waiting += other.calls_waiting
        self.segments += other.segments
        self.paused += other.paused
        self.held_until = self.held_until or other.held_until
        for slug, texts in other.areas.items():
            self.areas[slug] = self.areas.get(slug, 0) + texts


@dataclass(frozen=True)
class Timing:
    """What the campaigns written together share: who is due, until when, and when their texts may go."""

    frequencies: tuple[str, ...]
    cutoff: datetime
    due_at: datetime | None
    send_after: datetime | None


def _batch_key(campaign_id: int, author: int | None, low: datetime | None, until: datetime,
               item_ids: list[int], body: str | None, reminder: str | None, language: str | None) -> tuple[object, ...]:
    return (campaign_id, author, low, until, tuple(item_ids), body, reminder, language)


def _store_batches(
    session: Session, campaign_of: dict[int, int], groups: list[Group], timing: Timing, now: datetime,
    reusable: dict[tuple[object, ...], int],
) -> list[int]:
    """The stored batch of each group, reusing those a stopped run already built; new ones in a few INSERTs."""
    ids: list[int | None] = []
    # (campaign, author, since, language) → the group's index
    new: dict[tuple[int, int | None, datetime | None, str | None], int] = {}
    rows: list[dict[str, object]] = []
    for index, group in enumerate(groups):
        # A scheduled run is for those whose digest was due at its slot: the range ends there at the latest.
        until = min(group.high, timing.due_at) if timing.due_at is not None else group.high
        body = group.body.text if group.body else None
        reminder = group.reminder.text if group.reminder else None
        item_ids = [e.id for e in group.entries]
        campaign_id = campaign_of[group.area_id]
        key = _batch_key(campaign_id, group.author, group.low, until, item_ids, body, reminder, group.language)
        ids.append(reusable.get(key))
        if key in reusable:
            continue
        new[(campaign_id, group.author, group.low, group.language)] = index
        rows.append({
            "campaign_id": campaign_id, "area_id": group.area_id, "since": group.low, "until": until,
            "author_id": group.author, "item_ids": item_ids, "pages": group.pages, "body": body,
            "reminder": reminder, "segments": group.body.segments if group.body else 0,
            "encoding": group.body.encoding if group.body else None, "created_at": now, "language": group.language,
        })
    # Multi-row INSERTs: each returns which group its rows are for (one area's ranges never repeat).
    for start in range(0, len(rows), _BATCH_ROWS):
        for batch_id, campaign_id, author_id, low, language in session.execute(
            insert(DigestBatch).values(rows[start:start + _BATCH_ROWS])
            .returning(DigestBatch.id, DigestBatch.campaign_id, DigestBatch.author_id, DigestBatch.since,
                       DigestBatch.language)
        ):
            ids[new[(campaign_id, author_id, low, language)]] = batch_id
    return [batch_id for batch_id in ids if batch_id is not None]


def reusable_batches(session: Session, campaign_ids: list[int]) -> dict[tuple[object, ...], int]:
    if not campaign_ids:
        return {}
    return {
        _batch_key(b.campaign_id, b.author_id, b.since, b.until, b.item_ids, b.body, b.reminder, b.language): b.id
        for b in session.scalars(select(DigestBatch).where(among(session, DigestBatch.campaign_id, campaign_ids)))
        if b.until is not None
    }


def _within_cap(
    session: Session, settings: Settings, campaigns: list[Campaign], groups: list[Group], batch_ids: list[int],
    run: RunWrite, now: datetime, report: DigestReport,
) -> list[int]:
    """The batches the monthly cap leaves room for, area after area and group after group.

    A campaign whose next group would pass the cap is paused before anything of that
    group is written (its organisers are told); the groups before it go out.
    """
    room = cap_room(session, settings, now) if batch_ids else None
    if room is None:
        return batch_ids
    counts = count_by_batch(session, run)
    by_area: dict[int, list[tuple[Group, int]]] = {}
    for group, batch_id in zip(groups, batch_ids, strict=True):
        by_area.setdefault(group.area_id, []).append((group, batch_id))
    writing, reserved = [], 0
    for campaign in campaigns:
        for group, batch_id in by_area.get(campaign.area_id or 0, []):
            segments = group.body.segments if group.body is not None else 0
            needed = counts.get(batch_id, 0) * segments
            if segments and needed > room - reserved:
                pause_campaign(session, settings, campaign, now, needed=needed, room=room - reserved)
                report.paused += 1
                # The organisers' notices count too.
                room = cap_room(session, settings, now) or 0
                break
            reserved += needed
            writing.append(batch_id)
    return writing


def plan_runs(
    session: Session, settings: Settings, timings: dict[Timing, list[Campaign]], areas: dict[int, Area],
    now: datetime, reusable: dict[tuple[object, ...], int], report: DigestReport,
) -> list[tuple[RunWrite, list[int]]]:
    """Plan and store the batches of the campaigns written together, and what the cap leaves room for."""
    runs: list[tuple[RunWrite, list[int]]] = []
    for timing, members in timings.items():
        area_ids = [c.area_id for c in members if c.area_id is not None]
        groups = plan(session, settings, [areas[area_id] for area_id in area_ids], timing.frequencies,
                      timing.cutoff, timing.due_at)
        planned = _store_batches(session, {c.area_id: c.id for c in members if c.area_id is not None}, groups,
                                 timing, now, reusable)
        run = RunWrite(planned=planned, writing=planned, frequencies=timing.frequencies, cutoff=timing.cutoff,
                       month=month_start(timing.cutoff, settings.zone), now=now, send_after=timing.send_after,
                       languages=settings.languages if len(settings.languages) > 1 else ())
        runs.append((replace(run, writing=_within_cap(session, settings, members, groups, planned, run, now,
                                                      report)), area_ids))
    if not is_sqlite(session) and runs:
        # Every outbox row's foreign keys are checked against these two small tables, with plans
        # PostgreSQL keeps per connection: planned while the tables were nearly empty (a new board,
        # a first run in many new areas), each check would read every row a run just added.
        session.execute(text("ANALYZE campaigns, digest_batches"))
    return runs


def finish_runs(session: Session, settings: Settings, campaigns: list[Campaign], now: datetime) -> None:
    """Each run's audience, segments and cost; a run with nothing for anyone is over as soon as it is planned."""
    totals = {
        campaign_id: (texts, segments)
        for campaign_id, texts, segments in session.execute(
            select(Outbox.campaign_id, func.count(), func.coalesce(func.sum(Outbox.segments), 0))
            .where(among(session, Outbox.campaign_id, [c.id for c in campaigns]))
            .group_by(Outbox.campaign_id)
        )
    }
    figures = {c.id: totals.get(c.id, (0, 0)) for c in campaigns}
    cost = {campaign_id: round(segments * settings.price_per_segment, 2) for campaign_id, (_, segments) in figures.items()}
    writing = [c for c in campaigns if c.status == CampaignStatus.FANNING_OUT and figures[c.id][0]]
    empty = [c for c in campaigns if c.status == CampaignStatus.FANNING_OUT and not figures[c.id][0]]
    for campaign in campaigns:
        if campaign not in writing and campaign not in empty:  # paused by the cap: figures only
            texts, segments = figures[campaign.id]
            campaign.audience, campaign.segments, campaign.estimated_cost = texts, segments, cost[campaign.id]
    # The figures ride on the status move: one statement for every run that moves (two when
    # some runs had nothing for anyone), each run's own values picked by its id.
    per_run = {
        "audience": case({cid: texts for cid, (texts, _) in figures.items()}, value=Campaign.id),
        "segments": case({cid: segments for cid, (_, segments) in figures.items()}, value=Campaign.id),
        "estimated_cost": case(cost, value=Campaign.id),
    }
    transition(session, writing, CampaignStatus.SENDING, allowed_from=(CampaignStatus.FANNING_OUT,), now=now,
               **per_run)
    transition(session, empty, CampaignStatus.DONE, allowed_from=(CampaignStatus.FANNING_OUT,), now=now, **per_run)
