"""The overview: subscriptions over time, texts and calls per day, this month's spend, and the ledger's weeks.

Each figure is one or a few grouped statements (`GROUP BY` the day), never a row per
subscriber or per text in Python. Days are UTC days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.orm import Session

from sms_board.broadcast.billing import money, segments_this_month
from sms_board.models import (
    Call,
    Exchange,
    HearsBy,
    Item,
    Match,
    Outbox,
    OutboxStatus,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from sms_board.plumbing.config import Settings
from sms_board.sending.calls import MACHINE_ANSWERS
from sms_board.text.phrases import phrase

DAYS = 30
WEEKS = 12

S = OutboxStatus
# What the texts chart counts: every text that left the queue; those the network confirmed;
# and those that never reached a phone.
LEFT = (S.SENT, S.DELIVERED, S.UNDELIVERED, S.FAILED, S.UNKNOWN)
DELIVERED = (S.DELIVERED,)
FAILED = (S.FAILED, S.UNDELIVERED)


@dataclass(frozen=True)
class Series:
    label: str
    values: list[int]


@dataclass(frozen=True)
class Chart:
    title: str
    labels: list[str]  # one per point (a day, a week)
    series: list[Series]
    unit: str = ""


@dataclass(frozen=True)
class Spend:
    segments: int
    cost: str
    cap: int | None
    cap_cost: str | None

    @property
    def share(self) -> float | None:
        return None if not self.cap else min(1.0, self.segments / self.cap)


@dataclass(frozen=True)
class Overview:
    subscriptions: Chart
    texts: Chart
    ledger: Chart
    spend: Spend
    active: int
    calls: Chart | None = None  # shown when voice is on, or calls were placed in the chart's days
    voice_waiting: int = 0  # with voice off: residents who hear the board by call, whose digests wait


def _day(value: Any) -> date:
    """A `date()` from SQLite (a string) or PostgreSQL (a date)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _days(today: date, count: int) -> list[date]:
    return [today - timedelta(days=count - 1 - n) for n in range(count)]


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _in_areas(column: Any, area_ids: Sequence[int] | None) -> ColumnElement[bool]:
    return true() if area_ids is None else column.in_(list(area_ids))


def subscriptions_by_day(session: Session, area_ids: Sequence[int] | None, today: date, days: int = DAYS) -> Chart:
    """Active subscriptions at the end of each day, from join and leave times (three statements)."""
    start = _start_of(today - timedelta(days=days - 1))
    where = _in_areas(Subscription.area_id, area_ids)
    before = session.scalar(select(func.count()).select_from(Subscription).where(
        where, Subscription.consent_at < start,
        (Subscription.ended_at.is_(None)) | (Subscription.ended_at >= start),
    )) or 0
    joins = {_day(d): n for d, n in session.execute(
        select(func.date(Subscription.consent_at), func.count()).where(where, Subscription.consent_at >= start)
        .group_by(func.date(Subscription.consent_at))
    )}
    ends = {_day(d): n for d, n in session.execute(
        select(func.date(Subscription.ended_at), func.count()).where(where, Subscription.ended_at >= start)
        .group_by(func.date(Subscription.ended_at))
    )}
    running, values = before, []
    for day in _days(today, days):
        running += joins.get(day, 0) - ends.get(day, 0)
        values.append(running)
    return Chart(phrase("Active subscriptions"), [d.isoformat() for d in _days(today, days)],
                 [Series(phrase("subscriptions"), values)])


def texts_by_day(session: Session, area_ids: Sequence[int] | None, today: date, days: int = DAYS) -> Chart:
    """Texts per day by what became of them; an organiser's are the texts to members of their areas."""
    start = _start_of(today - timedelta(days=days - 1))
    query = (
        select(func.date(Outbox.created_at), Outbox.status, func.count())
        .where(Outbox.created_at >= start)
        .group_by(func.date(Outbox.created_at), Outbox.status)
    )
    if area_ids is not None:
        members = select(Subscription.subscriber_id).where(Subscription.area_id.in_(list(area_ids)))
        query = query.where(Outbox.subscriber_id.in_(members))
    counts: dict[tuple[date, str], int] = {}
    for day, status, n in session.execute(query):
        counts[(_day(day), status)] = n
    series = []
    for label, group in ((phrase("sent"), LEFT), (phrase("delivered"), DELIVERED),
                         (phrase("failed or undelivered"), FAILED)):
        series.append(Series(label, [sum(counts.get((day, s), 0) for s in group) for day in _days(today, days)]))
    return Chart(phrase("Texts per day"), [d.isoformat() for d in _days(today, days)], series)


def calls_by_day(session: Session, area_ids: Sequence[int] | None, today: date, days: int = DAYS) -> Chart | None:
    """Calls placed per day, those a person answered, those a machine did; None when there were none."""
    start = _start_of(today - timedelta(days=days - 1))
    machine = Call.answered_by.in_(MACHINE_ANSWERS)
    answered = and_(Call.status == "completed", or_(Call.answered_by.is_(None), ~machine))
    query = (
        select(func.date(Call.placed_at), func.count(), func.sum(case((answered, 1), else_=0)),
               func.sum(case((machine, 1), else_=0)))
        .where(Call.placed_at >= start)
        .group_by(func.date(Call.placed_at))
    )
    if area_ids is not None:
        members = select(Subscription.subscriber_id).where(Subscription.area_id.in_(list(area_ids)))
        query = query.join(Outbox, Outbox.id == Call.outbox_id).where(Outbox.subscriber_id.in_(members))
    counts = {_day(day): (placed, int(human or 0), int(machines or 0)) for day, placed, human, machines in
              session.execute(query)}
    if not counts:
        return None
    series = [Series(label, [counts.get(day, (0, 0, 0))[n] for day in _days(today, days)])
              for n, label in enumerate((phrase("placed"), phrase("answered"), phrase("by a machine")))]
    return Chart(phrase("Calls per day"), [d.isoformat() for d in _days(today, days)], series)


def ledger_by_week(session: Session, area_ids: Sequence[int] | None, today: date, weeks: int = WEEKS) -> Chart:
    """Connections made and exchanges completed per week (weeks start on Monday)."""
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=weeks - 1)
    start = _start_of(first)
    made = session.execute(
        select(func.date(Match.created_at), func.count()).join(Item, Item.id == Match.item_id)
        .where(Match.created_at >= start, _in_areas(Item.area_id, area_ids))
        .group_by(func.date(Match.created_at))
    ).all()
    done = session.execute(
        select(func.date(Exchange.created_at), func.count())
        .where(Exchange.created_at >= start, _in_areas(Exchange.area_id, area_ids))
        .group_by(func.date(Exchange.created_at))
    ).all()

    def by_week(rows: Sequence[Any]) -> list[int]:
        values = [0] * weeks
        for day, n in rows:
            values[(_day(day) - first).days // 7] += n
        return values

    labels = [(first + timedelta(weeks=n)).isoformat() for n in range(weeks)]
    return Chart(phrase("Connections and exchanges per week"), labels,
                 [Series(phrase("connections made"), by_week(made)), Series(phrase("exchanges completed"), by_week(done))])


def spend(session: Session, settings: Settings, now: datetime) -> Spend:
    """The whole board's segments this month (the cap is the board's, not an area's)."""
    segments = segments_this_month(session, settings, now)
    cap = settings.monthly_segment_cap
    return Spend(
        segments, money(segments * settings.price_per_segment, settings), cap,
        money(cap * settings.price_per_segment, settings) if cap else None,
    )


def overview(session: Session, settings: Settings, area_ids: Sequence[int] | None, now: datetime) -> Overview:
    today = now.astimezone(UTC).date()
    subscriptions = subscriptions_by_day(session, area_ids, today)
    return Overview(
        subscriptions=subscriptions,
        texts=texts_by_day(session, area_ids, today),
        ledger=ledger_by_week(session, area_ids, today),
        spend=spend(session, settings, now),
        active=subscriptions.series[0].values[-1] if subscriptions.series[0].values else 0,
        calls=_calls_chart(session, settings, area_ids, today),
        voice_waiting=0 if settings.voice.enabled else _hear_by_call(session, area_ids),
    )


def _hear_by_call(session: Session, area_ids: Sequence[int] | None) -> int:
    """Subscribers still reachable who hear the board by call (in these areas)."""
    return session.scalar(
        select(func.count(func.distinct(Subscriber.id))).select_from(Subscriber)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscriber.hears_by == HearsBy.VOICE, Subscriber.opted_out_at.is_(None),
               Subscription.status == SubscriptionStatus.ACTIVE, _in_areas(Subscription.area_id, area_ids))
    ) or 0


def _calls_chart(session: Session, settings: Settings, area_ids: Sequence[int] | None, today: date) -> Chart | None:
    chart = calls_by_day(session, area_ids, today)
    if chart is None and settings.voice.enabled:
        labels = [d.isoformat() for d in _days(today, DAYS)]
        return Chart(phrase("Calls per day"), labels, [Series(phrase(word), [0] * DAYS)
                                                       for word in ("placed", "answered", "by a machine")])
    return chart
