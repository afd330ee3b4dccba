"""FORGET → YES: a resident erases their personal data from the board."""

from __future__ import annotations

from sms_board.community.confirmations import ask
from sms_board.community.privacy import forget
from sms_board.community.trusted_helpers import end_everything_of
from sms_board.handlers.router import Context, confirm_action, keyword
from sms_board.models import Confirmation


@keyword("FORGET", fuzzy=False)
def forget_me(ctx: Context) -> None:
    ask(ctx.session, ctx.subscriber, "forget", {}, ctx.now)
    ctx.did()
    ctx.reply("forget_confirm")


@confirm_action("forget")
def confirmed(ctx: Context, pending: Confirmation) -> None:
    end_everything_of(ctx.session, ctx.settings, ctx.subscriber, ctx.now, why="FORGET")
    # The neighbours are told first: after this, the board no longer knows who was connected.
    erased = forget(ctx.session, ctx.settings.suppression_key, ctx.subscriber, ctx.now, ctx.settings.first_language)
    for match, neighbour in erased:
        ctx.notify(neighbour, "connection_ended", about=match, ref=match.item.ref)
    ctx.inbound.from_number = "forgotten"
    ctx.inbound.body = ""
    ctx.inbound.params = {}
    ctx.inbound.subscriber_id = None
    ctx.reply("forget_done")
