"""The audit log as administrators read it on the dashboard, and the invite codes still out.

`community.audit.audit_log` (what `sms-board audit` prints), newest first, a page at a
time, optionally one area. The log names people by NAME and masked number, and masks any
number in a detail (a broadcast's first words, say) itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_board.community.audit import AuditRecord, audit_log
from sms_board.models import Area, AuditEntry, Invite

PAGE_SIZE = 100


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditRecord]
    total: int
    page: int
    pages: int


def audit_page(session: Session, area_id: int | None, page: int = 1) -> AuditPage:
    """Two statements: the count and the page."""
    count = select(func.count()).select_from(AuditEntry)
    if area_id is not None:
        count = count.where(AuditEntry.area_id == area_id)
    total = session.scalar(count) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    entries = audit_log(session, newest_first=True, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, area_id=area_id)
    return AuditPage(entries, total, page, pages)


@dataclass(frozen=True)
class InviteOut:
    area: str
    uses: int
    uses_left: int
    expires_at: datetime
    created_at: datetime
    created_by: str


def invites_out(session: Session, now: datetime) -> list[InviteOut]:
    """Codes that still let someone in (never the codes themselves: only their hashes are stored)."""
    return [
        InviteOut(area, invite.uses, invite.uses_left, invite.expires_at, invite.created_at, invite.created_by)
        for invite, area in session.execute(
            select(Invite, Area.name).join(Area, Area.id == Invite.area_id)
            .where(Invite.uses_left > 0, Invite.expires_at > now).order_by(Invite.created_at.desc()).limit(50)
        )
    ]
