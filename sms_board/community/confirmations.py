"""Pending confirmations: what a YES would confirm (FORGET, a broadcast), newest wins, 15 minutes, once.

This module is the only writer of `confirmations.resolution` and `resolved_at`:

    (asked) ──▶ pending ──YES within 15 minutes (`answer_yes`)──▶ confirmed
                   └──any other text (`lapse_unless_yes`), a newer confirmation asked (`ask`),
                      YES once the 15 minutes are over──▶ lapsed

Pending is a NULL resolution (and a NULL `resolved_at`); confirmed and lapsed are final. A
row moves only through `transition()`: one conditional `UPDATE … WHERE resolution IS NULL`
(the states it may leave), which stamps `resolved_at`, so two YES at once confirm once and
a confirmation that lapsed a moment ago is never confirmed after all. The database refuses
a resolution not in `models.ConfirmationResolution` (a CHECK constraint).

What YES then does is registered with the router (`handlers.router.confirm_action`).
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Row, false, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from sms_board.models import Confirmation, ConfirmationResolution, Subscriber
from sms_board.text.words import Words, says_yes

CONFIRM_WINDOW = timedelta(minutes=15)

CR = ConfirmationResolution
Resolution = ConfirmationResolution | None

# ── the states every other module speaks in ────────────────────────────────

PENDING: tuple[Resolution, ...] = (None,)  # waiting for YES: no resolution yet
RESOLVED: tuple[Resolution, ...] = (CR.CONFIRMED, CR.LAPSED)  # nothing moves these again


def resolution_in(states: Iterable[Resolution]) -> ColumnElement[bool]:
    """`resolution IS NULL` for pending, `resolution IN (…)` for the rest."""
    wanted = list(states)
    named = [state for state in wanted if state is not None]
    conditions = ([Confirmation.resolution.is_(None)] if None in wanted else []) + (
        [Confirmation.resolution.in_(named)] if named else [])
    return or_(*conditions) if conditions else false()


# ── the one way a resolution changes ───────────────────────────────────────

Which = Confirmation | ColumnElement[bool]


def transition(session: Session, which: Which, to: ConfirmationResolution, *, allowed_from: Iterable[Resolution],
               now: datetime) -> Sequence[Row[tuple[int, str, datetime]]]:
    """Resolve the confirmations `which` names (one loaded row, or a condition), but only those now in
    `allowed_from`, stamping `resolved_at`; returns the (id, action, expires_at) of each that moved.

    A loaded row that moved shows its resolution at once; one that did not (another YES, or
    another text, moved it first) is expired, so reading it fetches the truth.
    """
    condition = Confirmation.id == which.id if isinstance(which, Confirmation) else which
    moved = session.execute(
        update(Confirmation)
        .where(condition, resolution_in(allowed_from))
        .values(resolution=to, resolved_at=now)
        .returning(Confirmation.id, Confirmation.action, Confirmation.expires_at)
        .execution_options(synchronize_session=False)
    ).all()
    if isinstance(which, Confirmation):
        if moved:
            set_committed_value(which, "resolution", to)
            set_committed_value(which, "resolved_at", now)
        else:
            session.expire(which, ["resolution", "resolved_at"])
    return moved


# ── asking, lapsing, confirming ────────────────────────────────────────────


def ask(session: Session, subscriber: Subscriber, action: str, payload: dict[str, object],
        now: datetime) -> Confirmation:
    """A new pending confirmation of `action`; the subscriber's earlier ones lapse (the newest wins)."""
    lapse_pending(session, subscriber, now)
    pending = Confirmation(
        subscriber_id=subscriber.id, action=action, payload=payload,
        created_at=now, expires_at=now + CONFIRM_WINDOW,
    )
    session.add(pending)
    return pending


def lapse_pending(session: Session, subscriber: Subscriber, now: datetime) -> tuple[str, ...]:
    """Let the subscriber's pending confirmations lapse; the actions of those YES could still have confirmed."""
    lapsed = transition(session, Confirmation.subscriber_id == subscriber.id, CR.LAPSED, allowed_from=PENDING, now=now)
    return tuple(sorted({action for _id, action, expires_at in lapsed if expires_at > now}))


def lapse_unless_yes(session: Session, subscriber: Subscriber, words: Words, now: datetime) -> tuple[str, ...]:
    """Any text but YES lets a pending confirmation lapse (docs/language.md, "YES"); what lapsed, for the reply."""
    if says_yes(words.tokens):
        return ()
    return lapse_pending(session, subscriber, now)


def newest_pending(session: Session, subscriber: Subscriber, now: datetime) -> Confirmation | None:
    """The subscriber's newest pending confirmation still within its 15 minutes: what a YES now would confirm."""
    return session.scalar(
        select(Confirmation)
        .where(Confirmation.subscriber_id == subscriber.id, resolution_in(PENDING), Confirmation.expires_at > now)
        .order_by(Confirmation.created_at.desc(), Confirmation.id.desc())
        .limit(1)
    )


def answer_yes(session: Session, subscriber: Subscriber, now: datetime, *,
               can_do: Container[str]) -> Confirmation | None:
    """YES: the newest pending confirmation, confirmed if YES knows how to do what it asks (`can_do`);
    every other pending one lapses. None when nothing was confirmed, another YES included."""
    pending = newest_pending(session, subscriber, now)
    confirmed = pending is not None and pending.action in can_do and bool(
        transition(session, pending, CR.CONFIRMED, allowed_from=PENDING, now=now))
    lapse_pending(session, subscriber, now)
    return pending if confirmed else None
