"""The audit log as administrators read it on the dashboard, and the invite codes still out.

`community.audit.audit_log` (what `sms-board audit` prints), newest first, a page at a
time, optionally one area. The log names people by NAME and masked number, and masks any
number in a detail (a broadcast's first words, say) itself. The page writes each entry's
detail in words (`in_words`): the stored detail is a few keys and values (`masked: True`,
`campaign: 2`) that read as code to an administrator; `sms-board audit` keeps them as they are.
"""

from __future__ import annotations

from collections.abc import Callable
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
_WAS = {ItemStatus.UNNAMED: "waiting for the author's NAME", ItemStatus.PENDING: "waiting for an organiser",
        ItemStatus.HIDDEN: "hidden after reports", ItemStatus.PUBLISHED: "published"}
_MODERATION = {Moderation.OPEN: "posts go up at once",
               Moderation.FIRST: "a resident's first post waits for an organiser",
               Moderation.ALL: "every post waits for an organiser"}


def _count(n: Any, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _quoted(text: Any) -> str:
    return f"“{text}”"


def _reports(detail: dict[str, Any], what: str) -> list[str]:
    reports = detail.pop("reports", 0)
    return [f"{_count(reports, 'report')} {what}"] if reports else []


# Each phrase takes the keys it puts in words out of the detail; in_words writes what is left as "key: value".
Phrase = Callable[[dict[str, Any]], list[str]]


def _broadcast(detail: dict[str, Any]) -> list[str]:
    campaign, recipients, text = detail.pop("campaign", None), detail.pop("recipients", None), detail.pop("text", None)
    sent = f"to {_count(recipients, 'person', 'people')}" if recipients is not None else "sent"
    sent += f" (broadcast {campaign})" if campaign is not None else ""
    return [sent + (f": {_quoted(text)}" if text else "")]


def _export(detail: dict[str, Any]) -> list[str]:
    return [f"{_count(detail.pop('rows', 0), 'row')}, "
            f"{'numbers masked' if detail.pop('masked', False) else 'full numbers'}"]


def _import(detail: dict[str, Any]) -> list[str]:
    return [f"from {_quoted(detail.pop('file', 'a file'))}: {detail.pop('imported', 0)} subscribed, "
            f"{detail.pop('refused', 0)} refused, {detail.pop('already', 0)} already there"]


def _invite(detail: dict[str, Any]) -> list[str]:
    return [f"a code for {_count(detail.pop('uses', 1), 'person', 'people')}, "
            f"for {_count(detail.pop('days', 1), 'day')}"]


def _reject(detail: dict[str, Any]) -> list[str]:
    was, reason = detail.pop("was", None), detail.pop("reason", None)
    return ([f"was {_WAS.get(was, was)}"] if was else []) + ([f"reason: {_quoted(reason)}"] if reason else []) \
        + _reports(detail, "upheld")


def _hide(detail: dict[str, Any]) -> list[str]:
    return [f"hidden after {_count(detail.pop('reports'), 'report')}"] if "reports" in detail else []


def _unlink(detail: dict[str, Any]) -> list[str]:
    return [f"{_count(detail.pop('connections'), 'connection')} ended"] if "connections" in detail else []


def _area(detail: dict[str, Any]) -> list[str]:
    detail.pop("slug", None)  # the Area column shows it
    moderation = detail.pop("moderation", None)
    return ["private" if detail.pop("private", False) else "public"] + _public_page(detail) + \
        ([_MODERATION.get(moderation, f"moderation {moderation}")] if moderation else [])


def _public_page(detail: dict[str, Any]) -> list[str]:
    if "public_page" not in detail:
        return []
    return ["with a public page" if detail.pop("public_page") else "no public page"]


def _area_change(detail: dict[str, Any]) -> list[str]:
    if "public_page" not in detail:
        return []
    return ["public page turned on" if detail.pop("public_page") else "public page turned off"]


def _person(key: str, became: str) -> Phrase:
    return lambda detail: [f"{detail.pop(key)} {became}"] if key in detail else []


_PHRASES: dict[str, Phrase] = {
    A.BROADCAST: _broadcast, A.URGENT: _broadcast, A.EXPORT: _export, A.IMPORT: _import, A.INVITE: _invite,
    A.REJECT: _reject, A.APPROVE: lambda d: _reports(d, "dismissed"), A.RESTORE: lambda d: _reports(d, "dismissed"),
    A.HIDE: _hide, A.UNLINK: _unlink, A.AREA_ADD: _area, A.AREA_CHANGE: _area_change,
    A.ORGANISER_ADD: _person("organiser", "made an organiser"),
    A.ORGANISER_REMOVE: _person("organiser", "no longer an organiser"),
    A.ADMIN_ADD: _person("administrator", "made an administrator"),
}


def in_words(action: str, detail: dict[str, Any]) -> str:
    """An entry's detail as a short phrase; keys this does not know are written "key: value"."""
    rest = dict(detail)
    phrase = _PHRASES.get(action)
    words = phrase(rest) if phrase else []
    words += [f"{key.replace('_', ' ')}: {_plain(value)}" for key, value in rest.items()]
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
