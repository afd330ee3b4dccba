"""Dashboard sign-in: a 6-digit code by SMS, then a session.

Every request for a code is stored (`login_codes`), whoever asks: the number and the
address asking are kept only as keyed hashes, and only an organiser's or an
administrator's row holds a code (itself a keyed hash, with a salt of its own). So the
rate limits count strangers and organisers alike, and the page gives everyone the same
answer: it never tells whether a number may sign in.

A code lasts `CODE_LIFETIME`, works once, is locked after `MAX_WRONG_TRIES` wrong
tries, and is replaced by the number's next request (only the newest code works). Asking
runs the same statements for every number (`enqueue_if_one` texts the code in a
statement that queues nothing for a number that may not sign in). It goes out through the outbox like every text (kind `notify`, the first lane,
never held for quiet hours); once it is used or has expired, its words in the outbox are
blanked (`redact_spent_codes`, a clock job), so the outbox does not keep working codes.

A session is a row whose token (random, kept as a SHA-256) sits in the signed cookie:
signing out ends the row, so a copied cookie stops working too. Sessions end after
`SESSION_IDLE` without a page view, and `SESSION_LIFETIME` after sign-in at the latest.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, delete, exists, literal, or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from sms_board.models import LoginCode, Organiser, Outbox, OutboxKind, Subscriber, WebSession
from sms_board.plumbing.config import Settings
from sms_board.plumbing.db import is_sqlite
from sms_board.sending.delivery import UNFINISHED, in_statuses
from sms_board.sending.outbox import enqueue_if_one, prepare
from sms_board.text.templates import render

CODE_LIFETIME = timedelta(minutes=10)
CODE_DIGITS = 6
MAX_WRONG_TRIES = 5
# (window, most requests in it): a number may ask three times in 15 minutes and ten times a
# day; one address twenty times an hour (an office of organisers behind one address).
PER_NUMBER = ((timedelta(minutes=15), 3), (timedelta(days=1), 10))
PER_ADDRESS = ((timedelta(hours=1), 20),)
SESSION_IDLE = timedelta(hours=2)
SESSION_LIFETIME = timedelta(hours=12)
# A page view moves `last_seen_at` at most this often (no write on every page).
SEEN_EVERY = timedelta(minutes=5)
# Rows older than the longest rate-limit window are no longer needed.
KEEP_REQUESTS = max(window for window, _ in PER_NUMBER + PER_ADDRESS)
REDACTED_CODE = "*" * CODE_DIGITS


def keyed_hash(secret_key: str, purpose: str, value: str) -> str:
    return hmac.new(secret_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _code_hash(secret_key: str, salt: str, code: str) -> str:
    return keyed_hash(secret_key, f"login-code:{salt}", code)


def may_sign_in() -> ColumnElement[bool]:
    """Who may sign in: administrators, and organisers of at least one area (a condition on `Subscriber`).

    Asked in SQL, so one statement decides for any number, whoever it belongs to.
    (An opted-out or undeliverable number is never texted a code.)
    """
    return or_(Subscriber.is_admin, exists().where(Organiser.subscriber_id == Subscriber.id))


@dataclass(frozen=True)
class CodeRequest:
    """What the page may know: which request to check a code against, or how long to wait."""

    request_id: int | None
    retry_after: timedelta | None = None


Limits = tuple[tuple[timedelta, int], ...]  # (window, most requests in it)


def wait_under_limits(created: list[datetime], limits: Limits, now: datetime) -> timedelta | None:
    """How long until one more request fits every (window, most) limit, given when earlier ones came; None: now."""
    waits = []
    for window, most in limits:
        inside = sorted(at for at in created if at > now - window)
        if len(inside) >= most:
            waits.append(inside[len(inside) - most] + window - now)
    return max(waits) if waits else None


def _rate_limited(session: Session, number_hash: str, ip_hash: str, now: datetime) -> timedelta | None:
    longest = max(window for window, _ in PER_NUMBER)
    by_number = list(session.scalars(
        select(LoginCode.created_at).where(LoginCode.number_hash == number_hash, LoginCode.created_at > now - longest)
    ))
    longest = max(window for window, _ in PER_ADDRESS)
    by_address = list(session.scalars(
        select(LoginCode.created_at).where(LoginCode.ip_hash == ip_hash, LoginCode.created_at > now - longest)
    ))
    waits = [w for w in (wait_under_limits(by_number, PER_NUMBER, now),
                         wait_under_limits(by_address, PER_ADDRESS, now)) if w]
    return max(waits) if waits else None


def request_code(session: Session, settings: Settings, phone: str, address: str, now: datetime) -> CodeRequest:
    """Record a request for a code to `phone` (E.164) from `address`; text a code if the number may sign in.

    The caller answers the same whatever this finds, except when the request is rate-limited.
    """
    number_hash = keyed_hash(settings.secret_key, "login-number", phone)
    ip_hash = keyed_hash(settings.secret_key, "login-address", address)
    if not is_sqlite(session):
        # Two requests for one number at the same moment must not both slip under its limit
        # (SQLite's BEGIN IMMEDIATE already lets one writer in at a time).
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(number_hash[:15], 16)})
    wait = _rate_limited(session, number_hash, ip_hash, now)
    if wait is not None:
        return CodeRequest(None, wait)
    salt = secrets.token_hex(16)
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    hashed = _code_hash(settings.secret_key, salt, code)
    # One statement texts the code if the number may sign in, and queues nothing otherwise: every
    # number costs the database the same statements, so how long the page takes, or what the
    # database does, tells no one which numbers sign in. A code is a text to one person: first
    # lane, and it goes even in quiet hours.
    # The code goes in the organiser's language, chosen in that same statement; to someone whose
    # language is not known, in each of the board's languages in one text.
    texts = {language: _code_text(code, language) for language in settings.languages}
    sent = enqueue_if_one(session, settings, and_(Subscriber.phone == phone, may_sign_in()),
                          "\n".join(texts.values()), OutboxKind.NOTIFY, urgent=True, now=now,
                          by_language=texts if len(texts) > 1 else None)
    # Only a number that was texted its code keeps one that could work.
    row = LoginCode(
        number_hash=number_hash, ip_hash=ip_hash, subscriber_id=sent.subscriber_id if sent else None, salt=salt,
        code_hash=hashed if sent else None, outbox_id=sent.outbox_id if sent else None, created_at=now,
        expires_at=now + CODE_LIFETIME, wrong_tries=0,
    )
    session.add(row)
    session.flush()
    return CodeRequest(row.id)


def _code_text(code: str, language: str) -> str:
    return render("login_code", language, code=code, minutes=int(CODE_LIFETIME.total_seconds() // 60))


class Outcome(enum.Enum):
    SIGNED_IN = "signed_in"
    WRONG = "wrong"
    LOCKED = "locked"
    EXPIRED = "expired"
    REPLACED = "replaced"
    USED = "used"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CodeCheck:
    outcome: Outcome
    subscriber_id: int | None = None
    tries_left: int = 0


def check_code(session: Session, settings: Settings, request_id: int, code: str, now: datetime) -> CodeCheck:
    """Check a code typed for request `request_id`; a right one is used up, a wrong one counts."""
    row = session.get(LoginCode, request_id, with_for_update=not is_sqlite(session))
    if row is None:
        return CodeCheck(Outcome.UNKNOWN)
    if row.used_at is not None:
        return CodeCheck(Outcome.USED)
    if row.locked_at is not None:
        return CodeCheck(Outcome.LOCKED)
    if now >= row.expires_at:
        return CodeCheck(Outcome.EXPIRED)
    # Only a number's newest code works: a code asked for again replaces the one before.
    if session.scalar(select(exists().where(LoginCode.number_hash == row.number_hash, LoginCode.id > row.id))):
        return CodeCheck(Outcome.REPLACED)
    typed = "".join(ch for ch in code if ch.isdigit())
    given = _code_hash(settings.secret_key, row.salt, typed)
    right = row.code_hash is not None and hmac.compare_digest(given, row.code_hash)
    if right and session.scalar(select(exists().where(Subscriber.id == row.subscriber_id, may_sign_in()))):
        row.used_at = now
        _redact(session, settings, row, now)
        return CodeCheck(Outcome.SIGNED_IN, subscriber_id=row.subscriber_id)
    row.wrong_tries += 1
    if row.wrong_tries >= MAX_WRONG_TRIES:
        row.locked_at = now
        return CodeCheck(Outcome.LOCKED)
    return CodeCheck(Outcome.WRONG, tries_left=MAX_WRONG_TRIES - row.wrong_tries)


def _redacted_body(settings: Settings) -> ColumnElement[str]:
    """The code text with the code blanked, in the language it went in (as `request_code` chose it)."""
    texts = {language: prepare(_code_text(REDACTED_CODE, language)).text for language in settings.languages}
    if len(texts) == 1:
        return literal(next(iter(texts.values())))
    language = select(Subscriber.language).where(Subscriber.id == Outbox.subscriber_id).scalar_subquery()
    return case(*((language == code, literal(text)) for code, text in texts.items()),
                else_=literal(prepare("\n".join(texts.values())).text))


def _redact(session: Session, settings: Settings, row: LoginCode, now: datetime) -> bool:
    """Blank the code in its outbox text once that text has left (a waiting text must still carry it)."""
    if row.outbox_id is None or row.redacted_at is not None:
        return False
    changed = session.execute(
        update(Outbox).where(Outbox.id == row.outbox_id, ~in_statuses(UNFINISHED))
        .values(body=_redacted_body(settings))
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        row.redacted_at = now
    return bool(changed)


def redact_spent_codes(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """The clock's job: blank used or expired codes in the outbox, and forget old requests."""
    redacted = 0
    with factory.begin() as session:
        spent = session.scalars(
            select(LoginCode).where(
                LoginCode.outbox_id.is_not(None), LoginCode.redacted_at.is_(None),
                or_(LoginCode.used_at.is_not(None), LoginCode.locked_at.is_not(None), LoginCode.expires_at <= now),
            ).order_by(LoginCode.id).limit(500)
        ).all()
        for row in spent:
            redacted += _redact(session, settings, row, now)
        session.execute(delete(LoginCode).where(
            LoginCode.created_at < now - KEEP_REQUESTS,
            or_(LoginCode.outbox_id.is_(None), LoginCode.redacted_at.is_not(None)),
        ))
    return redacted


# ── sessions ──────────────────────────────────────────────────────────────


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, subscriber_id: int, now: datetime) -> str:
    """A new dashboard session for a person who just signed in; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_token_hash(token), subscriber_id=subscriber_id, created_at=now,
                           last_seen_at=now, expires_at=now + SESSION_LIFETIME))
    return token


def live_session(session: Session, token: str | None, now: datetime) -> WebSession | None:
    """The session this token opened, while it lasts; a page view keeps it alive."""
    if not token:
        return None
    found = session.scalar(select(WebSession).where(WebSession.token_hash == _token_hash(token)))
    if found is None or found.ended_at is not None or now >= found.expires_at:
        return None
    if now - found.last_seen_at >= SESSION_IDLE:
        return None
    if now - found.last_seen_at >= SEEN_EVERY:
        found.last_seen_at = now
    return found


def signed_in(session: Session, token: str | None, now: datetime) -> Subscriber | None:
    """Who holds the live session this token opened (a page view keeps it alive), or None."""
    found = live_session(session, token, now)
    return session.get(Subscriber, found.subscriber_id) if found else None


def end_session(session: Session, token: str | None, now: datetime) -> None:
    if token:
        session.execute(
            update(WebSession).where(WebSession.token_hash == _token_hash(token), WebSession.ended_at.is_(None))
            .values(ended_at=now)
        )
