"""POST (NOTICE): a notice for the resident's area."""

from __future__ import annotations

from sms_board.areas import find_area
from sms_board.handlers.router import Context, keyword
from sms_board.models import Item, ItemKind, ItemStatus
from sms_board.subscriptions import active_areas

MAX_POST = 480  # three GSM-7 segments' worth: a notice, not an essay


def choose_area(ctx: Context, keyword_name: str):  # type: ignore[no-untyped-def]
    """The area a post goes to and the text after any area word, or None after replying with a hint."""
    areas = active_areas(ctx.session, ctx.subscriber)
    if not areas:
        ctx.reply("need_area", keyword=keyword_name)
        return None
    text = ctx.words.rest()
    if len(areas) > 1 and len(ctx.words) > 2:
        named = find_area(ctx.session, ctx.words.tokens[1])
        if named is not None and named in areas:
            return named, ctx.words.rest(2)
    if len(areas) == 1:
        return areas[0], text
    ctx.reply("which_area", keyword=keyword_name, areas=areas)
    return None


@keyword("POST", "NOTICE")
def post(ctx: Context) -> None:
    if not ctx.words.rest():
        ctx.reply("post_empty")
        return
    chosen = choose_area(ctx, "POST")
    if chosen is None:
        return
    area, text = chosen
    if not text:
        ctx.reply("post_empty")
        return
    truncated = len(text) > MAX_POST
    item = Item(
        kind=ItemKind.NOTICE.value, area_id=area.id, author_id=ctx.subscriber.id,
        author_name=ctx.subscriber.name, body=text[:MAX_POST], status=ItemStatus.PUBLISHED.value,
        inbound_id=ctx.inbound.id, created_at=ctx.now, published_at=ctx.now,
    )
    ctx.session.add(item)
    ctx.session.flush()
    ctx.reply("post_published", item=item, area=area, truncated=truncated, max=MAX_POST,
              named=bool(ctx.subscriber.name))
