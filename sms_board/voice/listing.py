"""Which posts a call reads, in order: a digest call's batch, or the latest of the areas a caller may hear.

A digest call is placed to its subscriber, so it reads their batch, private areas' posts too. A call
someone places to the board reads public areas only: caller ID can be spoofed, and a private area's
news is never read to whoever claims a member's number. A post taken down since (hidden, closed,
rejected) is not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from sms_board.community.areas import NOTICES_FOR
from sms_board.community.subscriptions import active_areas
from sms_board.models import (
    Area,
    DigestBatch,
    Item,
    ItemKind,
    ItemStatus,
    Outbox,
    OutboxKind,
    OutboxStatus,
    Subscriber,
)

SPOKEN_KINDS = (ItemKind.NOTICE, ItemKind.REQUEST, ItemKind.OFFER)
# The most posts a caller is offered from their areas: the newest first.
CALLER_ITEMS = 20


@dataclass(frozen=True)
class Listing:
    """The posts of one call, in the order they are read, and the areas it is about."""

    items: tuple[Item, ...]
    areas: tuple[Area, ...]

    def index_of(self, item_id: int | None) -> int | None:
        for index, item in enumerate(self.items):
            if item.id == item_id:
                return index
        return None


def call_row(session: Session, outbox_id: int) -> Outbox | None:
    """A digest call's outbox row (None for any other row: a text's id is no call)."""
    row = session.get(Outbox, outbox_id)
    return row if row is not None and row.kind == OutboxKind.CALL else None


def latest_call_to(session: Session, phone: str) -> Outbox | None:
    """The newest digest call to `phone` not cancelled: what `call-script` and the simulator's landline answer."""
    return session.scalar(select(Outbox).where(
        Outbox.to_number == phone, Outbox.kind == OutboxKind.CALL, Outbox.status != OutboxStatus.CANCELLED,
    ).order_by(Outbox.id.desc()).limit(1))


def digest_listing(session: Session, row: Outbox) -> Listing:
    """What a digest call reads: its batch's posts, in the batch's order, that are still up."""
    batch = session.get(DigestBatch, row.batch_id) if row.batch_id is not None else None
    ids = list(batch.item_ids) if batch is not None else []
    found = {item.id: item for item in session.scalars(
        select(Item).where(Item.id.in_(ids), Item.status == ItemStatus.PUBLISHED, Item.kind.in_(SPOKEN_KINDS))
        .options(selectinload(Item.area), selectinload(Item.author)))} if ids else {}
    items = tuple(found[i] for i in ids if i in found)
    areas = _areas_of(items)
    if not areas and batch is not None and batch.area_id is not None:
        area = session.get(Area, batch.area_id)
        areas = (area,) if area is not None else ()
    return Listing(items, areas)


def public_areas_of(session: Session, person: Subscriber) -> list[Area]:
    """The public areas a caller is a member of: what their call may read."""
    return [area for area in active_areas(session, person) if not area.private]


def callable_areas(session: Session) -> list[Area]:
    """The areas anyone may hear by ringing the board: every public one, by name."""
    return list(session.scalars(select(Area).where(Area.private.is_(False)).order_by(Area.name, Area.id)))


def caller_listing(session: Session, areas: Sequence[Area], now: datetime) -> Listing:
    """The latest notices (of the last 30 days) and open requests and offers of public `areas`, newest first."""
    public = [area for area in areas if not area.private]
    if not public:
        return Listing((), ())
    items = session.scalars(
        select(Item).where(Item.area_id.in_([a.id for a in public]), Item.status == ItemStatus.PUBLISHED,
                           Item.kind.in_(SPOKEN_KINDS))
        .order_by(Item.created_at.desc(), Item.id.desc()).limit(CALLER_ITEMS * 2)
        .options(selectinload(Item.area), selectinload(Item.author))
    )
    recent = now - NOTICES_FOR
    kept = [item for item in items if item.kind != ItemKind.NOTICE or item.created_at >= recent]
    return Listing(tuple(kept[:CALLER_ITEMS]), tuple(public))


def _areas_of(items: Sequence[Item]) -> tuple[Area, ...]:
    seen: dict[int, Area] = {}
    for item in items:
        seen.setdefault(item.area_id, item.area)
    return tuple(seen.values())
