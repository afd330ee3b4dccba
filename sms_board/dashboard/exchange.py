"""Requests, offers, connections and the ledger, for the areas an organiser looks after.

Open requests come oldest-unanswered first: the quietest voices are the ones a person
should notice. The month's "neighbourhood memory" is the ledger's own reading
(`community.exchange`): new connections, and the people who both gave and received.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from sms_board.community.exchange import ANONYMOUS, LEDGER_COLUMNS, ledger_rows
from sms_board.community.report_figures import Period, Scope, new_connections
from sms_board.models import (
    Area,
    Exchange,
    Item,
    ItemKind,
    ItemStatus,
    Match,
    MatchStatus,
    Response,
    ResponseStatus,
    Subscriber,
)
from sms_board.plumbing.spreadsheet import csv_text

LIST_LIMIT = 100


@dataclass(frozen=True)
class OpenItem:
    ref: str
    body: str
    author: str
    area: str
    created_at: datetime
    offers: int
    connections: int


@dataclass(frozen=True)
class Connection:
    ref: str
    body: str
    owner: str
    helper: str
    area: str
    since: datetime


@dataclass(frozen=True)
class Completed:
    ref: str | None
    description: str
    giver: str
    receiver: str
    area: str
    hours: float
    at: datetime


@dataclass(frozen=True)
class Memory:
    exchanges: int
    hours: float
    new_connections: int
    both: list[str]  # names of people who both gave and received


@dataclass(frozen=True)
class ExchangePage:
    requests: list[OpenItem]
    offers: list[OpenItem]
    connections: list[Connection]
    completed: list[Completed]
    memory: Memory


def _ref(kind: ItemKind, item_id: int) -> str:
    return f"{kind.letter}{item_id}"


def open_items(session: Session, area_ids: Sequence[int], kind: ItemKind) -> list[OpenItem]:
    """Published requests (or offers), unanswered ones first, then oldest first."""
    offers = (select(func.count()).select_from(Response)
              .where(Response.item_id == Item.id, Response.status == ResponseStatus.PENDING)
              .correlate(Item).scalar_subquery())
    connections = (select(func.count()).select_from(Match)
                   .where(Match.item_id == Item.id, Match.status == MatchStatus.CONNECTED)
                   .correlate(Item).scalar_subquery())
    answered = case((offers + connections > 0, 1), else_=0)
    rows = session.execute(
        select(Item.id, Item.kind, Item.body, Item.author_name, Area.name, Item.created_at, offers, connections)
        .join(Area, Area.id == Item.area_id)
        .where(Item.area_id.in_(list(area_ids)), Item.kind == kind, Item.status == ItemStatus.PUBLISHED)
        .order_by(answered, Item.created_at, Item.id)
        .limit(LIST_LIMIT)
    ).all()
    return [OpenItem(_ref(k, i), body, author or ANONYMOUS, area, at, n_offers, n_connections)
            for i, k, body, author, area, at, n_offers, n_connections in rows]


def connections_in_progress(session: Session, area_ids: Sequence[int]) -> list[Connection]:
    owner, helper = aliased(Subscriber), aliased(Subscriber)
    rows = session.execute(
        select(Item.id, Item.kind, Item.body, owner.name, helper.name, Area.name, Match.created_at)
        .join(Item, Item.id == Match.item_id).join(Area, Area.id == Item.area_id)
        .outerjoin(owner, owner.id == Match.owner_id).outerjoin(helper, helper.id == Match.helper_id)
        .where(Item.area_id.in_(list(area_ids)), Match.status == MatchStatus.CONNECTED)
        .order_by(Match.created_at, Match.id).limit(LIST_LIMIT)
    ).all()
    return [Connection(_ref(k, i), body, o or ANONYMOUS, h or ANONYMOUS, area, since)
            for i, k, body, o, h, area, since in rows]


def completed_since(session: Session, area_ids: Sequence[int], since: datetime) -> tuple[list[Completed], Memory]:
    giver, receiver = aliased(Subscriber), aliased(Subscriber)
    rows = session.execute(
        select(Exchange.item_id, Exchange.description, giver.name, receiver.name, Area.name, Exchange.hours,
               Exchange.created_at, Exchange.giver_id, Exchange.receiver_id)
        .join(Area, Area.id == Exchange.area_id)
        .outerjoin(giver, giver.id == Exchange.giver_id).outerjoin(receiver, receiver.id == Exchange.receiver_id)
        .where(Exchange.area_id.in_(list(area_ids)), Exchange.created_at >= since)
        .order_by(Exchange.created_at.desc(), Exchange.id.desc())
    ).all()
    completed = [Completed(f"#{item_id}" if item_id else None, text, g or ANONYMOUS, r or ANONYMOUS, area, hours, at)
                 for item_id, text, g, r, area, hours, at, _, _ in rows]
    names: dict[int, str] = {}
    for *_, g, r, _area, _hours, _at, giver_id, receiver_id in rows:
        if giver_id:
            names[giver_id] = g or ANONYMOUS
        if receiver_id:
            names[receiver_id] = r or ANONYMOUS
    both_ids = {row.giver_id for row in rows if row.giver_id} & {row.receiver_id for row in rows if row.receiver_id}
    fresh = new_connections_in(session, area_ids, since)
    memory = Memory(len(rows), round(sum(row.hours for row in rows), 2), fresh, sorted(names[i] for i in both_ids))
    return completed, memory


def new_connections_in(session: Session, area_ids: Sequence[int], since: datetime) -> int:
    """The report's `new_connections` (community/report_figures.py) for several areas at once, since `since`."""
    return new_connections(session, Scope(tuple(area_ids)), Period(since, None))


def exchange_page(session: Session, area_ids: Sequence[int], since: datetime) -> ExchangePage:
    completed, memory = completed_since(session, area_ids, since)
    return ExchangePage(
        requests=open_items(session, area_ids, ItemKind.REQUEST),
        offers=open_items(session, area_ids, ItemKind.OFFER),
        connections=connections_in_progress(session, area_ids),
        completed=completed,
        memory=memory,
    )


def ledger_csv(session: Session, areas: Sequence[Area], since: datetime | None) -> str:
    """The ledger rows of `sms-board ledger --csv` for these areas (names, never numbers)."""
    rows = [row for area in areas for row in ledger_rows(session, area, since).rows]
    return csv_text(LEDGER_COLUMNS, rows)
