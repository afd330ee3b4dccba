"""POST (NOTICE): a notice for the resident's area.

What residents post (notices here, requests and offers in `requests`) follows the
area's moderation policy: published at once, held for an organiser's OK, or kept until
the resident gives a NAME (`community.posting`, which all three keywords share).
"""

from __future__ import annotations

from sms_board.community.posting import Form, post_item
from sms_board.handlers.router import Context, keyword
from sms_board.models import ItemKind

MAX_POST = 480  # three GSM-7 segments' worth: a notice, not an essay
NOTICE = Form(ItemKind.NOTICE, "POST", "post_empty", "post_published", MAX_POST)


@keyword("POST", "NOTICE")
def post(ctx: Context) -> None:
    ctx.say(post_item(ctx.session, ctx.settings, ctx.subscriber, ctx.words, NOTICE,
                      inbound_id=ctx.inbound.id, now=ctx.now))
