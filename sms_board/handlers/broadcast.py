"""BROADCAST (ALL) and URGENT: an organiser's message to everyone in their areas, after a YES.

The preview stores a draft campaign and asks for YES (15 minutes, the newest
wins); YES only marks it confirmed, after `campaign_lifecycle.may_confirm` (the
dashboard's Confirm asks the same). The clock fans it out within a minute,
never this webhook request. An organiser of several areas reaches all of them,
or one with `BROADCAST ELM <message>` (the area's slug as the first word).

On a board of several languages the organiser may write one version per language:
`BROADCAST CY <message>`, then `BROADCAST EN <message>` before YES (an area word comes
first: `BROADCAST ELM CY …`). A BROADCAST naming a language while the organiser's own
preview with versions is pending adds that version to it and sends the preview again:
the one exception to "any other text lets a pending confirmation lapse", which the
pipeline leaves to this handler for such texts (`names_a_version`). A code of a
language pack the board does not speak is refused, naming the board's languages;
any other first word is the message's own (docs/broadcasts.md, "Versions").
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sms_board.broadcast import campaign_lifecycle
from sms_board.broadcast.billing import money
from sms_board.broadcast.broadcasts import (
    Preview,
    confirm_broadcast,
    count_audience,
    create_broadcast,
    preview_broadcast,
    versions_of,
)
from sms_board.broadcast.campaign_lifecycle import Refusal
from sms_board.broadcast.campaigns import areas_of
from sms_board.community.confirmations import ask, lapse_pending, newest_pending
from sms_board.community.subscriptions import active_areas
from sms_board.handlers.router import Context, confirm_action, keyword, lookup_keyword
from sms_board.models import Area, Campaign, CampaignStatus, Confirmation
from sms_board.sending.quiet import held_until
from sms_board.text.languages import available, pack
from sms_board.text.words import Words

ACTION = "broadcast"
# The keywords whose text may name a language (ALL is BROADCAST's other name).
_BROADCASTING = frozenset({"BROADCAST", "ALL", "URGENT"})


@keyword("BROADCAST")
def broadcast(ctx: Context) -> None:
    _preview(ctx, "BROADCAST", urgent=False)


@keyword("ALL", fuzzy=False)
def all_(ctx: Context) -> None:
    # "All fine here, thanks" from a resident is ordinary text, not a refused broadcast.
    if not ctx.organiser_areas():
        _settle_pending(ctx)
        ctx.take_as_ordinary_text()
        return
    _preview(ctx, "BROADCAST", urgent=False)


@keyword("URGENT")
def urgent(ctx: Context) -> None:
    _preview(ctx, "URGENT", urgent=True)


def names_a_version(words: Words, languages: tuple[str, ...]) -> bool:
    """Whether a text is a BROADCAST (ALL, URGENT) whose first or second word after the keyword is a code
    of the board's languages: one that may add its version to the sender's pending preview.

    Words only, no SQL: the pipeline asks it of every text with a confirmation pending, before routing,
    and leaves the pending confirmation to this handler when it says yes (`_settle_pending`).
    """
    if len(words) < 3:
        return False
    found = lookup_keyword(words.first)
    if found is None or found.name not in _BROADCASTING:
        return False
    return any(token.lower() in languages for token in words.tokens[1:3])


def _settle_pending(ctx: Context) -> Campaign | None:
    """Let the sender's pending confirmation lapse (as any text but YES does), returning the draft it was for
    when it is the sender's own broadcast preview still waiting: a version named now may be added to it."""
    if not ctx.pending_left:
        return None
    ctx.pending_left = False
    pending = newest_pending(ctx.session, ctx.subscriber, ctx.now)
    lapse_pending(ctx.session, ctx.subscriber, ctx.now)
    if pending is None or pending.action != ACTION:
        return None
    draft = ctx.session.get(Campaign, pending.payload.get("campaign_id"))
    if draft is None or draft.status != CampaignStatus.DRAFT or draft.created_by_id != ctx.subscriber.id:
        return None
    return draft


@dataclass(frozen=True)
class Request:
    """What a BROADCAST text asks for: its areas, its language (None: one text for everyone) and its words."""

    areas: list[Area]
    named_area: bool
    language: str | None
    text: str
    refused_code: str | None = None  # a language pack's code the board does not speak


def _read(ctx: Context, areas: list[Area]) -> Request:
    """All the organiser's areas, or the one whose slug is the first word (when they have several, or when a
    language code follows it); then a language code, if the next word is one; then the message."""
    tokens, start, targets, named = ctx.words.tokens, 1, areas, False
    if len(tokens) > 2:
        slug = tokens[1].lower()
        followed_by_code = tokens[2].lower() in available()
        for area in areas:
            if area.slug == slug and (len(areas) > 1 or followed_by_code):
                start, targets, named = 2, [area], True
    code = tokens[start].lower() if len(tokens) > start else None
    if code is None or code not in available():
        return Request(targets, named, None, ctx.words.rest(start))
    if code not in ctx.settings.languages:
        return Request(targets, named, None, "", refused_code=code)
    return Request(targets, named, code, ctx.words.rest(start + 1))


def _refuse(ctx: Context, *, urgent: bool) -> None:
    # Not an organiser: the words may still matter (URGENT may be a cry for help), so they are kept.
    mine = active_areas(ctx.session, ctx.subscriber)
    ctx.file_in_inbox(mine[0] if len(mine) == 1 else None)
    ctx.reply("broadcast_not_organiser", urgent=urgent)


def _preview(ctx: Context, keyword_name: str, *, urgent: bool) -> None:
    waiting = _settle_pending(ctx)
    areas = ctx.organiser_areas()
    if not areas:
        _refuse(ctx, urgent=urgent)
        return
    request = _read(ctx, areas)
    if request.refused_code is not None:
        ctx.reply("broadcast_language_refused", code=request.refused_code.upper(), urgent=urgent,
                  languages=[(pack(code).name, code.upper()) for code in ctx.settings.languages],
                  example=ctx.settings.languages[0].upper())
        return
    if not request.text:
        ctx.reply("broadcast_empty", keyword=keyword_name, areas=areas)
        return
    targets: list[Area] = request.areas
    words: str | dict[str, str] = request.text
    if request.language is not None:
        words = {request.language: request.text}
        if waiting is not None and _joins(ctx, waiting, request, urgent=urgent):
            # The pending preview's versions and this one make a new draft; the pending one is cancelled
            # (unless it was confirmed or lapsed a moment ago: then this version starts a preview of its own).
            kept = {v.language: v.text for v in versions_of(ctx.session, waiting) if v.language}
            areas_kept = areas_of(ctx.session, waiting)
            if campaign_lifecycle.replace(ctx.session, waiting, ctx.now):
                targets, words = areas_kept, {**kept, **words}
    preview = preview_broadcast(ctx.session, ctx.settings, targets, words, urgent=urgent, sender=ctx.subscriber)
    if preview.recipients == 0:
        ctx.reply("broadcast_nobody", areas=targets)
        return
    campaign = create_broadcast(ctx.session, preview, urgent=urgent, now=ctx.now, created_by=ctx.subscriber)
    ask(ctx.session, ctx.subscriber, ACTION, {"campaign_id": campaign.id}, ctx.now)
    ctx.did()
    if preview.by_language:
        ctx.reply("broadcast_versions_preview", **_versions_data(ctx, preview, urgent=urgent))
        return
    ctx.reply("broadcast_preview", areas=targets, recipients=preview.recipients, segments=preview.segments,
              cost=money(preview.cost, ctx.settings), urgent=urgent)


def _joins(ctx: Context, draft: Campaign, request: Request, *, urgent: bool) -> bool:
    """Whether a version may be added to this pending draft: one written by language, of the same kind
    (BROADCAST or URGENT), to the same areas (a version that names no area joins the draft's)."""
    if not draft.by_language or draft.urgent != urgent:
        return False
    return not request.named_area or list(draft.area_ids or []) == [area.id for area in request.areas]


def _versions_data(ctx: Context, preview: Preview, *, urgent: bool) -> dict[str, object]:
    """What `broadcast_versions_preview` says: each version's readers and cost, who gets every version,
    and which languages have no version of their own and what their readers get instead."""
    settings = ctx.settings
    return {
        "areas": preview.areas, "recipients": preview.recipients, "cost": money(preview.cost, settings),
        "urgent": urgent, "unknown": preview.unknown if len(preview.versions) > 1 else 0,
        "versions": [{"name": pack(v.language).name if v.language else "", "text": v.text, "readers": v.readers,
                      "segments": v.segments, "cost": money(v.cost, settings)} for v in preview.versions],
        "missing": [{"name": pack(code).name, "code": code.upper(), "readers": readers}
                    for code, readers in preview.uncovered],
        "fallback": pack(preview.fallback).name if preview.fallback else None,
    }


@confirm_action(ACTION)
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
