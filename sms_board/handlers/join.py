"""JOIN, LEAVE and AREAS: which areas a resident hears from.

A public area is joined by slug, name or postcode. A private one is listed nowhere and
found by no postcode: `JOIN CARERS K7Q4-2M` joins with an invite code, and `JOIN CARERS`
alone files a join request (`#J12`) that its organisers answer with `ACCEPT J12` or
`NO J12` (`community.invites.answer_join_request`, called from those keywords).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sms_board.community.areas import (
    area_by_name,
    find_area,
    nearest_areas,
    public_area_by_postcode,
)
from sms_board.community.exchange import is_member, withdraw_responses
from sms_board.community.invites import (
    Joined,
    code_shaped,
    request_to_join,
    use_code,
)
from sms_board.community.languages import welcome_texts
from sms_board.community.subscriptions import active_areas, leave, subscribe
from sms_board.handlers.router import Context, keyword
from sms_board.models import Area


def _wanted(ctx: Context) -> tuple[Area | None, str | None]:
    """The area the resident asked for, and the invite code after its name, if any."""
    wanted = ctx.words.rest()
    if not wanted:
        return None, None
    named = area_by_name(ctx.session, wanted)
    if named is not None:
        return named, None
    if len(ctx.words) > 2 and code_shaped(ctx.words.tokens[-1]):
        before = " ".join(ctx.words.original.split()[1:-1])
        named = area_by_name(ctx.session, before)
        if named is not None and named.private:
            return named, ctx.words.tokens[-1]
    return public_area_by_postcode(ctx.session, wanted), None


@keyword("JOIN", "SUBSCRIBE")
def join(ctx: Context) -> None:
    area, code = _wanted(ctx)
    if area is None:
        wanted = ctx.words.rest()
        ctx.reply("join_which", areas=nearest_areas(ctx.session, wanted), wanted=wanted)
        return
    if area.private:
        _join_private(ctx, area, code)
        return
    welcome = welcome_texts(ctx.settings, ctx.subscriber, area)
    joined = subscribe(
        ctx.session, ctx.subscriber, area, words=ctx.words.original, wording="\n\n".join(welcome),
        channel="sms", now=ctx.now, inbound_id=ctx.inbound.id,
    )
    ctx.did(joined)
    if joined:
        ctx.replies.extend(welcome)
    else:
        ctx.reply("join_already", area=area)


def _join_private(ctx: Context, area: Area, code: str | None) -> None:
    if is_member(ctx.session, ctx.subscriber, area.id):
        ctx.reply("join_already", area=area)
        return
    if code is None:
        request, new = request_to_join(ctx.session, area, ctx.subscriber, ctx.words.original, ctx.now,
                                       inbound_id=ctx.inbound.id)
        ctx.did(new)
        ctx.reply("join_requested", area=area, item=request, new=new)
        return
    welcome = welcome_texts(ctx.settings, ctx.subscriber, area)
    result = use_code(ctx.session, ctx.settings, area, ctx.subscriber, code, words=ctx.words.original,
                      wording="\n\n".join(welcome), now=ctx.now, inbound_id=ctx.inbound.id)
    ctx.did(result.outcome.changed)
    if result.outcome == Joined.JOINED:
        ctx.replies.extend(welcome)
        return
    until = result.locked_until.astimezone(ZoneInfo(area.timezone)).strftime("%H:%M") if result.locked_until else None
    ctx.reply("join_code_refused", outcome=result.outcome.value, area=area, until=until)


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
    # An offer or ask made in an area one has left is taken back (CAN needs the area, too).
    withdraw_responses(ctx.session, ctx.subscriber, ctx.now, [area.id for area in left])
    ctx.did(bool(left))
    remaining = [a for a in current if a not in left]
    ctx.reply("leave_done", left=left, remaining=remaining)


@keyword("AREAS")
def areas(ctx: Context) -> None:
    wanted = ctx.words.rest()
    ctx.reply("areas", areas=nearest_areas(ctx.session, wanted, limit=8), mine=active_areas(ctx.session, ctx.subscriber))
