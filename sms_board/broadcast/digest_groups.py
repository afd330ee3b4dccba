"""Who a digest run texts and with what: the run's groups and their pages; reads only.

A digest campaign is one (area, run). Its audience is split into groups that
would receive the same items: a subscriber gets the items published after
their `last_digest_at`, so everyone whose last digest falls between the same
two item publication times shares one body. Each group's pages are built once
(`digest_pages`), and nobody is sent their own items: an author gets a group of
their own without what they wrote. The campaigns due together are planned
together, in a few queries whatever the number of areas. Storing the groups is
`digest_batches`; writing the texts, `digest_fanout`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session

from sms_board.broadcast.digest_fanout import digest_language, digest_recipients, since
from sms_board.broadcast.digest_pages import SECTION_ORDER, Entry, paginate, with_stop_line
from sms_board.models import Area, HearsBy, Item, ItemStatus, Subscriber, Subscription
from sms_board.plumbing.config import Settings
from sms_board.plumbing.db import among
from sms_board.sending.outbox import Body, prepare
from sms_board.text.segments import smart_encode

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
    # On a board that speaks several languages, the one its pages are in (`board`: the board's languages).
    language: str | None = None
    board: tuple[str, ...] = ()

    def members(self) -> list[ColumnElement[bool]]:
        """Conditions on `Subscription` for who is in this group (besides being due)."""
        conditions = _in_range(self.low, self.high)
        if self.language is not None:
            conditions.append(digest_language(self.board) == self.language)
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
            Item.status == ItemStatus.PUBLISHED,
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
        entry = Entry(item_id, kind, f"{kind.letter}{item_id}",
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
    month = month_start(cutoff, settings.zone)
    languages: tuple[str | None, ...] = settings.languages if len(settings.languages) > 1 else (None,)
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
            for language in languages:
                groups.append(_group(area, settings, month, low, high, shown, language, excluded=tuple(authors)))
                for author in authors:
                    theirs = [e for e in shown if author_of.get(e.id) != author]
                    groups.append(_group(area, settings, month, low, high, theirs, language, author=author))
    return groups


def _group(
    area: Area, settings: Settings, month: datetime, low: datetime | None, high: datetime, entries: list[Entry],
    language: str | None, *, author: int | None = None, excluded: tuple[int, ...] = (),
) -> Group:
    written_in = language or settings.first_language
    pages = paginate(area.name, entries, settings.digest_segments, written_in) if entries else []
    reminder = with_stop_line(pages[0], written_in) if pages else None
    return Group(area_id=area.id, low=low, high=high, entries=entries, pages=pages,
                 body=prepare(pages[0]) if pages else None, author=author, excluded=excluded,
                 reminder=prepare(reminder) if reminder else None, month=month, language=language,
                 board=settings.languages)


def count_group(
    session: Session, frequencies: Sequence[str], group: Group, due_at: datetime | None = None,
    hears_by: HearsBy = HearsBy.SMS,
) -> int:
    """How many of the group's subscribers who hear the board `hears_by` it would reach."""
    if group.body is None:
        return 0
    query = _reached(session, frequencies, group, due_at, hears_by).subquery()
    return session.scalar(select(func.count()).select_from(query)) or 0


def reached_ids(session: Session, frequencies: Sequence[str], group: Group, hears_by: HearsBy) -> set[int]:
    """The ids of the group's subscribers who hear the board `hears_by` it would reach."""
    if group.body is None:
        return set()
    return {row.id for row in session.execute(_reached(session, frequencies, group, None, hears_by))}


def _reached(session: Session, frequencies: Sequence[str], group: Group, due_at: datetime | None,
             hears_by: HearsBy) -> Select:  # type: ignore[type-arg]
    return _subscriptions().where(*_due(session, [group.area_id], frequencies, due_at), *group.members(),
                                  Subscriber.hears_by == hears_by)


def month_start(moment: datetime, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    return datetime(local.year, local.month, 1, tzinfo=zone)
