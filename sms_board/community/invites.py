"""Private areas: invite codes and join requests.

A private area (a foster carers' network, a tenants' committee) is listed nowhere and
joined in one of two ways. `sms-board area invite SLUG` makes a code such as `K7Q4-2M`
(letters and digits that cannot be misread, at least one digit; only a keyed hash is
stored) with a number of uses and days; `JOIN CARERS K7Q4-2M` joins while it has both
left. Every wrong, expired or used-up code a number tries is counted, and five in an
hour lock that number out of invites for an hour, so codes cannot be guessed by text.
Or `JOIN CARERS` without a code files a join request (an item `#J12`) that the area's
organisers answer with `ACCEPT J12` or `NO J12`.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sms_board.community import audit
from sms_board.community.alerts import tell_organisers
from sms_board.community.exchange import display_name, is_member, record
from sms_board.community.item_lifecycle import transition
from sms_board.community.languages import texts_for, welcome_texts
from sms_board.community.people import may_moderate
from sms_board.community.subscriptions import subscribe
from sms_board.models import (
    Area,
    AuditAction,
    Invite,
    InviteAttempt,
    InviteOutcome,
    Item,
    ItemEventAction,
    ItemKind,
    ItemStatus,
    NoticeKind,
    OutboxKind,
    Subscriber,
)
from sms_board.plumbing.config import Settings
from sms_board.sending.outbox import enqueue
from sms_board.text.phone import mask
from sms_board.text.phrases import phrase
from sms_board.text.templates import Said

# No 0/O, 1/I/L: a code read out at a meeting or copied from a note must come through.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
DIGITS = "23456789"
CODE_LENGTH = 6
DEFAULT_USES = 1
DEFAULT_DAYS = 7
# A code for a whole estate's letterboxes, kept for a year, is the most a private area needs; beyond
# that a number is a typo (or a probe) that the database or the calendar could not hold.
MAX_USES = 1000
MAX_DAYS = 366
LOCK_AFTER = 5  # wrong, expired or used-up codes …
LOCK_WINDOW = timedelta(hours=1)  # … within this long lock the number out …
LOCK_FOR = timedelta(hours=1)  # … for this long
# What a code typed by a resident may look like: a few letters and digits, with a digit in it.
_CODE_SHAPED = re.compile(r"^(?=.*\d)[A-Z0-9]{4,10}$")


class InviteError(ValueError):
    """An invite cannot be made as asked; the message is one line for the operator."""


def format_code(raw: str) -> str:
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(token: str) -> str:
    return re.sub(r"[\s-]", "", token.upper())


def code_shaped(token: str) -> bool:
    return bool(_CODE_SHAPED.match(normalise_code(token)))


def code_hash(secret_key: str, area_id: int, code: str) -> str:
    """Keyed with SECRET_KEY: rotating it (after a leak) voids every code still out, as it should."""
    message = f"invite:{area_id}:{normalise_code(code)}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def _new_code() -> str:
    while True:
        raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if any(ch in DIGITS for ch in raw):
            return raw


def make_invite(
    session: Session, settings: Settings, area: Area, now: datetime, *, uses: int = DEFAULT_USES,
    days: int = DEFAULT_DAYS, actor: Subscriber | None = None, label: str | None = None, channel: str = "cli",
) -> str:
    """A new code for a private area, as residents type it (`K7Q4-2M`); only its hash is stored."""
    if not area.private:
        raise InviteError(phrase("%(area)s is public: anyone can text JOIN %(keyword)s.", area=area.slug,
                                 keyword=area.slug.upper()))
    if not (1 <= uses <= MAX_USES and 1 <= days <= MAX_DAYS):
        raise InviteError(phrase("Uses must be 1 to %(uses)s and days 1 to %(days)s.", uses=MAX_USES, days=MAX_DAYS))
    code = _new_code()
    session.add(Invite(
        area_id=area.id, code_hash=code_hash(settings.secret_key, area.id, code), uses=uses, uses_left=uses,
        expires_at=now + timedelta(days=days), created_at=now, created_by=(label or audit.OPERATOR)[:60],
    ))
    audit.record(session, AuditAction.INVITE, now, actor=actor, label=label or (None if actor else audit.OPERATOR),
                 channel=channel, area_id=area.id, uses=uses, days=days)
    return format_code(code)


# ── using a code ───────────────────────────────────────────────────────────


class Joined(enum.StrEnum):
    JOINED = "joined"
    ALREADY = "already"
    WRONG = "wrong"
    EXPIRED = "expired"
    USED_UP = "used_up"
    LOCKED = "locked"

    @property
    def changed(self) -> bool:
        """Whether the attempt changed anything: joined, or a miss counted towards the lock (so its
        reply is never withheld before the lock says why)."""
        return self not in {Joined.ALREADY, Joined.LOCKED}


@dataclass(frozen=True)
class CodeResult:
    outcome: Joined
    locked_until: datetime | None = None


def locked_until(session: Session, person: Subscriber, now: datetime) -> datetime | None:
    """When a number locked out of invites may try again; None when it is not locked out.

    Attempts are not counted while it is locked, so the lock is LOCK_FOR from the fifth miss.
    """
    misses = list(session.scalars(
        select(InviteAttempt.created_at).where(
            InviteAttempt.subscriber_id == person.id, InviteAttempt.outcome != InviteOutcome.JOINED,
            InviteAttempt.created_at > now - LOCK_WINDOW - LOCK_FOR,
        ).order_by(InviteAttempt.created_at.desc()).limit(LOCK_AFTER)
    ))
    if len(misses) < LOCK_AFTER or misses[0] - misses[-1] > LOCK_WINDOW:
        return None
    until = misses[0] + LOCK_FOR
    return until if until > now else None


def _attempt(session: Session, person: Subscriber, area: Area, invite: Invite | None, outcome: InviteOutcome,
             now: datetime) -> None:
    session.add(InviteAttempt(subscriber_id=person.id, area_id=area.id, invite_id=invite.id if invite else None,
                              outcome=outcome, created_at=now))


def use_code(session: Session, settings: Settings, area: Area, person: Subscriber, code: str, *, words: str,
             wording: str, now: datetime, inbound_id: int | None = None) -> CodeResult:
    """Join a private area with an invite code, or say why not (and count the miss)."""
    until = locked_until(session, person, now)
    if until is not None:
        return CodeResult(Joined.LOCKED, until)
    if is_member(session, person, area.id):
        return CodeResult(Joined.ALREADY)
    invite = session.scalar(select(Invite).where(Invite.code_hash == code_hash(settings.secret_key, area.id, code)))
    outcome = (InviteOutcome.WRONG if invite is None else InviteOutcome.EXPIRED if invite.expires_at <= now
               else None)
    if outcome is None and invite is not None:
        # One use at a time, even when two residents type the last use at the same moment.
        taken = session.execute(
            update(Invite).where(Invite.id == invite.id, Invite.uses_left > 0)
            .values(uses_left=Invite.uses_left - 1).execution_options(synchronize_session=False)
        ).rowcount
        outcome = InviteOutcome.JOINED if taken else InviteOutcome.USED_UP
    _attempt(session, person, area, invite, outcome, now)
    if outcome != InviteOutcome.JOINED:
        session.flush()
        return CodeResult(Joined(outcome), locked_until(session, person, now))
    subscribe(session, person, area, words=words, wording=wording, channel="sms", now=now, inbound_id=inbound_id)
    return CodeResult(Joined.JOINED)


# ── join requests ──────────────────────────────────────────────────────────


def pending_request(session: Session, area: Area, person: Subscriber) -> Item | None:
    return session.scalar(select(Item).where(
        Item.kind == ItemKind.JOIN, Item.area_id == area.id, Item.author_id == person.id,
        Item.status == ItemStatus.PENDING,
    ))


def request_to_join(session: Session, area: Area, person: Subscriber, words: str, now: datetime,
                    inbound_id: int | None = None) -> tuple[Item, bool]:
    """File a join request for the organisers (or find the one already waiting); True when new."""
    waiting = pending_request(session, area, person)
    if waiting is not None:
        return waiting, False
    item = Item(
        kind=ItemKind.JOIN, area_id=area.id, author_id=person.id, author_name=person.name,
        body=words[:160] or f"JOIN {area.slug.upper()}", status=ItemStatus.PENDING, inbound_id=inbound_id,
        created_at=now, last_activity_at=now,
    )
    session.add(item)
    session.flush()
    record(session, item, ItemEventAction.JOIN_REQUESTED, now, actor=person)
    tell_organisers(session, item, NoticeKind.JOIN, now)
    return item, True


class Decided(enum.StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    NOT_ALLOWED = "not_allowed"
    NOT_WAITING = "not_waiting"

    @property
    def changed(self) -> bool:
        return self in {Decided.ACCEPTED, Decided.DECLINED}


def decide_join_request(session: Session, settings: Settings, request: Item, organiser: Subscriber, *,
                        accept: bool, now: datetime, channel: str = "sms") -> Decided:
    """ACCEPT or NO from an organiser of the area: the resident joins (or not) and is told either way."""
    if not may_moderate(session, organiser, request.area_id):
        return Decided.NOT_ALLOWED
    person = request.author
    if request.status != ItemStatus.PENDING or person is None:
        return Decided.NOT_WAITING
    area = request.area
    if not transition(session, request, ItemStatus.CLOSED, allowed_from=(ItemStatus.PENDING,), now=now):
        return Decided.NOT_WAITING  # another organiser answered it a moment ago
    record(session, request, ItemEventAction.JOIN_ACCEPTED if accept else ItemEventAction.JOIN_DECLINED, now, actor=organiser)
    audit.record(session, AuditAction.JOIN_ACCEPT if accept else AuditAction.JOIN_DECLINE, now, actor=organiser,
                 channel=channel, item=request)
    if accept:
        welcome = welcome_texts(settings, person, area)
        # The resident's own JOIN is the consent; the organiser only let them in.
        subscribe(session, person, area, words=request.body, wording="\n\n".join(welcome), channel="sms", now=now,
                  inbound_id=request.inbound_id)
        texts = welcome
    else:
        texts = texts_for(settings, person, "join_declined", area=area)
    for text in texts:
        enqueue(session, settings, person, text, OutboxKind.NOTIFY, zone_name=area.timezone, now=now)
    return Decided.ACCEPTED if accept else Decided.DECLINED


def answer_join_request(session: Session, settings: Settings, request: Item, organiser: Subscriber, *,
                        accept: bool, now: datetime) -> Said:
    """ACCEPT J12 / NO J12 (or APPROVE / REJECT) by SMS: `decide_join_request`, and the organiser's reply."""
    decided = decide_join_request(session, settings, request, organiser, accept=accept, now=now)
    person = request.author
    return Said.of("join_decided", outcome=decided.value, item=request, area=request.area,
                  name=display_name(person), number=mask(person.phone) if person else "",
                  refused=decided == Decided.NOT_ALLOWED).because(decided.changed)
