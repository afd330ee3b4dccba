"""HELP and INFO: how to use the board (the carrier keyword, not a request for help).

HELP followed by more words is answered and also filed in the organisers'
inbox: "help my mum has fallen" may be a real cry for help.
"""

from __future__ import annotations

from sms_board.community.subscriptions import active_areas
from sms_board.handlers.router import Context, keyword


@keyword("HELP", "INFO")
def help_(ctx: Context) -> None:
    areas = active_areas(ctx.session, ctx.subscriber)
    ctx.reply("help", areas=areas, organiser=bool(ctx.organiser_areas()))
    if len(ctx.words) > 1:
        ctx.file_in_inbox(areas[0] if len(areas) == 1 else None)
