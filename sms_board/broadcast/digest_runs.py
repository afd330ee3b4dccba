"""Digests: each subscriber's news from an area since their last digest.

A digest campaign is one (area, run). Its audience is split into groups that
would receive the same items: a subscriber gets the items published after
their `last_digest_at`, so everyone whose last digest falls between the same
two item publication times shares one body. Each group's pages are built once
(a `DigestBatch`, which also says whose digest it is). The campaigns due
together are planned together, in a few queries whatever the number of areas,
and written together (`digest_fanout`): one statement per chunk of subscription
ids writes every area's rows and, in the same transaction, moves their
`last_digest_at` to the run's cutoff, so each item reaches each subscriber at
most once. Re-running a run, or resuming it after a crash, finds nobody left
to text: the unique (campaign, subscriber) pair and the moved `last_digest_at`
both say so.

Runs: every area has one scheduled run a day at SMS_BOARD_DIGEST_TIME, local
time; daily subscribers are in every run, weekly ones only in the run on
SMS_BOARD_DIGEST_WEEKDAY. A run due during quiet hours starts when they end.
`sms-board digest` starts a run for everyone with something new, now.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, exists, func, insert, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from sms_board.broadcast.billing import cap_room
from sms_board.broadcast.campaign_lifecycle import TO_FAN_OUT, initial_status, status_in, transition
from sms_board.broadcast.campaigns import DIGEST, FAN_OUT_CHUNK, pause_campaign
from sms_board.broadcast.digest_fanout import (
    RunWrite,
    count_by_batch,
    digest_recipients,
    since,
    write_chunk,
)
from sms_board.broadcast.digest_pages import SECTION_ORDER, Entry, paginate, with_stop_line
from sms_board.config import WEEKDAYS, Settings
from sms_board.db import among, is_sqlite
from sms_board.models import (
    Area,
    Campaign,
    CampaignStatus,
    DigestBatch,
    Item,
    ItemKind,
    ItemStatus,
    Outbox,
    OutboxKind,
    Subscriber,
    Subscription,
)
from sms_board.segments import smart_encode
from sms_board.sending.delivery import NOT_RECEIVED, in_statuses
from sms_board.sending.outbox import Body, prepare
from sms_board.sending.quiet import held_until

log = logging.getLogger(__name__)

DAILY, WEEKLY, OFF = "daily", "weekly", "off"
FREQUENCIES = (DAILY, WEEKLY, OFF)
MANUAL_PREFIX = "now-"
# MORE looks at this many of a subscriber's latest digests (one per area is what counts).
_MORE_LOOKBACK = 20
# A digest held for quiet hours, or never sent, cannot be read on from.
# New digest batches per INSERT (a dozen parameters each, well under any database's limit).
_BATCH_ROWS = 500


# ── who is due, and with what ──────────────────────────────────────────────


def _published() -> ColumnElement[datetime]:
    return func.coalesce(Item.published_at, Item.created_at)


def _due(
    session: Session, area_ids: Sequence[int], frequencies: Sequence[str], due_at: datetime | None = None
) -> list[ColumnElement[bool]]:
    """Who a run texts; a scheduled run (`due_at`, its slot) only those whose digest was due at the slot.

    Someone who joined after 18:00 waits for the next 18:00, even when the run itself starts
    late (the clock was down, quiet hours, the very first tick on a new board).
    """
    conditions = [
        among(session, Subscription.area_id, area_ids),
        *digest_recipients(frequencies),
    ]
    if due_at is not None:
        conditions.append(since() < due_at)
    return conditions


def _in_range(low: datetime | None, high: datetime) -> list[ColumnElement[bool]]:
    conditions = [since() < high]
    if low is not None:
        conditions.append(since() >= low)
    return conditions


def _subscriptions() -> Select:  # type: ignore[type-arg]
    return select(Subscriber.phone, Subscriber.id).select_from(Subscription).join(
        Subscriber, Subscriber.id == Subscription.subscriber_id
    )


@dataclass(frozen=True)
class Group:
    """An area's subscribers whose last digest falls in [low, high): they all get `entries`.

    Nobody is sent their own items: the authors among the entries are left out of the group
    (`excluded`), and each gets a group of their own (`author`) without what they wrote.
    """

    area_id: int
    low: datetime | None
    high: datetime
    entries: list[Entry]
    pages: list[str]
    body: Body | None  # the first page, as sent; None when there is nothing to send
    author: int | None = None
    excluded: tuple[int, ...] = ()
    # The first page ending with how to stop, for those not reminded since `month` began (None: no room).
    reminder: Body | None = None
    month: datetime | None = None

    def members(self) -> list[ColumnElement[bool]]:
        """Conditions on `Subscription` for who is in this group (besides being due)."""
        conditions = _in_range(self.low, self.high)
        if self.author is not None:
            conditions.append(Subscription.subscriber_id == self.author)
        elif self.excluded:
            conditions.append(Subscription.subscriber_id.not_in(self.excluded))
        return conditions


@dataclass(frozen=True)
class _News:
    published: datetime
    author_id: int | None
    entry: Entry
    starts: bool  # somebody's last digest falls between the item before this one and this one


def _news(
    session: Session, area_ids: Sequence[int], frequencies: Sequence[str], cutoff: datetime, due_at: datetime | None,
) -> dict[int, list[_News]]:
    """Each area's items a run can show, oldest first, and which of them start somebody's digest; one query.

    Only items after the earliest last digest of those this run texts are read: someone with
    DIGEST OFF (or a dead number) never moves on, and must not make every run read the
    area's whole history. Items published at t1 ≤ t2 ≤ … ≤ tn: a subscriber whose last digest
    was at s gets the items after s, so everyone with s in [t(k-1), t(k)) shares one body;
    item k "starts" when somebody's s falls there, and only those bodies are built.
    """
    last = since()
    lasts = (
        select(Subscription.area_id.label("area_id"), last.label("since"))
        .select_from(Subscription)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(*_due(session, area_ids, frequencies, due_at))
        .group_by(Subscription.area_id, last)
        .cte("lasts")
    )
    earliest = select(lasts.c.area_id, func.min(lasts.c.since).label("since")).group_by(lasts.c.area_id).cte("earliest")
    published = _published()
    news = (
        select(Item.id, Item.area_id, Item.kind, Item.author_name, Item.body, Item.author_id,
               published.label("published"),
               func.lag(published).over(partition_by=Item.area_id, order_by=(published, Item.id)).label("previous"))
        .join(earliest, earliest.c.area_id == Item.area_id)
        .where(
            Item.kind.in_(list(SECTION_ORDER)),
            Item.status == ItemStatus.PUBLISHED.value,
            published > earliest.c.since,
            published <= cutoff,
            (Item.expires_at.is_(None)) | (Item.expires_at > cutoff),
        )
        .cte("news")
    )
    starts = exists().where(
        lasts.c.area_id == news.c.area_id,
        lasts.c.since < news.c.published,
        or_(news.c.previous.is_(None), lasts.c.since >= news.c.previous),
    )
    rows = session.connection().execute(
        select(news.c.area_id, news.c.id, news.c.kind, news.c.author_name, news.c.body, news.c.published,
               news.c.author_id, starts.label("starts"))
        .order_by(news.c.area_id, news.c.published, news.c.id)
    ).all()
    found: dict[int, list[_News]] = {}
    for area_id, item_id, kind, name, body, published_at, author_id, starting in rows:
        entry = Entry(item_id, kind, f"{ItemKind(kind).letter}{item_id}",
                      smart_encode(name) if name else None, smart_encode(" ".join(body.split())))
        found.setdefault(area_id, []).append(_News(published_at, author_id, entry, bool(starting)))
    return found


def plan(
    session: Session, settings: Settings, areas: Sequence[Area], frequencies: Sequence[str], cutoff: datetime,
    due_at: datetime | None = None,
) -> list[Group]:
    """The groups of a digest run in these areas and their pages, area by area; reads only.

    Two queries whatever the number of areas: each area's news (and which bodies anybody
    needs), then where the few subscribers who wrote some of it stand, since they get a
    body of their own without what they wrote.
    """
    if not areas:
        return []
    found = _news(session, [area.id for area in areas], frequencies, cutoff, due_at)
    writers = {news.author_id for items in found.values() for news in items if news.author_id is not None}
    # The authors' own last digests: a handful at most, found in one query.
    standing: dict[int, list[tuple[int, datetime]]] = {}
    if writers:
        for area_id, subscriber_id, last in session.connection().execute(
            select(Subscription.area_id, Subscription.subscriber_id, since()).select_from(Subscription)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(*_due(session, list(found), frequencies, due_at), among(session, Subscription.subscriber_id, writers))
        ):
            standing.setdefault(area_id, []).append((subscriber_id, last))
    groups = []
    month = _month_start(cutoff, settings.zone)
    for area in sorted(areas, key=lambda a: a.id):
        items = found.get(area.id, [])
        times = [news.published for news in items]
        entries = [news.entry for news in items]
        author_of = {news.entry.id: news.author_id for news in items if news.author_id is not None}
        for first, news in enumerate(items):
            if not news.starts:
                continue
            shown = sorted(entries[first:], key=lambda e: SECTION_ORDER[e.kind])
            low, high = (times[first - 1] if first else None), times[first]
            wrote = {author_of[e.id] for e in shown if e.id in author_of}
            authors = sorted(subscriber_id for subscriber_id, since in standing.get(area.id, [])
                             if subscriber_id in wrote and since < high and (low is None or since >= low))
            groups.append(_group(area, settings, month, low, high, shown, excluded=tuple(authors)))
            for author in authors:
                theirs = [e for e in shown if author_of.get(e.id) != author]
                groups.append(_group(area, settings, month, low, high, theirs, author=author))
    return groups


def _group(
    area: Area, settings: Settings, month: datetime, low: datetime | None, high: datetime, entries: list[Entry],
    *, author: int | None = None, excluded: tuple[int, ...] = (),
) -> Group:
    pages = paginate(area.name, entries, settings.digest_segments) if entries else []
    reminder = with_stop_line(pages[0]) if pages else None
    return Group(area_id=area.id, low=low, high=high, entries=entries, pages=pages,
                 body=prepare(pages[0]) if pages else None, author=author, excluded=excluded,
                 reminder=prepare(reminder) if reminder else None, month=month)


def count_group(
    session: Session, frequencies: Sequence[str], group: Group, due_at: datetime | None = None
) -> int:
    if group.body is None:
        return 0
    query = _subscriptions().where(*_due(session, [group.area_id], frequencies, due_at), *group.members()).subquery()
    return session.scalar(select(func.count()).select_from(query)) or 0


def _month_start(moment: datetime, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    return datetime(local.year, local.month, 1, tzinfo=zone)


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
            {"kind": DIGEST, "status": initial_status(confirmed=True).value, "area_id": area_id, "area_ids": [area_id],
             "run_key": run_key, "urgent": False, "channel": "sms", "created_at": now, "confirmed_at": now,
             "not_before": not_before}
            for area_id, run_key, not_before in runs
        ]).on_conflict_do_nothing(index_elements=["kind", "area_id", "run_key"])
    )


@dataclass
class DigestReport:
    runs: int = 0
    texts: int = 0
    segments: int = 0
    paused: int = 0
    held_until: datetime | None = None
    areas: dict[str, int] = field(default_factory=dict)

    def add(self, other: DigestReport) -> None:
        self.runs += other.runs
        self.texts += other.texts
        self.segments += other.segments
        self.paused += other.paused
        self.held_until = self.held_until or other.held_until
        for slug, texts in other.areas.items():
            self.areas[slug] = self.areas.get(slug, 0) + texts


@dataclass(frozen=True)
class _Timing:
    """What the campaigns written together share: who is due, until when, and when their texts may go."""

    frequencies: tuple[str, ...]
    cutoff: datetime
    due_at: datetime | None
    send_after: datetime | None


def _batch_key(campaign_id: int, author: int | None, low: datetime | None, until: datetime,
               item_ids: list[int], body: str | None, reminder: str | None) -> tuple[object, ...]:
    return (campaign_id, author, low, until, tuple(item_ids), body, reminder)


def _store_batches(
    session: Session, campaign_of: dict[int, int], groups: list[Group], timing: _Timing, now: datetime,
    reusable: dict[tuple[object, ...], int],
) -> list[int]:
    """The stored batch of each group, reusing those a stopped run already built; new ones in a few INSERTs."""
    ids: list[int | None] = []
    new: dict[tuple[int, int | None, datetime | None], int] = {}  # (campaign, author, since) → the group's index
    rows: list[dict[str, object]] = []
    for index, group in enumerate(groups):
        # A scheduled run is for those whose digest was due at its slot: the range ends there at the latest.
        until = min(group.high, timing.due_at) if timing.due_at is not None else group.high
        body = group.body.text if group.body else None
        reminder = group.reminder.text if group.reminder else None
        item_ids = [e.id for e in group.entries]
        campaign_id = campaign_of[group.area_id]
        key = _batch_key(campaign_id, group.author, group.low, until, item_ids, body, reminder)
        ids.append(reusable.get(key))
        if key in reusable:
            continue
        new[(campaign_id, group.author, group.low)] = index
        rows.append({
            "campaign_id": campaign_id, "area_id": group.area_id, "since": group.low, "until": until,
            "author_id": group.author, "item_ids": item_ids, "pages": group.pages, "body": body,
            "reminder": reminder, "segments": group.body.segments if group.body else 0,
            "encoding": group.body.encoding if group.body else None, "created_at": now,
        })
    # Multi-row INSERTs: each returns which group its rows are for (one area's ranges never repeat).
    for start in range(0, len(rows), _BATCH_ROWS):
        for batch_id, campaign_id, author_id, low in session.execute(
            insert(DigestBatch).values(rows[start:start + _BATCH_ROWS])
            .returning(DigestBatch.id, DigestBatch.campaign_id, DigestBatch.author_id, DigestBatch.since)
        ):
            ids[new[(campaign_id, author_id, low)]] = batch_id
    return [batch_id for batch_id in ids if batch_id is not None]


def _reusable(session: Session, campaign_ids: list[int]) -> dict[tuple[object, ...], int]:
    if not campaign_ids:
        return {}
    return {
        _batch_key(b.campaign_id, b.author_id, b.since, b.until, b.item_ids, b.body, b.reminder): b.id
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


def _plan_runs(
    session: Session, settings: Settings, timings: dict[_Timing, list[Campaign]], areas: dict[int, Area],
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
                       month=_month_start(timing.cutoff, settings.zone), now=now, send_after=timing.send_after)
        runs.append((replace(run, writing=_within_cap(session, settings, members, groups, planned, run, now,
                                                      report)), area_ids))
    if not is_sqlite(session) and runs:
        # Every outbox row's foreign keys are checked against these two small tables, with plans
        # PostgreSQL keeps per connection: planned while the tables were nearly empty (a new board,
        # a first run in many new areas), each check would read every row a run just added.
        session.execute(text("ANALYZE campaigns, digest_batches"))
    return runs


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
        timings: dict[_Timing, list[Campaign]] = {}
        for campaign in campaigns:
            assert campaign.area_id is not None and campaign.run_key is not None
            # The cutoff is fixed when the run starts, so a resumed run shows the same items;
            # a scheduled run is for those whose digest was due at its slot (`not_before`).
            timing = _Timing(frequencies_for(campaign.run_key, settings), campaign.started_at or now,
                             campaign.not_before, held_until(now, settings, areas[campaign.area_id].timezone))
            timings.setdefault(timing, []).append(campaign)
            report.areas[areas[campaign.area_id].slug] = 0
            report.held_until = report.held_until or timing.send_after
        report.runs = len(campaigns)
        runs = _plan_runs(session, settings, timings, areas, now, _reusable(session, resumed), report)
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
        _finish(session, settings, campaigns, now)
        session.commit()
    if report.texts:
        log.info("digests: %s texts in %s areas", report.texts, len(report.areas))
    return report


def _finish(session: Session, settings: Settings, campaigns: list[Campaign], now: datetime) -> None:
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
    return {"digest_runs": report.runs, "digest_texts": report.texts, "digests_paused": report.paused}


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
    for group in plan(session, settings, areas, frequencies, now):
        if group.body is None:
            continue
        count = count_group(session, frequencies, group)
        figures[group.area_id][0] += count
        figures[group.area_id][1] += count * group.body.segments
    return [DryRun(area.slug, area.name, *figures[area.id], held_until(now, settings, area.timezone)) for area in areas]


# ── MORE ───────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class More:
    page: str | None  # None: nothing more to show
    had_digest: bool


def next_page(session: Session, subscriber: Subscriber) -> More:
    """The next page of the newest digest that has more pages, advancing the subscriber's place.

    Only each area's latest digest counts (an old digest's pages are stale once a newer
    one from the same area arrived), and only digests that went or are going out.
    """
    recent = session.execute(
        select(Outbox.batch_id, Campaign.area_id)
        .join(Campaign, Campaign.id == Outbox.campaign_id)
        .where(
            Outbox.subscriber_id == subscriber.id,
            Outbox.kind == OutboxKind.DIGEST.value,
            Outbox.batch_id.is_not(None),
            ~in_statuses(NOT_RECEIVED),
        )
        .order_by(Outbox.id.desc())
        .limit(_MORE_LOOKBACK)
    ).all()
    latest: dict[int | None, int] = {}
    for batch_id, area_id in recent:
        latest.setdefault(area_id, batch_id)
    if not latest:
        return More(None, had_digest=False)
    batches = {b.id: b for b in session.scalars(select(DigestBatch).where(DigestBatch.id.in_(latest.values())))}
    # The subscriber's place is a cursor through the paged digests, newest first: the rest
    # of one area's digest, then the next area's, until every page has been read.
    paged = [batches[batch_id] for batch_id in latest.values() if len(batches[batch_id].pages) > 1]
    at = next((i for i, b in enumerate(paged) if b.id == subscriber.more_batch_id), None)
    start, page = (at, subscriber.more_page) if at is not None else (0, 1)
    for batch in paged[start:]:
        if page < len(batch.pages):
            subscriber.more_batch_id, subscriber.more_page = batch.id, page + 1
            return More(batch.pages[page], had_digest=True)
        page = 1
    return More(None, had_digest=True)
