"""Pending confirmations: what a YES would confirm (FORGET, a broadcast), newest wins, 15 minutes, once.

This module owns a confirmation's life: asked (`ask`, which lets any earlier one lapse),
lapsed (any text but YES, `lapse_unless_yes`), or confirmed by YES (`handlers.confirm`).
What YES then does is registered with the router (`handlers.router.confirm_action`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from sms_board.models import Confirmation, Subscriber
from sms_board.text.words import Words, says_yes

CONFIRM_WINDOW = timedelta(minutes=15)


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
    lapsed = session.execute(
        update(Confirmation)
        .where(Confirmation.subscriber_id == subscriber.id, Confirmation.resolved_at.is_(None))
        .values(resolved_at=now, resolution="lapsed")
        .returning(Confirmation.action, Confirmation.expires_at)
        .execution_options(synchronize_session=False)
    ).all()
    return tuple(sorted({action for action, expires_at in lapsed if expires_at > now}))


def lapse_unless_yes(session: Session, subscriber: Subscriber, words: Words, now: datetime) -> tuple[str, ...]:
    """Any text but YES lets a pending confirmation lapse (docs/language.md, "YES"); what lapsed, for the reply."""
    if says_yes(words.tokens):
        return ()
    return lapse_pending(session, subscriber, now)
