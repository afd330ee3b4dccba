"""POST (NOTICE): a notice for the resident's area.

What residents post (notices here, requests and offers in `requests`) follows the
area's moderation policy: published at once, held for an organiser's OK, or kept until
the resident gives a NAME (`community.moderation`).
"""

from __future__ import annotations

from datetime import timedelta

from sms_board.community.areas import area_named_first
from sms_board.community.exchange import record
from sms_board.community.moderation import status_for_new, submitted
from sms_board.community.subscriptions import nameable_areas
from sms_board.handlers.router import Context, keyword
from sms_board.models import Area, Item, ItemKind, ItemStatus

MAX_POST = 480  # three GSM-7 segments' worth: a notice, not an essay


def choose_area(ctx: Context, keyword_name: str) -> tuple[Area, str] | None:
    """The area a post goes to and the text after any area word, or None after replying with a hint.

    The first word after the keyword, when it names one of the sender's areas, is the target
    however many areas they are in (the "Which area?" reply teaches `POST ELM <msg>`), and is
    no part of the text. Naming a public area they are not in gets how to join it, or how to
    post at home: their own area word first, after which the text is kept whole.
    """
    mine, others = nameable_areas(ctx.session, ctx.subscriber)
    named = area_named_first([*mine, *others], ctx.words.tokens[1:])
    if named is not None:
        area, words = named
        if area in mine:
            return area, ctx.words.rest(1 + words)
        ctx.reply("not_in_area", area=area, areas=mine, keyword=keyword_name)
        return None
    if not mine:
        ctx.reply("need_area", keyword=keyword_name)
        return None
    if len(mine) == 1:
        return mine[0], ctx.words.rest()
    ctx.reply("which_area", keyword=keyword_name, areas=mine)
    return None


def new_item(
    ctx: Context, kind: ItemKind, keyword_name: str, empty_template: str, max_length: int
) -> tuple[Item, bool] | None:
    """A new item from the words after the keyword (and any area word), and whether it was cut.

    Published, or held as the area's moderation says. None after replying with a hint
    (no text, or no area to put it in).
    """
    if not ctx.words.rest():
        ctx.reply(empty_template)
        return None
    chosen = choose_area(ctx, keyword_name)
    if chosen is None:
        return None
    area, text = chosen
    if not text:
        ctx.reply(empty_template)
        return None
    status = status_for_new(ctx.session, area, ctx.subscriber)
    published = status == ItemStatus.PUBLISHED
    item = Item(
        kind=kind.value, area_id=area.id, author_id=ctx.subscriber.id, author_name=ctx.subscriber.name,
        body=text[:max_length], status=status.value, inbound_id=ctx.inbound.id,
        created_at=ctx.now, published_at=ctx.now if published else None, last_activity_at=ctx.now,
        expires_at=ctx.now + timedelta(days=ctx.settings.request_expire_days)
        if kind == ItemKind.REQUEST and published else None,
        # Known now, so recording its first event writes nothing more to the row.
        reminded_at=None, closed_at=None,
    )
    item.area = area  # already loaded: the reply that names it needs no query
    ctx.session.add(item)
    ctx.session.flush()
    record(ctx.session, item, "opened", ctx.now, actor=ctx.subscriber)
    submitted(ctx.session, item, ctx.now)
    return item, len(text) > max_length


def announce(ctx: Context, item: Item, published_template: str, **data: object) -> None:
    """The reply to a new item: as published, held for an organiser, or waiting for a NAME."""
    if item.status == ItemStatus.UNNAMED.value:
        ctx.reply("post_needs_name", item=item, area=item.area)
    elif item.status == ItemStatus.PENDING.value:
        ctx.reply("post_held", item=item, area=item.area)
    else:
        ctx.reply(published_template, item=item, area=item.area, **data)


@keyword("POST", "NOTICE")
def post(ctx: Context) -> None:
    created = new_item(ctx, ItemKind.NOTICE, "POST", "post_empty", MAX_POST)
    if created is None:
        return
    item, truncated = created
    announce(ctx, item, "post_published", truncated=truncated, max=MAX_POST, named=bool(ctx.subscriber.name))
