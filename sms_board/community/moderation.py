"""Moderation: which posts wait for an organiser, deciding on them, reports, and who may see what.

An area's policy says what happens to what its residents post (notices, help requests,
standing offers): `open` publishes at once; `first` holds a resident's posts there until
an organiser has approved one of them; `all` holds every post. Organisers and
administrators are never held. Where posts can be held, a post needs its author's NAME
(Defamation Act 2013: the author of pre-moderated content can be contacted after a
complaint): without one it is kept `unnamed` and goes on the moment the NAME arrives.

`approve` and `reject` are the one code path for every way in (SMS and the dashboard).
Neighbours' REPORTs hide an item once `SMS_BOARD_REPORT_HIDE` of them agree, and an
organiser can `hide` a published post from the dashboard's moderation queue while they
look into it; APPROVE restores it, REJECT removes it. Nobody but organisers ever learns
who reported.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sms_board.community import audit
from sms_board.community.alerts import tell_organisers
from sms_board.community.digest_lines import withdraw_from_digests
from sms_board.community.exchange import close_item, is_member, record
from sms_board.community.item_lifecycle import (
    OPEN,
    OUT_OF_SIGHT,
    VISIBLE,
    publish,
    transition,
)
from sms_board.community.languages import enqueue_in_their_language
from sms_board.community.people import may_moderate
from sms_board.models import (
    Area,
    AuditAction,
    Item,
    ItemEvent,
    ItemEventAction,
    ItemKind,
    ItemStatus,
    Match,
    Moderation,
    NoticeKind,
    OutboxKind,
    Report,
    ReportResolution,
    Response,
    Subscriber,
)
from sms_board.plumbing.config import Settings

MODERATED_KINDS = frozenset({ItemKind.NOTICE, ItemKind.REQUEST, ItemKind.OFFER})


class Outcome(enum.StrEnum):
    APPROVED = "approved"
    RESTORED = "restored"  # a hidden item is back
    KEPT = "kept"  # a reported item stays up; its reports are dismissed
    REJECTED = "rejected"
    NOT_ALLOWED = "not_allowed"
    NOT_WAITING = "not_waiting"  # nothing to decide
    ALREADY_DECIDED = "already_decided"  # someone else decided (or it changed) while this was on its way
    UNNAMED = "unnamed"  # waits for its author's NAME first
    REPORTED = "reported"
    HIDDEN = "hidden"  # this report hid it
    AGAIN = "again"  # this resident reported it before
    OWN = "own"
    NOT_MEMBER = "not_member"

    @property
    def changed(self) -> bool:
        """Whether the decision or report changed the item (what a handler declares, `Context.did`)."""
        return self in _CHANGES


_CHANGES = frozenset({Outcome.APPROVED, Outcome.RESTORED, Outcome.KEPT, Outcome.REJECTED, Outcome.REPORTED,
                      Outcome.HIDDEN})


# ── who sees what ──────────────────────────────────────────────────────────


def is_party(session: Session, person: Subscriber, item: Item) -> bool:
    """Connected on the item, or answered it (an offer, an ask, one side of an introduction)."""
    matched = session.scalar(select(Match.id).where(
        Match.item_id == item.id, or_(Match.owner_id == person.id, Match.helper_id == person.id)).limit(1))
    if matched is not None:
        return True
    return session.scalar(select(Response.id).where(
        Response.item_id == item.id, Response.responder_id == person.id).limit(1)) is not None


def can_see(session: Session, person: Subscriber, item: Item) -> bool:
    """Whether a ref may name this item to this person at all (else it is as if it did not exist).

    Held, hidden and rejected items and join requests are seen by their author, the area's
    moderators and anyone already connected on them; a private area's items by its members.
    """
    if item.author_id == person.id:
        return True
    if item.status in OUT_OF_SIGHT or item.kind == ItemKind.JOIN:
        return may_moderate(session, person, item.area_id) or is_party(session, person, item)
    if item.area.private:
        return (is_member(session, person, item.area_id) or may_moderate(session, person, item.area_id)
                or is_party(session, person, item))
    return True


# ── new posts ──────────────────────────────────────────────────────────────


def _cleared(session: Session, author: Subscriber, area_id: int) -> bool:
    """Whether an organiser has approved one of the author's posts in this area."""
    return session.scalar(
        select(ItemEvent.id).join(Item, Item.id == ItemEvent.item_id).where(
            Item.area_id == area_id, Item.author_id == author.id, ItemEvent.action == ItemEventAction.APPROVED,
        ).limit(1)
    ) is not None


def held(session: Session, area: Area, author: Subscriber) -> bool:
    """Whether the area's policy holds this author's next post for an organiser."""
    if area.moderation == Moderation.OPEN or may_moderate(session, author, area.id):
        return False
    if area.moderation == Moderation.ALL:
        return True
    return not _cleared(session, author, area.id)


def status_for_new(session: Session, area: Area, author: Subscriber) -> ItemStatus:
    if not held(session, area, author):
        return ItemStatus.PUBLISHED
    return ItemStatus.PENDING if author.name else ItemStatus.UNNAMED


def submitted(session: Session, item: Item, now: datetime) -> None:
    """A new item is stored: a held one is queued for the organisers' next notice."""
    if item.status == ItemStatus.PENDING:
        tell_organisers(session, item, NoticeKind.HELD, now)


def release_unnamed(session: Session, settings: Settings, author: Subscriber, now: datetime) -> list[Item]:
    """The author gave a NAME: their posts kept for it are signed and go on (published, or held)."""
    waiting = list(session.scalars(
        select(Item).where(Item.author_id == author.id, Item.status == ItemStatus.UNNAMED).order_by(Item.id)
    ))
    released = []
    for item in waiting:
        item.author_name = author.name
        if status_for_new(session, item.area, author) == ItemStatus.PUBLISHED:
            moved = publish(session, item, allowed_from=(ItemStatus.UNNAMED,),
                            request_days=settings.request_expire_days, now=now)
        else:
            moved = transition(session, item, ItemStatus.PENDING, allowed_from=(ItemStatus.UNNAMED,), now=now)
        if not moved:  # closed by its author (or rejected) in the meantime
            continue
        record(session, item, ItemEventAction.NAMED, now, actor=author)
        submitted(session, item, now)
        released.append(item)
    return released


# ── organisers decide ──────────────────────────────────────────────────────


def _tell_author(session: Session, settings: Settings, item: Item, template: str, now: datetime,
                 **data: object) -> None:
    if item.author is not None:
        enqueue_in_their_language(session, settings, item.author, template, OutboxKind.NOTIFY,
                                  zone_name=item.area.timezone, about=item, now=now, item=item, area=item.area, **data)


def _resolve_reports(session: Session, item: Item, resolution: ReportResolution, now: datetime) -> int:
    return session.execute(
        update(Report).where(Report.item_id == item.id, Report.resolved_at.is_(None))
        .values(resolved_at=now, resolution=resolution).execution_options(synchronize_session=False)
    ).rowcount or 0


def approve(session: Session, settings: Settings, item: Item, moderator: Subscriber, now: datetime, *,
            channel: str = "sms") -> Outcome:
    """Publish a held item, restore a hidden one, or keep a reported one up."""
    if not may_moderate(session, moderator, item.area_id):
        return Outcome.NOT_ALLOWED
    if item.status == ItemStatus.UNNAMED:
        return Outcome.UNNAMED
    if item.status == ItemStatus.PENDING:
        if not publish(session, item, allowed_from=(ItemStatus.PENDING,), request_days=settings.request_expire_days,
                       now=now):
            return Outcome.ALREADY_DECIDED
        record(session, item, ItemEventAction.APPROVED, now, actor=moderator)
        audit.record(session, AuditAction.APPROVE, now, actor=moderator, channel=channel, item=item)
        _tell_author(session, settings, item, "moderation_approved", now)
        return Outcome.APPROVED
    if item.status == ItemStatus.HIDDEN:
        if not transition(session, item, ItemStatus.PUBLISHED, allowed_from=(ItemStatus.HIDDEN,), now=now):
            return Outcome.ALREADY_DECIDED
        dismissed = _resolve_reports(session, item, ReportResolution.DISMISSED, now)
        record(session, item, ItemEventAction.RESTORED, now, actor=moderator)
        audit.record(session, AuditAction.RESTORE, now, actor=moderator, channel=channel, item=item,
                     reports=dismissed)
        _tell_author(session, settings, item, "moderation_restored", now)
        return Outcome.RESTORED
    if item.status == ItemStatus.PUBLISHED:
        dismissed = _resolve_reports(session, item, ReportResolution.DISMISSED, now)
        if dismissed:
            record(session, item, ItemEventAction.REPORTS_DISMISSED, now, actor=moderator)
            audit.record(session, AuditAction.APPROVE, now, actor=moderator, channel=channel, item=item,
                         reports=dismissed)
            return Outcome.KEPT
    return Outcome.NOT_WAITING


def reject(session: Session, settings: Settings, item: Item, moderator: Subscriber, reason: str, now: datetime, *,
           channel: str = "sms") -> tuple[Outcome, list[Subscriber]]:
    """Take an item down (held, hidden or published); returns the outcome and whose connection on it ended."""
    if not may_moderate(session, moderator, item.area_id):
        return Outcome.NOT_ALLOWED, []
    if item.status not in OPEN:
        return Outcome.NOT_WAITING, []
    was = item.status
    # Only from what the moderator saw: a post approved (or closed) a moment ago is not rejected unseen.
    ended = close_item(session, item, ItemStatus.REJECTED, now, moderator, ItemEventAction.REJECTED, allowed_from=(was,))
    if ended is None:
        return Outcome.ALREADY_DECIDED, []
    if was in VISIBLE:
        withdraw_from_digests(session, item, settings.first_language)
    item.moderation_note = reason or None
    upheld = _resolve_reports(session, item, ReportResolution.UPHELD, now)
    audit.record(session, AuditAction.REJECT, now, actor=moderator, channel=channel, item=item, reason=reason,
                 was=was, reports=upheld)
    _tell_author(session, settings, item, "moderation_rejected", now, reason=reason)
    return Outcome.REJECTED, [person for _match, person in ended if person.id != item.author_id]


def hide(session: Session, settings: Settings, item: Item, moderator: Subscriber, now: datetime, *,
         channel: str = "web") -> Outcome:
    """An organiser takes a published post out of sight until they decide (APPROVE restores, REJECT removes).

    As when reports hide it: withdrawn from digest pages MORE still reads, the author told
    (without a word about who reported it), its open reports left for the decision.
    """
    if not may_moderate(session, moderator, item.area_id):
        return Outcome.NOT_ALLOWED
    if item.status != ItemStatus.PUBLISHED or item.kind not in MODERATED_KINDS:
        return Outcome.NOT_WAITING
    if not transition(session, item, ItemStatus.HIDDEN, allowed_from=VISIBLE, now=now):
        return Outcome.ALREADY_DECIDED
    open_reports = len(session.scalars(
        select(Report.id).where(Report.item_id == item.id, Report.resolved_at.is_(None))).all())
    withdraw_from_digests(session, item, settings.first_language)
    record(session, item, ItemEventAction.HIDDEN, now, actor=moderator)
    audit.record(session, AuditAction.HIDE, now, actor=moderator, channel=channel, item=item, reports=open_reports)
    _tell_author(session, settings, item, "moderation_hidden_by_organiser", now)
    return Outcome.HIDDEN


# ── reports ────────────────────────────────────────────────────────────────


def report(session: Session, settings: Settings, item: Item, reporter: Subscriber, now: datetime) -> Outcome:
    """A neighbour flags an item; enough different neighbours hide it until an organiser decides."""
    if item.author_id == reporter.id:
        return Outcome.OWN
    if not (is_member(session, reporter, item.area_id) or may_moderate(session, reporter, item.area_id)):
        return Outcome.NOT_MEMBER
    if item.status != ItemStatus.PUBLISHED:
        return Outcome.NOT_WAITING
    if session.scalar(select(Report.id).where(Report.item_id == item.id, Report.reporter_id == reporter.id)):
        return Outcome.AGAIN
    try:
        with session.begin_nested():  # the same resident reporting twice at the same moment
            session.add(Report(item_id=item.id, reporter_id=reporter.id, created_at=now))
    except IntegrityError:
        return Outcome.AGAIN
    record(session, item, ItemEventAction.REPORTED, now)  # no actor: the author's history never names a reporter
    reports = session.scalars(
        select(Report.id).where(Report.item_id == item.id, Report.resolved_at.is_(None))
    ).all()
    if len(reports) < settings.report_hide:
        tell_organisers(session, item, NoticeKind.REPORTED, now)
        return Outcome.REPORTED
    if not transition(session, item, ItemStatus.HIDDEN, allowed_from=VISIBLE, now=now):
        return Outcome.REPORTED  # taken down (or hidden) by someone else a moment ago: the report stands
    withdraw_from_digests(session, item, settings.first_language)
    record(session, item, ItemEventAction.HIDDEN, now)
    audit.record(session, AuditAction.HIDE, now, channel="board", item=item, reports=len(reports))
    tell_organisers(session, item, NoticeKind.HIDDEN, now)
    _tell_author(session, settings, item, "moderation_hidden", now)
    return Outcome.HIDDEN
