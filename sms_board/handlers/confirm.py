"""YES: confirms the sender's one pending confirmation (newest wins, 15 minutes, once).

`YES please`, `Yes!` and `yes ok` (YES with at most two courtesy words) are a YES too.
Any other text lets a pending confirmation lapse, STOP, START and HELP included, though
they are answered before YES is read: the pipeline calls `lapse_unless_yes` for every text
before routing it, so `FORGET`, `HELP`, `YES` erases nobody.

With nothing pending, YES opts an opted-out number back in, else says there is
nothing to confirm. Features that need a confirmation register an action here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sms_board.handlers.router import CONFIRM_STAGE, Context, stage
from sms_board.handlers.stop import do_start
from sms_board.models import Confirmation, Subscriber
from sms_board.registry import Registry
from sms_board.words import Words, says_yes

CONFIRM_WINDOW = timedelta(minutes=15)

Action = Callable[[Context, Confirmation], None]
# What YES does, by the kind of confirmation pending (`Confirmation.action`).
CONFIRM_ACTIONS: Registry[Action] = Registry("confirm action")


def confirm_action(name: str) -> Callable[[Action], Action]:
    """Register what YES does for a pending confirmation of this kind (one action per kind)."""

    def register(func: Action) -> Action:
        return CONFIRM_ACTIONS.add(name, func)

    return register


def ask_to_confirm(ctx: Context, action: str, payload: dict[str, object]) -> Confirmation:
    lapse_pending(ctx.session, ctx.subscriber, ctx.now)
    pending = Confirmation(
        subscriber_id=ctx.subscriber.id, action=action, payload=payload,
        created_at=ctx.now, expires_at=ctx.now + CONFIRM_WINDOW,
    )
    ctx.session.add(pending)
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


def answers_yes(ctx: Context) -> bool:
    """A plain YES (`says_yes`): from an opted-out number too, since it may bring the number back."""
    return says_yes(ctx.words.tokens)


@stage(CONFIRM_STAGE, "yes", words={"YES"}, hears_opted_out=answers_yes)
def yes_stage(ctx: Context) -> bool:
    if not answers_yes(ctx):
        return False  # the pipeline let any pending confirmation lapse (`lapse_unless_yes`)
    pending = ctx.session.scalar(
        select(Confirmation)
        .where(
            Confirmation.subscriber_id == ctx.subscriber.id,
            Confirmation.resolved_at.is_(None),
            Confirmation.expires_at > ctx.now,
        )
        .order_by(Confirmation.created_at.desc(), Confirmation.id.desc())
        .limit(1)
    )
    lapse_pending(ctx.session, ctx.subscriber, ctx.now)
    action = CONFIRM_ACTIONS.get(pending.action) if pending is not None else None
    if pending is not None and action is not None:
        pending.resolved_at = ctx.now
        pending.resolution = "confirmed"
        ctx.handler = f"yes:{pending.action}"
        action(ctx, pending)
        return True
    if ctx.subscriber.opted_out:
        do_start(ctx)
        return True
    ctx.reply("nothing_to_confirm")
    return True
