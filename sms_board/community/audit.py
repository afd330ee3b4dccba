"""The audit log: what organisers and administrators did, who did it, when, and to which item.

Every moderation decision, broadcast, introduction, unlink, invite, join decision,
import and export writes one row, whichever way it came (SMS, CLI, the web), and so do
the administration actions (an area added or changed, an organiser appointed or removed, on the
dashboard or the command line, and `sms-board admin add`).
Rows are only ever added. The actor is named as they read when it happened (a NAME
and a masked number, "operator" for the command line, "the board" for what reports
did by themselves); FORGET turns a forgotten organiser's name into "forgotten".

No full phone number is kept in the log: a number in a detail (a broadcast's words, a
reason, a file name) is masked as the row is written, and again as it is read, for rows
written before that (migration 0012 masked those it found).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sms_board.community.people import acting_helper, actor_label
from sms_board.models import Area, AuditAction, AuditEntry, Item, Subscriber
from sms_board.text.phone import mask, mask_numbers

OPERATOR = "operator"
FORGOTTEN = "forgotten"


def record(
    session: Session, action: AuditAction, now: datetime, *, actor: Subscriber | None = None, channel: str = "sms",
    area_id: int | None = None, item: Item | None = None, label: str | None = None, **detail: Any,
) -> AuditEntry:
    """Add one row; `label` names an actor who is not a subscriber (the CLI's operator)."""
    entry = AuditEntry(
        created_at=now, actor_id=actor.id if actor else None, actor=(label or actor_label(actor))[:60],
        channel=channel, action=action, area_id=area_id if area_id is not None else (item.area_id if item else None),
        item_id=item.id if item else None,
        detail=masked_detail({**detail, "by_helper": helper} if (helper := acting_helper(session)) else detail),
    )
    session.add(entry)
    return entry


def masked_detail(detail: dict[str, Any] | None) -> dict[str, Any]:
    """A detail with every full number in its words masked ("call Sam on +44 7•••• ••123")."""
    return {key: mask_numbers(value) if isinstance(value, str) else value for key, value in (detail or {}).items()}


def area_added(session: Session, area: Area, now: datetime, *, actor: Subscriber | None, channel: str) -> None:
    """An administrator (dashboard) or the operator (command line) added `area`."""
    session.flush()  # the new area's id
    record(session, AuditAction.AREA_ADD, now, actor=actor, label=None if actor else OPERATOR, channel=channel,
           area_id=area.id, slug=area.slug, private=area.private, moderation=area.moderation,
           public_page=area.public_page, **({"languages": area.languages} if area.languages else {}))


def area_changed(session: Session, area: Area, now: datetime, *, actor: Subscriber | None, channel: str,
                 **changes: Any) -> None:
    """An administrator (dashboard) or the operator (command line) changed `area`'s settings to `changes`."""
    record(session, AuditAction.AREA_CHANGE, now, actor=actor, label=None if actor else OPERATOR, channel=channel,
           area_id=area.id, **changes)


def organiser_added(session: Session, area: Area, phone: str, now: datetime, *, actor: Subscriber | None,
                    channel: str) -> None:
    """`phone` was made an organiser of `area`; the log keeps the number masked."""
    record(session, AuditAction.ORGANISER_ADD, now, actor=actor, label=None if actor else OPERATOR, channel=channel,
           area_id=area.id, organiser=mask(phone))


def admin_added(session: Session, phone: str, now: datetime, *, actor: Subscriber | None, channel: str) -> None:
    """`phone` was made an administrator (of every area, so of none in particular); kept masked."""
    record(session, AuditAction.ADMIN_ADD, now, actor=actor, label=None if actor else OPERATOR, channel=channel,
           administrator=mask(phone))


def forget_actor(session: Session, person: Subscriber) -> None:
    """FORGET: the actions stay in the log, without the person's name or masked number."""
    session.execute(
        update(AuditEntry).where(AuditEntry.actor_id == person.id).values(actor=FORGOTTEN, actor_id=None)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class AuditRecord:
    at: datetime
    who: str
    channel: str
    action: AuditAction
    area: str | None
    item: str | None
    detail: dict[str, Any]


def audit_log(
    session: Session, area: Area | None = None, *, newest_first: bool = False, limit: int | None = None,
    offset: int = 0, area_id: int | None = None,
) -> list[AuditRecord]:
    """The log oldest first (the CLI) or newest first a page at a time (the dashboard), of one area or of all."""
    order = (AuditEntry.created_at.desc(), AuditEntry.id.desc()) if newest_first else (AuditEntry.created_at,
                                                                                      AuditEntry.id)
    query = (
        select(AuditEntry, Area.slug, Item.kind)
        .outerjoin(Area, Area.id == AuditEntry.area_id)
        .outerjoin(Item, Item.id == AuditEntry.item_id)
        .order_by(*order).offset(offset).limit(limit)
    )
    if area is not None:
        area_id = area.id
    if area_id is not None:
        query = query.where(AuditEntry.area_id == area_id)
    return [
        AuditRecord(
            at=entry.created_at, who=mask_numbers(entry.actor), channel=entry.channel, action=entry.action, area=slug,
            item=f"{kind.letter}{entry.item_id}" if kind and entry.item_id else None,
            detail=masked_detail(entry.detail),
        )
        for entry, slug, kind in session.execute(query).all()
    ]
