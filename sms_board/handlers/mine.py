"""MY and BALANCE: a resident's open items, connections and timebank hours."""

from __future__ import annotations

from sqlalchemy import select

from sms_board.community.exchange import active_matches, balance, display_name, other_party
from sms_board.handlers.router import Context, keyword
from sms_board.models import Item, ItemStatus


@keyword("MY", "MINE")
def my(ctx: Context) -> None:
    items = list(ctx.session.scalars(
        select(Item).where(
            Item.author_id == ctx.subscriber.id,
            Item.status.in_([ItemStatus.UNNAMED.value, ItemStatus.PENDING.value, ItemStatus.PUBLISHED.value,
                             ItemStatus.HIDDEN.value]),
        ).order_by(Item.id)
    ))
    connections = [(m.item, display_name(other_party(m, ctx.subscriber))) for m in active_matches(ctx.session, ctx.subscriber)]
    ctx.reply("my", items=items, connections=connections)


@keyword("BALANCE")
def balance_(ctx: Context) -> None:
    given, received, gave, got = balance(ctx.session, ctx.subscriber)
    ctx.reply("balance", given=given, received=received, gave=gave, got=got)
