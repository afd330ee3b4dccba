"""The audit log as administrators read it on the dashboard, and the invite codes still out.

`community.audit.audit_log` (what `sms-board audit` prints), newest first, a page at a
time, optionally one area. The log names people by NAME and masked number, and masks any
number in a detail (a broadcast's first words, say) itself. The page writes each entry's
detail in words (`in_words`): the stored detail is a few keys and values (`masked: True`,
`campaign: 2`) that read as code to an administrator; `sms-board audit` keeps them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_board.community.audit import AuditRecord, audit_log
from sms_board.models import Area, AuditAction, AuditEntry, Invite, ItemStatus, Moderation

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


A = AuditAction
# What a rejected item was before, and what an area's moderation does, as an administrator says it.
_WAS = {ItemStatus.UNNAMED.value: "waiting for the author's NAME", ItemStatus.PENDING.value: "waiting for an organiser",
        ItemStatus.HIDDEN.value: "hidden after reports", ItemStatus.PUBLISHED.value: "published"}
_MODERATION = {Moderation.OPEN.value: "posts go up at once",
               Moderation.FIRST.value: "a resident's first post waits for an organiser",
               Moderation.ALL.value: "every post waits for an organiser"}


def _count(n: Any, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _quoted(text: Any) -> str:
    return f"“{text}”"


def _reports(detail: dict[str, Any], what: str) -> list[str]:
    return [f"{_count(detail['reports'], 'report')} {what}"] if detail.get("reports") else []


def in_words(action: str, detail: dict[str, Any]) -> str:
    """An entry's detail as a short phrase; keys this does not know are written "key: value"."""
    known = dict(detail)
    words: list[str] = []
    take = known.pop
    if action in (A.BROADCAST, A.URGENT):
        campaign, recipients, text = take("campaign", None), take("recipients", None), take("text", None)
        sent = f"to {_count(recipients, 'person', 'people')}" if recipients is not None else "sent"
        sent += f" (broadcast {campaign})" if campaign is not None else ""
        words.append(sent + (f": {_quoted(text)}" if text else ""))
    elif action == A.EXPORT:
        words.append(f"{_count(take('rows', 0), 'row')}, {'numbers masked' if take('masked', False) else 'full numbers'}")
    elif action == A.IMPORT:
        words.append(f"from {_quoted(take('file', 'a file'))}: {take('imported', 0)} subscribed, "
                     f"{take('refused', 0)} refused, {take('already', 0)} already there")
    elif action == A.INVITE:
        words.append(f"a code for {_count(take('uses', 1), 'person', 'people')}, "
                     f"for {_count(take('days', 1), 'day')}")
    elif action == A.REJECT:
        was, reason = take("was", None), take("reason", None)
        words += [f"was {_WAS.get(was, was)}"] if was else []
        words += [f"reason: {_quoted(reason)}"] if reason else []
        words += _reports(known, "upheld")
        known.pop("reports", None)
    elif action in (A.APPROVE, A.RESTORE):
        words += _reports(known, "dismissed")
        known.pop("reports", None)
    elif action == A.HIDE:
        words += [f"hidden after {_count(take('reports'), 'report')}"] if "reports" in known else []
    elif action == A.UNLINK:
        words += [f"{_count(take('connections'), 'connection')} ended"] if "connections" in known else []
    elif action == A.AREA_ADD:
        take("slug", None)  # the Area column shows it
        words.append("private" if take("private", False) else "public")
        moderation = take("moderation", None)
        words += [_MODERATION.get(moderation, f"moderation {moderation}")] if moderation else []
    elif action == A.ORGANISER_ADD and "organiser" in known:
        words.append(f"{take('organiser')} made an organiser")
    elif action == A.ORGANISER_REMOVE and "organiser" in known:
        words.append(f"{take('organiser')} no longer an organiser")
    elif action == A.ADMIN_ADD and "administrator" in known:
        words.append(f"{take('administrator')} made an administrator")
    words += [f"{key.replace('_', ' ')}: {_plain(value)}" for key, value in known.items()]
    return "; ".join(word for word in words if word)


def _plain(value: Any) -> str:
    return "yes" if value is True else "no" if value is False else str(value)


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
