"""Anything else: kept in the organisers' inbox, never dropped, with one short hint a day."""

from __future__ import annotations

from datetime import timedelta

from sms_board.community.subscriptions import active_areas
from sms_board.handlers.router import INBOX_STAGE, Context, stage

HINT_EVERY = timedelta(days=1)


@stage(INBOX_STAGE, "inbox")
def inbox(ctx: Context) -> bool:
    areas = active_areas(ctx.session, ctx.subscriber)
    ctx.file_in_inbox(among=areas)
    last = ctx.subscriber.last_hint_at
    if last is None or ctx.now - last >= HINT_EVERY:
        ctx.subscriber.last_hint_at = ctx.now
        ctx.reply("inbox_hint", joined=bool(areas))
    return True
