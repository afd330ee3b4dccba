"""Ageing help requests: a request nobody has touched for a while is asked about once, then expires.

After SMS_BOARD_REQUEST_REMIND_DAYS without activity the requester is asked
whether it is still needed (`OK R7` keeps it open, `CLOSE R7` closes it); after
SMS_BOARD_REQUEST_EXPIRE_DAYS it expires and any connection on it ends.
The clock runs this every minute (`sms_board.clock.jobs.requests`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_board.community.exchange import close_item, record
from sms_board.community.item_lifecycle import VISIBLE
from sms_board.community.languages import enqueue_in_their_language
from sms_board.models import Item, ItemEventAction, ItemKind, ItemStatus, OutboxKind
from sms_board.plumbing.config import Settings


def quiet_requests(session: Session, since: datetime, *, reminded: bool | None = None) -> list[Item]:
    """Open requests with no activity since `since` (optionally: reminded already, or not yet)."""
    activity = func.coalesce(Item.last_activity_at, Item.created_at)
    query = select(Item).where(
        Item.kind == ItemKind.REQUEST, Item.status == ItemStatus.PUBLISHED, activity < since,
    ).order_by(Item.id)
    if reminded is not None:
        query = query.where(Item.reminded_at.is_not(None) if reminded else Item.reminded_at.is_(None))
    return list(session.scalars(query))


def age_quiet_requests(session: Session, settings: Settings, now: datetime) -> dict[str, int]:
    """Ask once whether a quiet request is still needed; expire it when it stays quiet."""
    counts = {"reminded": 0, "expired": 0}
    expire_before = now - timedelta(days=settings.request_expire_days)
    remind_before = now - timedelta(days=settings.request_remind_days)
    for item in quiet_requests(session, expire_before):
        ended = close_item(session, item, ItemStatus.EXPIRED, now, None, ItemEventAction.EXPIRED, allowed_from=VISIBLE)
        if ended is None:  # closed by its author a moment ago
            continue
        for _match, person in ended:
            enqueue_in_their_language(session, settings, person, "connection_ended", OutboxKind.NOTIFY,
                                      now=now, about=item, ref=item.ref)
        if item.author is not None:
            enqueue_in_their_language(session, settings, item.author, "request_expired", OutboxKind.NOTIFY,
                                      now=now, about=item, item=item, days=settings.request_expire_days)
        counts["expired"] += 1
    for item in quiet_requests(session, remind_before, reminded=False):
        item.reminded_at = now
        record(session, item, ItemEventAction.REMINDED, now)
        if item.author is not None:
            enqueue_in_their_language(session, settings, item.author, "request_reminder", OutboxKind.NOTIFY,
                                      now=now, about=item, item=item)
        counts["reminded"] += 1
    return counts
