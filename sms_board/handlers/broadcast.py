"""BROADCAST (ALL) and URGENT: an organiser's message to everyone in their areas, after a YES.

The preview stores a draft campaign and asks for YES (15 minutes, the newest
wins); YES only marks it confirmed, after `campaign_lifecycle.may_confirm` (the
dashboard's Confirm asks the same). The clock fans it out within a minute,
never this webhook request. An organiser of several areas reaches all of them,
or one with `BROADCAST ELM <message>` (the area's slug as the first word).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sms_board.broadcast.billing import money
from sms_board.broadcast.broadcasts import (
    confirm_broadcast,
    count_audience,
    create_broadcast,
    preview_broadcast,
)
from sms_board.broadcast.campaign_lifecycle import Refusal
from sms_board.broadcast.campaigns import areas_of
from sms_board.community.confirmations import ask
from sms_board.community.subscriptions import active_areas
from sms_board.handlers.router import Context, confirm_action, keyword
from sms_board.models import Area, Campaign, Confirmation
from sms_board.sending.quiet import held_until


@keyword("BROADCAST")
def broadcast(ctx: Context) -> None:
    _preview(ctx, "BROADCAST", urgent=False)


@keyword("ALL", fuzzy=False)
def all_(ctx: Context) -> None:
    # "All fine here, thanks" from a resident is ordinary text, not a refused broadcast.
    if not ctx.organiser_areas():
        ctx.take_as_ordinary_text()
        return
    _preview(ctx, "BROADCAST", urgent=False)


@keyword("URGENT")
def urgent(ctx: Context) -> None:
    _preview(ctx, "URGENT", urgent=True)


def _targets(ctx: Context, areas: list[Area]) -> tuple[list[Area], str]:
    """All the organiser's areas, or the one whose slug is the first word (when they have several)."""
    if len(areas) > 1 and len(ctx.words) > 2:
        named = ctx.words.tokens[1].lower()
        for area in areas:
            if area.slug == named:
                return [area], ctx.words.rest(2)
    return areas, ctx.words.rest()


def _refuse(ctx: Context, *, urgent: bool) -> None:
    # Not an organiser: the words may still matter (URGENT may be a cry for help), so they are kept.
    mine = active_areas(ctx.session, ctx.subscriber)
    ctx.file_in_inbox(mine[0] if len(mine) == 1 else None)
    ctx.reply("broadcast_not_organiser", urgent=urgent)


def _preview(ctx: Context, keyword_name: str, *, urgent: bool) -> None:
    areas = ctx.organiser_areas()
    if not areas:
        _refuse(ctx, urgent=urgent)
        return
    targets, text = _targets(ctx, areas)
    if not text:
        ctx.reply("broadcast_empty", keyword=keyword_name, areas=areas)
        return
    preview = preview_broadcast(ctx.session, ctx.settings, targets, text, urgent=urgent, sender=ctx.subscriber)
    if preview.recipients == 0:
        ctx.reply("broadcast_nobody", areas=targets)
        return
    campaign = create_broadcast(ctx.session, preview, urgent=urgent, now=ctx.now, created_by=ctx.subscriber)
    ask(ctx.session, ctx.subscriber, "broadcast", {"campaign_id": campaign.id}, ctx.now)
    ctx.did()
    ctx.reply("broadcast_preview", areas=targets, recipients=preview.recipients, segments=preview.segments,
              cost=money(preview.cost, ctx.settings), urgent=urgent)


@confirm_action("broadcast")
def confirm(ctx: Context, pending: Confirmation) -> None:
    campaign = ctx.session.get(Campaign, pending.payload.get("campaign_id"))
    if campaign is None:
        ctx.reply("nothing_to_confirm")
        return
    refusal = confirm_broadcast(ctx.session, campaign, ctx.now, confirmed_by=ctx.subscriber)
    if refusal == Refusal.NOT_ORGANISER:
        # Organisers can be removed in the 15 minutes a preview waits: the draft is cancelled.
        _refuse(ctx, urgent=campaign.urgent)
        return
    if refusal is not None:
        ctx.reply("nothing_to_confirm")
        return
    areas = areas_of(ctx.session, campaign)
    recipients = count_audience(ctx.session, [a.id for a in areas], exclude_id=ctx.subscriber.id)
    zone = areas[0].timezone
    held = held_until(ctx.now, ctx.settings, zone, urgent=campaign.urgent)
    ctx.reply("broadcast_confirmed", areas=areas, recipients=recipients, urgent=campaign.urgent,
              held_at=held.astimezone(ZoneInfo(zone)).strftime("%H:%M") if held else None)
