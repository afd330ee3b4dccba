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

from sms_board.community.audit import FORGOTTEN, OPERATOR, AuditRecord, audit_log
from sms_board.models import Area, AuditAction, AuditEntry, Invite, ItemStatus, Moderation
from sms_board.text.phrases import ENGLISH, Wording, nphrase, phrase

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
_WAS = {ItemStatus.UNNAMED: phrase("waiting for the author's NAME"), ItemStatus.PENDING: phrase("waiting for an organiser"),
        ItemStatus.HIDDEN: phrase("hidden after reports"), ItemStatus.PUBLISHED: phrase("published")}
_MODERATION = {Moderation.OPEN: phrase("posts go up at once"),
               Moderation.FIRST: phrase("a resident's first post waits for an organiser"),
               Moderation.ALL: phrase("every post waits for an organiser")}
# The log's actions and channels as the page names them (the CLI prints the stored words).
ACTION_NAMES = {
    A.APPROVE: phrase("approve"), A.REJECT: phrase("reject"), A.HIDE: phrase("hide"), A.RESTORE: phrase("restore"),
    A.BROADCAST: phrase("broadcast"), A.URGENT: phrase("urgent"), A.INTRO: phrase("intro"),
    A.UNLINK: phrase("unlink"), A.INVITE: phrase("invite"), A.JOIN_ACCEPT: phrase("join accept"),
    A.JOIN_DECLINE: phrase("join decline"), A.IMPORT: phrase("import"), A.EXPORT: phrase("export"),
    A.AREA_ADD: phrase("area add"), A.AREA_CHANGE: phrase("area change"), A.ORGANISER_ADD: phrase("organiser add"),
    A.ORGANISER_REMOVE: phrase("organiser remove"), A.ADMIN_ADD: phrase("admin add"),
}
CHANNEL_NAMES = {"sms": phrase("sms"), "web": phrase("web"), "cli": phrase("cli")}
_WHO = {OPERATOR: phrase("operator"), FORGOTTEN: phrase("forgotten"), "the board": phrase("the board")}


def action_name(action: str) -> str:
    return ACTION_NAMES.get(action, action.replace("_", " "))  # type: ignore[call-overload]


def channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)


def who_name(who: str) -> str:
    """The actor as the log stores them: a NAME and masked number; "operator", "forgotten", "the board" in words."""
    return _WHO.get(who, who)


def _quoted(text: Any) -> str:
    return f"“{text}”"


def _reports(detail: dict[str, Any], upheld: bool) -> list[str]:
    reports = detail.pop("reports", 0)
    if not reports:
        return []
    return [nphrase("%(num)s report upheld", "%(num)s reports upheld", reports) if upheld
            else nphrase("%(num)s report dismissed", "%(num)s reports dismissed", reports)]


# Each phrase takes the keys it puts in words out of the detail; in_words writes what is left as "key: value".
Phrasing = Callable[[dict[str, Any]], list[str]]


def _people(n: Any) -> str:
    return nphrase("%(num)s person", "%(num)s people", n)


def _broadcast(detail: dict[str, Any]) -> list[str]:
    campaign, recipients, text = detail.pop("campaign", None), detail.pop("recipients", None), detail.pop("text", None)
    sent = phrase("to %(people)s", people=_people(recipients)) if recipients is not None else phrase("sent")
    if campaign is not None:
        sent = phrase("%(sent)s (broadcast %(campaign)s)", sent=sent, campaign=campaign)
    return [phrase("%(sent)s: %(text)s", sent=sent, text=_quoted(text)) if text else sent]


def _export(detail: dict[str, Any]) -> list[str]:
    rows = nphrase("%(num)s row", "%(num)s rows", detail.pop("rows", 0))
    return [phrase("%(rows)s, numbers masked", rows=rows) if detail.pop("masked", False)
            else phrase("%(rows)s, full numbers", rows=rows)]


def _import(detail: dict[str, Any]) -> list[str]:
    return [phrase("from %(file)s: %(imported)s subscribed, %(refused)s refused, %(already)s already there",
                   file=_quoted(detail.pop("file", "a file")), imported=detail.pop("imported", 0),
                   refused=detail.pop("refused", 0), already=detail.pop("already", 0))]


def _invite(detail: dict[str, Any]) -> list[str]:
    return [phrase("a code for %(people)s, for %(days)s", people=_people(detail.pop("uses", 1)),
                   days=nphrase("%(num)s day", "%(num)s days", detail.pop("days", 1)))]


def _reject(detail: dict[str, Any]) -> list[str]:
    was, reason = detail.pop("was", None), detail.pop("reason", None)
    return ([phrase("was %(was)s", was=_WAS.get(was, was))] if was else []) \
        + ([phrase("reason: %(reason)s", reason=_quoted(reason))] if reason else []) + _reports(detail, upheld=True)


def _hide(detail: dict[str, Any]) -> list[str]:
    if "reports" not in detail:
        return []
    return [nphrase("hidden after %(num)s report", "hidden after %(num)s reports", detail.pop("reports"))]


def _unlink(detail: dict[str, Any]) -> list[str]:
    if "connections" not in detail:
        return []
    return [nphrase("%(num)s connection ended", "%(num)s connections ended", detail.pop("connections"))]


def _area(detail: dict[str, Any]) -> list[str]:
    detail.pop("slug", None)  # the Area column shows it
    moderation = detail.pop("moderation", None)
    return [phrase("private") if detail.pop("private", False) else phrase("public")] + _public_page(detail) + \
        ([_MODERATION.get(moderation, phrase("moderation %(choice)s", choice=moderation))] if moderation else [])


def _public_page(detail: dict[str, Any]) -> list[str]:
    if "public_page" not in detail:
        return []
    return [phrase("with a public page") if detail.pop("public_page") else phrase("no public page")]


def _area_change(detail: dict[str, Any]) -> list[str]:
    if "public_page" not in detail:
        return []
    return [phrase("public page turned on") if detail.pop("public_page") else phrase("public page turned off")]


def _organiser_added(detail: dict[str, Any]) -> list[str]:
    return [phrase("%(who)s made an organiser", who=detail.pop("organiser"))] if "organiser" in detail else []


def _organiser_removed(detail: dict[str, Any]) -> list[str]:
    return [phrase("%(who)s no longer an organiser", who=detail.pop("organiser"))] if "organiser" in detail else []


def _admin_added(detail: dict[str, Any]) -> list[str]:
    return [phrase("%(who)s made an administrator", who=detail.pop("administrator"))] \
        if "administrator" in detail else []


_PHRASES: dict[str, Phrasing] = {
    A.BROADCAST: _broadcast, A.URGENT: _broadcast, A.EXPORT: _export, A.IMPORT: _import, A.INVITE: _invite,
    A.REJECT: _reject, A.APPROVE: lambda d: _reports(d, upheld=False), A.RESTORE: lambda d: _reports(d, upheld=False),
    A.HIDE: _hide, A.UNLINK: _unlink, A.AREA_ADD: _area, A.AREA_CHANGE: _area_change,
    A.ORGANISER_ADD: _organiser_added, A.ORGANISER_REMOVE: _organiser_removed, A.ADMIN_ADD: _admin_added,
}


def in_words(action: str, detail: dict[str, Any], wording: Wording = ENGLISH) -> str:
    """An entry's detail as a short phrase in `wording`'s language; keys this does not know are written "key: value"."""
    rest = dict(detail)
    phrasing = _PHRASES.get(action)
    words = phrasing(rest) if phrasing else []
    words += [phrase("%(key)s: %(value)s", key=key.replace("_", " "), value=_plain(value)) for key, value in rest.items()]
    return "; ".join(wording(word) for word in words if word)


def _plain(value: Any) -> str:
    return phrase("yes") if value is True else phrase("no") if value is False else str(value)


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
