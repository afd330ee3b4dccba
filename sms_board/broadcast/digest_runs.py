"""Digests: each subscriber's news from an area since their last digest.

A digest campaign is one (area, run). Its audience is split into groups that
would receive the same items: a subscriber gets the items published after
their `last_digest_at`, so everyone whose last digest falls between the same
two item publication times shares one body. Each group's pages are built once
(a `DigestBatch`) and fanned out with one `INSERT … SELECT` per chunk; in the
same transaction the group's `last_digest_at` moves to the run's cutoff (so
each item reaches each subscriber at most once) and their MORE pointer moves
to the batch. Re-running a run, or resuming it after a crash, finds nobody
left to text: the unique (campaign, subscriber) pair and the moved
`last_digest_at` both say so.

Runs: every area has one scheduled run a day at SMS_BOARD_DIGEST_TIME, local
time; daily subscribers are in every run, weekly ones only in the run on
SMS_BOARD_DIGEST_WEEKDAY. A run due during quiet hours starts when they end.
`sms-board digest` starts a run for everyone with something new, now.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from sms_board.broadcast.billing import cap_room
from sms_board.broadcast.campaigns import DIGEST, FAN_OUT_CHUNK, TO_FAN_OUT, pause_campaign
from sms_board.broadcast.digest_pages import SECTION_ORDER, Entry, paginate, with_stop_line
from sms_board.broadcast.fanout import write_outbox
from sms_board.config import WEEKDAYS, Settings
from sms_board.db import is_sqlite
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
    OutboxLane,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from sms_board.segments import smart_encode
from sms_board.sending.delivery import NOT_RECEIVED, in_statuses, reachable
from sms_board.sending.outbox import Body
from sms_board.sending.quiet import held_until

log = logging.getLogger(__name__)

DAILY, WEEKLY, OFF = "daily", "weekly", "off"
FREQUENCIES = (DAILY, WEEKLY, OFF)
MANUAL_PREFIX = "now-"
# MORE looks at this many of a subscriber's latest digests (one per area is what counts).
_MORE_LOOKBACK = 20
# A digest held for quiet hours, or never sent, cannot be read on from.


# ── who is due, and with what ──────────────────────────────────────────────


def _since() -> ColumnElement[datetime]:
    # A subscription with no digest yet counts from when its subscriber joined.
    return func.coalesce(Subscription.last_digest_at, Subscription.consent_at)


def _published() -> ColumnElement[datetime]:
    return func.coalesce(Item.published_at, Item.created_at)


def _due(area_id: int, frequencies: Sequence[str], due_at: datetime | None = None) -> list[ColumnElement[bool]]:
    """Who a run texts; a scheduled run (`due_at`, its slot) only those whose digest was due at the slot.

    Someone who joined after 18:00 waits for the next 18:00, even when the run itself starts
    late (the clock was down, quiet hours, the very first tick on a new board).
    """
    conditions = [
        Subscription.area_id == area_id,
        Subscription.status == SubscriptionStatus.ACTIVE.value,
        Subscriber.digest_frequency.in_(list(frequencies)),
        *reachable(),
    ]
    if due_at is not None:
        conditions.append(_since() < due_at)
    return conditions


def _in_range(low: datetime | None, high: datetime) -> list[ColumnElement[bool]]:
    conditions = [_since() < high]
    if low is not None:
        conditions.append(_since() >= low)
    return conditions


def _subscriptions() -> Select:  # type: ignore[type-arg]
    return select(Subscriber.phone, Subscriber.id).select_from(Subscription).join(
        Subscriber, Subscriber.id == Subscription.subscriber_id
    )


@dataclass(frozen=True)
class Group:
    """Subscribers whose last digest falls in [low, high): they all get `entries`.

    Nobody is sent their own items: the authors among the entries are left out of the group
    (`excluded`), and each gets a group of their own (`author`) without what they wrote.
    """

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


def _entries(
    session: Session, area_id: int, after: ColumnElement[datetime], cutoff: datetime
) -> list[tuple[datetime, int | None, Entry]]:
    rows = session.connection().execute(
        select(Item.id, Item.kind, Item.author_name, Item.body, _published().label("published"), Item.author_id)
        .where(
            Item.area_id == area_id,
            Item.kind.in_(list(SECTION_ORDER)),
            Item.status == ItemStatus.PUBLISHED.value,
            _published() > after,
            _published() <= cutoff,
            (Item.expires_at.is_(None)) | (Item.expires_at > cutoff),
        )
        .order_by(_published(), Item.id)
    ).all()
    return [
        (
            published,
            author_id,
            Entry(item_id, kind, f"{ItemKind(kind).letter}{item_id}",
                  smart_encode(name) if name else None, smart_encode(" ".join(body.split()))),
        )
        for item_id, kind, name, body, published, author_id in rows
    ]


def plan(
    session: Session, settings: Settings, area: Area, frequencies: Sequence[str], cutoff: datetime,
    due_at: datetime | None = None,
) -> list[Group]:
    """The groups of a digest run and their pages; reads only.

    Items published at t1 ≤ t2 ≤ … ≤ tn: a subscriber whose last digest was at s gets
    the items after s, so everyone with s in [t(k), t(k+1)) shares one body. One query
    says which of those ranges anybody falls in; only those are built. Within a range,
    the few subscribers who wrote some of its items get a body of their own without them.
    """
    due = _due(area.id, frequencies, due_at)
    # Only those this run texts: someone with DIGEST OFF (or a dead number) never moves on,
    # and must not make every run read the area's whole history.
    earliest = (
        select(func.min(_since())).select_from(Subscription)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(*due)
        .scalar_subquery()
    )
    found = _entries(session, area.id, earliest, cutoff)
    if not found:
        return []
    times = [published for published, _, _ in found]
    entries = [entry for _, _, entry in found]
    author_of = {entry.id: author for _, author, entry in found if author is not None}
    # bisect_right in SQL: the number of items published at or before each subscriber's last digest.
    start = case(*[(_since() < published, index) for index, published in enumerate(times)])
    starts = session.connection().scalars(
        select(start).distinct().select_from(Subscription)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(*due, _since() < times[-1])
    )
    groups = []
    for first in sorted(starts):
        shown = sorted(entries[first:], key=lambda e: SECTION_ORDER[e.kind])
        low, high = (times[first - 1] if first else None), times[first]
        # The authors among this range's subscribers: a handful at most, found in one query.
        writers = {author_of[e.id] for e in shown if e.id in author_of}
        authors = sorted(session.connection().scalars(
            select(Subscription.subscriber_id).select_from(Subscription)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(*due, *_in_range(low, high), Subscription.subscriber_id.in_(writers))
        )) if writers else []
        groups.append(_group(area, settings, cutoff, low, high, shown, excluded=tuple(authors)))
        for author in authors:
            theirs = [e for e in shown if author_of.get(e.id) != author]
            groups.append(_group(area, settings, cutoff, low, high, theirs, author=author))
    return groups


def _group(
    area: Area, settings: Settings, cutoff: datetime, low: datetime | None, high: datetime, entries: list[Entry],
    *, author: int | None = None, excluded: tuple[int, ...] = (),
) -> Group:
    pages = paginate(area.name, entries, settings.digest_segments) if entries else []
    reminder = with_stop_line(pages[0]) if pages else None
    return Group(low=low, high=high, entries=entries, pages=pages, body=Body.of(pages[0]) if pages else None,
                 author=author, excluded=excluded, reminder=Body.of(reminder) if reminder else None,
                 month=_month_start(cutoff, settings.zone))


def count_group(
    session: Session, area: Area, frequencies: Sequence[str], group: Group, due_at: datetime | None = None
) -> int:
    if group.body is None:
        return 0
    query = _subscriptions().where(*_due(area.id, frequencies, due_at), *group.members()).subquery()
    return session.scalar(select(func.count()).select_from(query)) or 0


def _month_start(moment: datetime, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    return datetime(local.year, local.month, 1, tzinfo=zone)


def _stop_line_due(month: datetime) -> ColumnElement[bool]:
    """Subscribers whose digests have not said how to stop since `month` began."""
    return (Subscriber.stop_reminded_at.is_(None)) | (Subscriber.stop_reminded_at < month)


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
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    session.execute(
        insert(Campaign).values(
            kind=DIGEST, status=CampaignStatus.CONFIRMED.value, area_id=area_id, area_ids=[area_id],
            run_key=run_key, urgent=False, channel="sms", created_at=now, confirmed_at=now, not_before=not_before,
        ).on_conflict_do_nothing(index_elements=["kind", "area_id", "run_key"])
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


def _batch(session: Session, campaign_id: int, group: Group, now: datetime, *, reuse: bool) -> int | None:
    """The stored batch for this group's items, reusing the one a stopped run already built."""
    if group.body is None:
        return None
    item_ids = [e.id for e in group.entries]
    if reuse:
        for batch in session.scalars(select(DigestBatch).where(DigestBatch.campaign_id == campaign_id)):
            if batch.item_ids == item_ids:
                return batch.id
    batch = DigestBatch(campaign_id=campaign_id, since=group.low, item_ids=item_ids, pages=group.pages, created_at=now)
    session.add(batch)
    session.flush()
    return batch.id


def _write_chunk(
    session: Session, campaign_id: int, batch_id: int | None, area_id: int, frequencies: Sequence[str],
    group: Group, cutoff: datetime, now: datetime, send_after: datetime | None, chunk: int,
    due_at: datetime | None,
) -> tuple[int, int]:
    """One chunk of a group: outbox rows and last-digest times, in one transaction.

    Returns (rows written, subscriptions moved past the cutoff). No order is needed:
    a subscriber leaves the group's range the moment their row is written. An author whose
    only news is their own gets no text, and moves on all the same.
    """
    if group.body is None or batch_id is None:
        # Only an author's own group has no body: plan() found them due already.
        moved = session.connection().execute(
            update(Subscription).where(Subscription.area_id == area_id, *group.members()).values(last_digest_at=cutoff)
        ).rowcount or 0
        return 0, moved
    recipients = _subscriptions().where(*_due(area_id, frequencies, due_at), *group.members())
    in_batch = select(Outbox.subscriber_id).where(Outbox.campaign_id == campaign_id, Outbox.batch_id == batch_id)

    def write(which: Select, body: Body, limit: int) -> int:  # type: ignore[type-arg]
        return write_outbox(session, which.limit(limit), body, kind=OutboxKind.DIGEST, lane=OutboxLane.BULK,
                            campaign_id=campaign_id, batch_id=batch_id, now=now, send_after=send_after)

    written = 0
    reminder, month = group.reminder, group.month
    if reminder is not None and month is not None:
        # Those not reminded this month get the page that ends with how to stop; the rest, the plain page.
        written = write(recipients.where(_stop_line_due(month)), reminder, chunk)
        recipients = recipients.where(~_stop_line_due(month))
    written += write(recipients, group.body, max(chunk - written, 0))
    if reminder is not None and month is not None:
        # Marked only now: marked earlier, the plain page's query would have picked them again.
        session.connection().execute(
            update(Subscriber)
            .where(Subscriber.id.in_(in_batch.where(Outbox.body == reminder.text)), _stop_line_due(month))
            .values(stop_reminded_at=now)
        )
    moved = session.connection().execute(
        update(Subscription)
        .where(Subscription.area_id == area_id, *group.members(), Subscription.subscriber_id.in_(in_batch))
        .values(last_digest_at=cutoff)
    ).rowcount or 0
    # A new digest is read from its first page: MORE starts again from the newest digest.
    # Only the few who ever used MORE have a place to clear, so this writes little.
    session.connection().execute(
        update(Subscriber)
        .where(Subscriber.id.in_(in_batch), Subscriber.more_batch_id.is_not(None))
        .values(more_batch_id=None, more_page=0)
    )
    return written, moved


def fan_out_digest(
    factory: sessionmaker[Session], settings: Settings, campaign_id: int, now: datetime, *,
    chunk: int = FAN_OUT_CHUNK, max_chunks: int | None = None,
) -> DigestReport:
    """Build a digest run's batches and write its outbox rows; resumes a run that stopped halfway.

    One session, committed after every chunk: a run that dies keeps what it wrote, and
    a small area costs one transaction. `max_chunks` stops early, as a crash would.
    """
    report = DigestReport()
    with factory() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None or campaign.kind != DIGEST or campaign.status not in TO_FAN_OUT:
            return report
        area = session.get(Area, campaign.area_id)
        assert area is not None and campaign.run_key is not None
        resumed = campaign.status == CampaignStatus.FANNING_OUT.value
        if not resumed:
            campaign.status = CampaignStatus.FANNING_OUT.value
            campaign.started_at = now
        # The cutoff is fixed when the run starts, so a resumed run shows the same items.
        cutoff = campaign.started_at or now
        frequencies = frequencies_for(campaign.run_key, settings)
        # A scheduled run is for those whose digest was due at its slot (`not_before`).
        due_at = campaign.not_before
        groups = plan(session, settings, area, frequencies, cutoff, due_at)
        batches = [_batch(session, campaign_id, group, now, reuse=resumed) for group in groups]
        send_after = held_until(now, settings, area.timezone)
        report.runs, report.held_until = 1, send_after
        chunks = 0
        for group, batch_id in zip(groups, batches, strict=True):
            segments = group.body.segments if group.body is not None else 0
            room = cap_room(session, settings, now)
            if room is not None and segments:
                needed = count_group(session, area, frequencies, group, due_at) * segments
                if needed > room:
                    pause_campaign(session, settings, campaign, now, needed=needed, room=room)
                    report.paused += 1
                    break
            while True:
                if max_chunks is not None and chunks >= max_chunks:
                    session.commit()
                    return report
                written, moved = _write_chunk(session, campaign_id, batch_id, area.id, frequencies, group, cutoff,
                                              now, send_after, chunk, due_at)
                chunks += 1
                report.texts += written
                report.segments += written * segments
                # The range only ever shrinks (newcomers' last digest is after the cutoff), so a
                # short chunk was the last one, even when another process wrote some of it.
                if moved < chunk:
                    break
                session.commit()
        report.areas[area.slug] = report.texts
        texts, segments_total = session.execute(
            select(func.count(), func.coalesce(func.sum(Outbox.segments), 0)).where(Outbox.campaign_id == campaign_id)
        ).one()
        if campaign.status == CampaignStatus.FANNING_OUT.value:
            # Nothing new for anyone: the run is over as soon as it is planned.
            campaign.status = (CampaignStatus.SENDING if texts else CampaignStatus.DONE).value
            campaign.finished_at = None if texts else now
        campaign.audience = texts
        campaign.segments = segments_total
        campaign.estimated_cost = round(segments_total * settings.price_per_segment, 2)
        session.commit()
    if report.texts:
        log.info("digest %s: %s texts", campaign_id, report.texts)
    return report


def _resume_all(factory: sessionmaker[Session], settings: Settings, now: datetime) -> DigestReport:
    with factory() as session:
        due = list(session.scalars(
            select(Campaign.id).where(Campaign.kind == DIGEST, Campaign.status.in_(TO_FAN_OUT)).order_by(Campaign.id)
        ))
    total = DigestReport()
    for campaign_id in due:
        total.add(fan_out_digest(factory, settings, campaign_id, now))
    return total


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
            for area_id, (key, slot) in wanted.items():
                if (area_id, key) not in started:
                    start_run(session, area_id, key, now, not_before=slot)
    report = _resume_all(factory, settings, now)
    return {"digest_runs": report.runs, "digest_texts": report.texts, "digests_paused": report.paused}


def digest_now(
    factory: sessionmaker[Session], settings: Settings, now: datetime, area_slug: str | None = None
) -> DigestReport:
    """`sms-board digest`: a run for everyone with something new, whatever their schedule."""
    key = manual_run_key(now)
    with factory.begin() as session:
        query = select(Area.id)
        if area_slug is not None:
            query = query.where(Area.slug == area_slug)
        for area_id in session.scalars(query):
            start_run(session, area_id, key, now)
        runs = list(session.scalars(select(Campaign.id).where(Campaign.kind == DIGEST, Campaign.run_key == key)))
    total = DigestReport()
    for campaign_id in runs:
        total.add(fan_out_digest(factory, settings, campaign_id, now))
    return total


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
    results = []
    frequencies = (DAILY, WEEKLY)
    for area in session.scalars(query):
        recipients = segments = 0
        for group in plan(session, settings, area, frequencies, now):
            if group.body is None:
                continue
            count = count_group(session, area, frequencies, group)
            recipients += count
            segments += count * group.body.segments
        results.append(DryRun(area.slug, area.name, recipients, segments, held_until(now, settings, area.timezone)))
    return results


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
