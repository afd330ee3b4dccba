"""Who is subscribed to an organiser's areas: masked numbers, names, when they joined, their state.

Two statements a page (the rows and the count), whatever the number of subscribers.
Searching is by the last digits of a number, which is what a resident can tell an
organiser on the phone without giving the whole of it.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from sms_board.models import Area, Subscriber, Subscription, SubscriptionStatus
from sms_board.phone import mask

PAGE_SIZE = 50
MAX_DIGITS = 15


class State(enum.StrEnum):
    ACTIVE = "active"
    LEFT = "left"
    OPTED_OUT = "opted out"
    UNDELIVERABLE = "undeliverable"


_STATE_WHERE: dict[State, ColumnElement[bool]] = {
    State.ACTIVE: and_(Subscription.status == SubscriptionStatus.ACTIVE.value, Subscriber.opted_out_at.is_(None),
                       Subscriber.undeliverable_at.is_(None)),
    State.LEFT: and_(Subscription.status != SubscriptionStatus.ACTIVE.value, Subscriber.opted_out_at.is_(None)),
    State.OPTED_OUT: Subscriber.opted_out_at.is_not(None),
    State.UNDELIVERABLE: and_(Subscriber.undeliverable_at.is_not(None), Subscriber.opted_out_at.is_(None)),
}


def state_of(status: str, opted_out_at: datetime | None, undeliverable_at: datetime | None) -> State:
    if opted_out_at is not None:
        return State.OPTED_OUT
    if status != SubscriptionStatus.ACTIVE.value:
        return State.LEFT
    if undeliverable_at is not None:
        return State.UNDELIVERABLE
    return State.ACTIVE


@dataclass(frozen=True)
class SubscriberRow:
    number: str  # masked
    name: str | None
    area: str
    joined: datetime
    digest: str
    state: State


@dataclass(frozen=True)
class SubscriberPage:
    rows: list[SubscriberRow]
    total: int
    page: int
    pages: int


def search_digits(raw: str | None) -> str:
    """The digits to search for at the end of numbers ('' for none)."""
    return "".join(ch for ch in (raw or "") if ch.isdigit())[-MAX_DIGITS:]


def subscriber_page(
    session: Session, area_ids: Sequence[int], *, digits: str = "", state: State | None = None, page: int = 1,
) -> SubscriberPage:
    where = [Subscription.area_id.in_(list(area_ids))]
    if digits:
        where.append(Subscriber.phone.like(f"%{digits}"))
    if state is not None:
        where.append(_STATE_WHERE[state])
    base = select(Subscription).join(Subscriber, Subscriber.id == Subscription.subscriber_id).where(*where)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = session.execute(
        select(Subscriber.phone, Subscriber.name, Area.name, Subscription.consent_at, Subscriber.digest_frequency,
               Subscription.status, Subscriber.opted_out_at, Subscriber.undeliverable_at)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .join(Area, Area.id == Subscription.area_id)
        .where(*where)
        .order_by(Subscription.consent_at.desc(), Subscription.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return SubscriberPage(
        [SubscriberRow(mask(phone), name, area, joined, digest, state_of(status, opted, undeliverable))
         for phone, name, area, joined, digest, status, opted, undeliverable in rows],
        total, page, pages,
    )
