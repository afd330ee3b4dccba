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

from sms_board.community.confirmations import answer_yes
from sms_board.community.subscriptions import start_again
from sms_board.handlers.router import CONFIRM_ACTIONS, CONFIRM_STAGE, Context, stage
from sms_board.text.words import says_yes


def answers_yes(ctx: Context) -> bool:
    """A plain YES (`says_yes`): from an opted-out number too, since it may bring the number back."""
    return says_yes(ctx.words.tokens)


@stage(CONFIRM_STAGE, "yes", words={"YES"}, hears_opted_out=answers_yes)
def yes_stage(ctx: Context) -> bool:
    if not answers_yes(ctx):
        return False  # the pipeline let any pending confirmation lapse (`lapse_unless_yes`)
    confirmed = answer_yes(ctx.session, ctx.subscriber, ctx.now, can_do=CONFIRM_ACTIONS)
    if confirmed is not None:
        ctx.handler = f"yes:{confirmed.action}"
        ctx.did()  # what was asked is now confirmed, whatever the action goes on to do
        CONFIRM_ACTIONS[confirmed.action](ctx, confirmed)
        return True
    if ctx.subscriber.opted_out:
        ctx.handler = "start"
        ctx.say(start_again(ctx.session, ctx.subscriber, ctx.inbound, ctx.words, ctx.now))
        return True
    ctx.reply("nothing_to_confirm")
    return True
