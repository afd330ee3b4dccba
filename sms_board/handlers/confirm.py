"""YES: confirms the sender's one pending confirmation (newest wins, 15 minutes, once).

`YES please`, `Yes!` and `yes ok` (YES with at most two courtesy words) are a YES too.
Any other text lets a pending confirmation lapse, STOP, START and HELP included, though
they are answered before YES is read: the pipeline calls `lapse_unless_yes` for every text
before routing it, so `FORGET`, `HELP`, `YES` erases nobody.

With nothing pending, YES opts an opted-out number back in, else says there is
nothing to confirm. Features that need a confirmation ask for it (`community.confirmations.ask`)
and register what YES does with the router (`router.confirm_action`).
"""

from __future__ import annotations

from sqlalchemy import select

from sms_board.community.confirmations import lapse_pending
from sms_board.community.subscriptions import start_again
from sms_board.handlers.router import CONFIRM_ACTIONS, CONFIRM_STAGE, Context, stage
from sms_board.models import Confirmation
from sms_board.text.words import says_yes


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
        ctx.did()  # whatever the action then finds, the confirmation is used up
        ctx.handler = f"yes:{pending.action}"
        action(ctx, pending)
        return True
    if ctx.subscriber.opted_out:
        ctx.handler = "start"
        ctx.say(start_again(ctx.session, ctx.subscriber, ctx.inbound, ctx.words, ctx.now))
        return True
    ctx.reply("nothing_to_confirm")
    return True
