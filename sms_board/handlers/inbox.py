"""Anything else: kept in the organisers' inbox, never dropped, with one short hint a day
(`Context.take_as_ordinary_text`, which keywords that hand a text on call too)."""

from __future__ import annotations

from sms_board.handlers.router import INBOX_STAGE, Context, stage


@stage(INBOX_STAGE, "inbox")
def inbox(ctx: Context) -> bool:
    ctx.take_as_ordinary_text()
    return True
