"""OK, NO, SHARE, DONE (THANKS), CLOSE and UNLINK: from an offer to a finished exchange.

`OK R7` connects a requester with the neighbour who offered (or an offerer
with the neighbour who asked, or one side of an introduction); `NO R7`
declines politely. From an organiser, `ACCEPT J12` / `NO J12` answer a join request. `DONE R7 [hours]` closes the request and writes the
ledger. `CLOSE R7` withdraws one's own item without an exchange (never
`CANCEL`: that is a STOP word). `UNLINK R7` is an organiser ending a relay.
"""

from __future__ import annotations

from sqlalchemy import Select, select

from sms_board.community import audit
from sms_board.community.bridge import ring_helper, voice_only
from sms_board.community.exchange import (
    active_matches,
    close_item,
    complete,
    connect,
    display_name,
    end_match,
    other_party,
    parse_hours,
    pending_responses,
    pick_response,
    record,
    resolve,
    taken_back,
)
from sms_board.community.invites import answer_join_request
from sms_board.community.item_lifecycle import CONNECTED, OPEN, VISIBLE, transition
from sms_board.community.trusted_helpers import ACTIVE, helpers_of
from sms_board.handlers.router import Context, keyword, ref_or_hint
from sms_board.models import (
    AuditAction,
    Item,
    ItemEventAction,
    ItemKind,
    ItemStatus,
    Match,
    MatchStatus,
    Response,
    ResponseStatus,
    Subscriber,
)
from sms_board.sending.delivery import about, told_about


def _selector(ctx: Context) -> str:
    return ctx.words.tokens[2] if len(ctx.words) > 2 else ""


@keyword("OK", "ACCEPT")
def ok(ctx: Context) -> None:
    item = ref_or_hint(ctx, "OK")
    if item is None:
        return
    if item.kind == ItemKind.JOIN:
        ctx.say(answer_join_request(ctx.session, ctx.settings, item, ctx.subscriber, accept=True, now=ctx.now))
        return
    if item.kind == ItemKind.INTRO:
        _accept_intro(ctx, item)
        return
    if item.author_id != ctx.subscriber.id:
        ctx.reply("not_yours", item=item, action="accept")
        return
    if item.status != ItemStatus.PUBLISHED:
        ctx.reply("item_not_open", item=item)
        return
    waiting = pending_responses(ctx.session, item)
    if not waiting:
        gone = taken_back(ctx.session, item)
        if gone is not None:
            ctx.reply("offer_taken_back", item=item, name=display_name(gone.responder), kind=gone.kind)
            return
        if item.kind == ItemKind.REQUEST:
            # The answer to "do you still need help?": keep it open.
            item.reminded_at = None
            record(ctx.session, item, ItemEventAction.KEPT_OPEN, ctx.now, actor=ctx.subscriber)
            ctx.did()
            ctx.reply("kept_open", item=item)
        else:
            ctx.reply("no_offers_yet", item=item)
        return
    chosen = waiting[0] if len(waiting) == 1 and not _selector(ctx) else pick_response(waiting, _selector(ctx))
    if chosen is None:
        ctx.reply("choose_response", item=item, responses=waiting, display_name=display_name)
        return
    if not resolve(ctx.session, chosen, ResponseStatus.ACCEPTED, ctx.now):
        ctx.reply("response_already_answered", item=item)
        return
    assert chosen.responder is not None
    match = connect(ctx.session, item, ctx.subscriber, chosen.responder, ctx.now)
    ctx.did()
    if ctx.settings.voice.enabled and voice_only(chosen.responder):
        # No text reaches them: the board rings them and puts them through, from its own number.
        # The neighbour is told, once, in the call's words, when the requester has a trusted helper who
        # reads their texts.
        ring_helper(ctx.session, ctx.settings, match, item, ctx.subscriber, chosen.responder, ctx.now,
                    helped=_helped(ctx, ctx.subscriber))
        ctx.reply("connected_by_call", item=item, other=display_name(chosen.responder))
        return
    _tell_connected(ctx, item, match, chosen.responder)


def _accept_intro(ctx: Context, intro: Item) -> None:
    # Both sides saying OK at the same moment must see each other's OK: hold the introduction's
    # row while reading its sides (SQLite's BEGIN IMMEDIATE already serialises writers).
    ctx.session.execute(select(Item.id).where(Item.id == intro.id).with_for_update())
    sides = list(ctx.session.scalars(_responses_of(intro).execution_options(populate_existing=True)))
    mine = next((r for r in sides if r.responder_id == ctx.subscriber.id), None)
    if mine is None:
        ctx.reply("not_connected", ref=intro.ref)
        return
    if intro.status != ItemStatus.PUBLISHED or mine.status != ResponseStatus.PENDING:
        ctx.reply("item_not_open", item=intro)
        return
    if not resolve(ctx.session, mine, ResponseStatus.ACCEPTED, ctx.now):
        ctx.reply("response_already_answered", item=intro)
        return
    record(ctx.session, intro, ItemEventAction.INTRO_ACCEPTED, ctx.now, actor=ctx.subscriber)
    ctx.did()
    other = next((r for r in sides if r.id != mine.id), None)
    if other is None or other.status != ResponseStatus.ACCEPTED or other.responder is None:
        ctx.reply("intro_waiting", item=intro)
        return
    if not transition(ctx.session, intro, ItemStatus.CLOSED, allowed_from=VISIBLE, now=ctx.now):
        ctx.reply("item_not_open", item=intro)
        return
    match = connect(ctx.session, intro, other.responder, ctx.subscriber, ctx.now)
    _tell_connected(ctx, intro, match, other.responder)


def _tell_connected(ctx: Context, item: Item, match: Match, other: Subscriber) -> None:
    """Both sides are told they are connected; each is told, once, if the other has an agreed trusted helper
    who reads their texts (docs/helpers.md)."""
    ctx.reply("connected", item=item, other=display_name(other), helped=_helped(ctx, other))
    ctx.notify(other, "connected", about=match, item=item, other=display_name(ctx.subscriber),
               helped=_helped(ctx, ctx.subscriber))


def _helped(ctx: Context, person: Subscriber) -> str:
    """`person`'s name when an agreed trusted helper reads their texts, else ''."""
    return display_name(person) if helpers_of(ctx.session, person, ACTIVE) else ""


def _responses_of(item: Item) -> Select[tuple[Response]]:
    return select(Response).where(Response.item_id == item.id).order_by(Response.number)


@keyword("NO", "DECLINE")
def no(ctx: Context) -> None:
    item = ref_or_hint(ctx, "NO")
    if item is None:
        return
    if item.kind == ItemKind.JOIN:
        ctx.say(answer_join_request(ctx.session, ctx.settings, item, ctx.subscriber, accept=False, now=ctx.now))
        return
    if item.kind == ItemKind.INTRO:
        _decline_intro(ctx, item)
        return
    if item.author_id != ctx.subscriber.id:
        # A helper taking back their own offer.
        own = next((r for r in pending_responses(ctx.session, item) if r.responder_id == ctx.subscriber.id), None)
        if own is None:
            ctx.reply("not_yours", item=item, action="decline")
            return
        if not resolve(ctx.session, own, ResponseStatus.WITHDRAWN, ctx.now):
            ctx.reply("response_already_answered", item=item)
            return
        record(ctx.session, item, ItemEventAction.WITHDRAWN, ctx.now, actor=ctx.subscriber)
        ctx.did()
        ctx.reply("withdrawn_ok", item=item)
        return
    waiting = pending_responses(ctx.session, item)
    chosen = waiting[0] if len(waiting) == 1 and not _selector(ctx) else pick_response(waiting, _selector(ctx))
    if chosen is None:
        if waiting:
            ctx.reply("choose_response", item=item, responses=waiting, display_name=display_name, verb="NO")
        else:
            ctx.reply("no_offers_yet", item=item)
        return
    if not resolve(ctx.session, chosen, ResponseStatus.DECLINED, ctx.now):
        ctx.reply("response_already_answered", item=item)
        return
    record(ctx.session, item, ItemEventAction.DECLINED, ctx.now, actor=ctx.subscriber, response=chosen.number)
    ctx.did()
    if chosen.responder is not None:
        ctx.notify(chosen.responder, "offer_declined", about=chosen, item=item)
    ctx.reply("declined_ok", item=item)


def _decline_intro(ctx: Context, item: Item) -> None:
    sides = list(ctx.session.scalars(_responses_of(item)))
    mine = next((r for r in sides if r.responder_id == ctx.subscriber.id), None)
    if mine is None or item.status != ItemStatus.PUBLISHED:
        ctx.reply("not_connected", ref=item.ref)
        return
    if not resolve(ctx.session, mine, ResponseStatus.DECLINED, ctx.now):
        ctx.reply("response_already_answered", item=item)
        return
    close_item(ctx.session, item, ItemStatus.CLOSED, ctx.now, ctx.subscriber, ItemEventAction.DECLINED)
    ctx.did()
    # A side whose "would you like to meet" was still waiting (now cancelled) never heard of it.
    heard = told_about(ctx.session, about(item_id=item.id))
    for side in sides:
        if side.id != mine.id and side.responder is not None and side.responder.id in heard:
            ctx.notify(side.responder, "intro_declined", about=item, item=item)
    if item.author is not None:
        ctx.notify(item.author, "intro_declined_organiser", about=item, item=item)
    ctx.reply("declined_ok", item=item)


def _my_match(ctx: Context, item: Item) -> Match | None:
    """The sender's open connection on an item; with several, the one named by the third word."""
    matches = active_matches(ctx.session, ctx.subscriber, item)
    if len(matches) > 1 and _selector(ctx):
        named = [m for m in matches if (display_name(other_party(m, ctx.subscriber))).upper() == _selector(ctx)]
        matches = named or matches
    return matches[-1] if matches else None


# Reveals a number: only ever by its owner's choice, so never read from a typo (SHART is not SHARE).
@keyword("SHARE", fuzzy=False)
def share(ctx: Context) -> None:
    item = ref_or_hint(ctx, "SHARE")
    if item is None:
        return
    match = _my_match(ctx, item)
    other = other_party(match, ctx.subscriber) if match else None
    if match is None or other is None:
        ctx.reply("not_connected", ref=item.ref)
        return
    record(ctx.session, item, ItemEventAction.SHARED_NUMBER, ctx.now, actor=ctx.subscriber, match=match)
    ctx.did()
    # The only place a number is ever shown: the owner's own, by their choice, to their match.
    ctx.notify(other, "number_shared", about=match, item=item, name=display_name(ctx.subscriber), number=ctx.subscriber.phone)
    ctx.reply("share_done", item=item, other=display_name(other))


@keyword("DONE", "THANKS", "THANK", fuzzy=False)
def done(ctx: Context) -> None:
    item = ref_or_hint(ctx, "DONE")
    if item is None:
        return
    hours_text = ctx.words.rest(2)
    hours = parse_hours(hours_text) if hours_text else 0.0
    if hours is None:
        hours = 0.0
    match = _my_match(ctx, item)
    if match is None:
        if item.author_id == ctx.subscriber.id and item.status in VISIBLE:
            _close(ctx, item)
            return
        ctx.reply("not_connected", ref=item.ref)
        return
    other = other_party(match, ctx.subscriber)
    exchange = complete(ctx.session, match, hours, ctx.now, ctx.subscriber)
    if exchange is None:  # the other side's DONE came first: one ledger row, one thank-you each
        ctx.reply("not_connected", ref=item.ref)
        return
    ctx.did()
    ctx.reply("done_thanks", item=item, other=display_name(other), hours=exchange.hours, me=True)
    if other is not None:
        ctx.notify(other, "done_thanks", about=match, item=item, other=display_name(ctx.subscriber), hours=exchange.hours, me=False)


@keyword("CLOSE", "WITHDRAW")
def close(ctx: Context) -> None:
    item = ref_or_hint(ctx, "CLOSE")
    if item is None:
        return
    if item.author_id != ctx.subscriber.id:
        ctx.reply("not_yours", item=item, action="close")
        return
    if item.status not in OPEN:
        ctx.reply("item_not_open", item=item)
        return
    _close(ctx, item)


def _close(ctx: Context, item: Item) -> None:
    """The author takes their own item down; whoever was connected on it is told."""
    ended = close_item(ctx.session, item, ItemStatus.CLOSED, ctx.now, ctx.subscriber, ItemEventAction.CLOSED)
    if ended is None:  # closed, rejected or expired a moment ago
        ctx.reply("item_not_open", item=item)
        return
    ctx.did()
    for match, person in ended:
        ctx.notify(person, "connection_ended", about=match, ref=item.ref)
    ctx.reply("closed_ok", item=item)


@keyword("UNLINK")
def unlink(ctx: Context) -> None:
    item = ref_or_hint(ctx, "UNLINK")
    if item is None:
        return
    if item.area_id not in {a.id for a in ctx.organiser_areas()}:
        ctx.reply("organisers_only", action="UNLINK")
        ctx.file_in_inbox(item.area)
        return
    matches = list(ctx.session.scalars(
        select(Match).where(Match.item_id == item.id, Match.status.in_(CONNECTED))
    ))
    if not matches:
        ctx.reply("not_connected", ref=item.ref)
        return
    for match in matches:
        unaware = end_match(ctx.session, match, MatchStatus.UNLINKED, ctx.now, ctx.subscriber, ItemEventAction.UNLINKED)
        if unaware is None:  # ended a moment ago (DONE, an opt-out)
            continue
        for party in (match.owner, match.helper):
            if party is not None and party.id not in unaware:
                ctx.notify(party, "connection_ended", about=match, ref=item.ref)
    audit.record(ctx.session, AuditAction.UNLINK, ctx.now, actor=ctx.subscriber, item=item, connections=len(matches))
    ctx.did()
    ctx.reply("unlinked_ok", item=item, count=len(matches))
