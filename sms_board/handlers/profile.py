"""NAME: the name shown on a resident's posts (never their number)."""

from __future__ import annotations

import regex

from sms_board.handlers.router import Context, keyword

MAX_NAME = 20


@keyword("NAME")
def name(ctx: Context) -> None:
    wanted = " ".join(ctx.words.rest().split())
    # Letters, marks, spaces, apostrophes and hyphens: a name, not a number or a link.
    if not wanted or not regex.fullmatch(r"[\p{L}\p{M}][\p{L}\p{M} '’.-]*", wanted):
        ctx.reply("name_hint", current=ctx.subscriber.name)
        return
    ctx.subscriber.name = wanted[:MAX_NAME].strip()
    ctx.reply("name_set", name=ctx.subscriber.name)
