"""JOIN, LEAVE and AREAS: which areas a resident hears from."""

from __future__ import annotations

from sms_board.community.areas import find_area, nearest_areas
from sms_board.community.subscriptions import active_areas, leave, subscribe
from sms_board.handlers.router import Context, keyword
from sms_board.texts import render


@keyword("JOIN", "SUBSCRIBE")
def join(ctx: Context) -> None:
    wanted = ctx.words.rest()
    area = find_area(ctx.session, wanted) if wanted else None
    if area is None or area.private:
        ctx.reply("join_which", areas=nearest_areas(ctx.session, wanted), wanted=wanted, private=area is not None)
        return
    welcome = render("join_welcome", area=area, named=bool(ctx.subscriber.name))
    joined = subscribe(
        ctx.session, ctx.subscriber, area, words=ctx.words.original, wording=welcome,
        channel="sms", now=ctx.now, inbound_id=ctx.inbound.id,
    )
    ctx.replies.append(welcome if joined else render("join_already", area=area))


@keyword("LEAVE")
def leave_(ctx: Context) -> None:
    current = active_areas(ctx.session, ctx.subscriber)
    wanted = ctx.words.rest()
    if wanted and ctx.words.tokens[1:] != ("ALL",):
        area = find_area(ctx.session, wanted)
        targets = [a for a in current if area is not None and a.id == area.id]
        if not targets:
            ctx.reply("leave_not_member", wanted=wanted, areas=current)
            return
    else:
        targets = current
    if not targets:
        ctx.reply("leave_not_member", wanted=wanted, areas=current)
        return
    left = leave(ctx.session, ctx.subscriber, targets, words=ctx.words.original, channel="sms", now=ctx.now,
                 inbound_id=ctx.inbound.id)
    remaining = [a for a in current if a not in left]
    ctx.reply("leave_done", left=left, remaining=remaining)


@keyword("AREAS")
def areas(ctx: Context) -> None:
    wanted = ctx.words.rest()
    ctx.reply("areas", areas=nearest_areas(ctx.session, wanted, limit=8), mine=active_areas(ctx.session, ctx.subscriber))
