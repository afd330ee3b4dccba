"""MORE: the next page of a subscriber's latest paged digests, read from the stored batches.

A digest that needed more pages than the first keeps them on its `DigestBatch`; MORE
walks a subscriber's place (`more_batch_id`, `more_page`) through each area's latest
one, newest first. A digest held for quiet hours, or never sent, cannot be read on from.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_board.models import Campaign, DigestBatch, Outbox, OutboxKind, Subscriber
from sms_board.sending.delivery import NOT_RECEIVED, in_statuses

# MORE looks at this many of a subscriber's latest digests (one per area is what counts).
_MORE_LOOKBACK = 20


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
            Outbox.kind == OutboxKind.DIGEST,
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
