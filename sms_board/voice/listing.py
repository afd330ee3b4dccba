"""Which posts a call reads, in order: a digest call's batch, or the latest of the areas a caller may hear.

A digest call is placed to its subscriber, so it reads their batch, private areas' posts too. A call
someone places to the board reads public areas only: caller ID can be spoofed, and a private area's
news is never read to whoever claims a member's number. A post taken down since (hidden, closed,
rejected) is not read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    if batch is None:
        return Listing((), ())
    return digest_listings(session, [batch])[batch.id]


def digest_listings(session: Session, batches: Sequence[DigestBatch]) -> dict[int, Listing]:
    """`digest_listing` for many batches at once (by batch id): a few statements whatever their number."""
    ids = list(dict.fromkeys(item_id for batch in batches for item_id in batch.item_ids or ()))
    found = spoken_items(session, ids)
    # A batch none of whose posts is still up is about its own area: those areas, in one statement.
    missing = {batch.area_id for batch in batches if batch.area_id is not None
               and not any(item_id in found for item_id in batch.item_ids or ())}
    areas = {area.id: area for area in session.scalars(select(Area).where(Area.id.in_(missing)))} if missing else {}
    return {batch.id: listing_of(batch.item_ids or (), found, areas.get(batch.area_id) if batch.area_id else None)
            for batch in batches}


def spoken_items(session: Session, item_ids: Sequence[int]) -> dict[int, Item]:
    """The posts of `item_ids` a call may read (still up, of a kind read aloud), with their areas and authors."""
    if not item_ids:
        return {}
    return {item.id: item for item in session.scalars(
        select(Item).where(Item.id.in_(list(item_ids)), Item.status == ItemStatus.PUBLISHED,
                           Item.kind.in_(SPOKEN_KINDS))
        .options(selectinload(Item.area), selectinload(Item.author)))}


def listing_of(item_ids: Sequence[int], found: Mapping[int, Item], area: Area | None) -> Listing:
    """A digest call's listing from its batch's ids and the posts found up (`spoken_items`): in the
    batch's order; with none, about the batch's own area."""
    items = tuple(found[i] for i in item_ids if i in found and found[i].status == ItemStatus.PUBLISHED
                  and found[i].kind in SPOKEN_KINDS)
    return Listing(items, _areas_of(items) or ((area,) if area is not None else ()))


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
