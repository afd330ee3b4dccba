"""NAME: the name shown on a resident's posts (never their number).

Posts kept waiting for a NAME (areas whose posts can be held need one) go on as soon
as it arrives: published, or to the organisers for their OK.
"""

from __future__ import annotations

from sms_board.community.moderation import release_unnamed
from sms_board.community.people import MAX_NAME, is_name
from sms_board.handlers.router import Context, keyword
from sms_board.models import ItemStatus


@keyword("NAME")
def name(ctx: Context) -> None:
    wanted = " ".join(ctx.words.rest().split())
    if not wanted or not is_name(wanted):
        ctx.reply("name_hint", current=ctx.subscriber.name)
        return
    before, ctx.subscriber.name = ctx.subscriber.name, wanted[:MAX_NAME].strip()
    released = release_unnamed(ctx.session, ctx.settings, ctx.subscriber, ctx.now)
    ctx.did(ctx.subscriber.name != before or bool(released))
    ctx.reply("name_set", name=ctx.subscriber.name,
              published=[i for i in released if i.status == ItemStatus.PUBLISHED],
              held=[i for i in released if i.status == ItemStatus.PENDING])
