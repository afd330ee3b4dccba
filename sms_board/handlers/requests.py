"""NEED (ASK), OFFER and CAN: asking for help, offering it, and offering on a request.

`ASK O3` asks for a standing offer; `ASK <text>` is a request, but `ASK O2` or
`ASK O999` where no offer O2 or O999 exists gets a hint, never a request whose
text is "O2". `OFFER R7`, `OFFER #7` or `OFFER 7` (alone) offer help on request
7; `OFFER 2 bags of apples` is a standing offer. In both, a bare number followed
by more words is the start of the text, never a ref.
"""

from __future__ import annotations

from dataclasses import dataclass

from sms_board.community.exchange import display_name, is_member, record, respond
from sms_board.community.posting import Form, post_item
from sms_board.handlers.router import Context, keyword, ref_or_hint
from sms_board.models import Item, ItemEventAction, ItemKind, ItemStatus, ResponseKind
from sms_board.text.words import Ref, parse_ref

MAX_TEXT = 320
REQUEST = Form(ItemKind.REQUEST, "NEED", "need_empty", "need_posted", MAX_TEXT)
OFFER = Form(ItemKind.OFFER, "OFFER", "offer_empty", "offer_posted", MAX_TEXT)


def _ref_after_keyword(ctx: Context) -> Ref | None:
    """The second word as a ref, when it is written as one: lettered (`O3`, `#7`), or a bare number alone."""
    if len(ctx.words) < 2:
        return None
    token = ctx.words.tokens[1]
    ref = parse_ref(token)
    if ref is None or (ref.letter is None and not token.startswith("#") and len(ctx.words) > 2):
        return None
    return ref


def _names_an(ctx: Context, kind: ItemKind) -> Item | None:
    """The item of `kind` the second word names, if it is written as a ref and names one."""
    if _ref_after_keyword(ctx) is None:
        return None
    return ctx.find_item(ctx.words.tokens[1], {kind})


@keyword("NEED", "ASK")
def need(ctx: Context) -> None:
    if ctx.words.first == "ASK" and (ref := _ref_after_keyword(ctx)) is not None:
        offer = _names_an(ctx, ItemKind.OFFER)
        if offer is None:
            # A ref that names no offer is a mistaken ref, not a help request whose text is "O2".
            ctx.reply("ref_hint", usage="ASK", ref=str(ref))
            return
        ask_for_offer(ctx, offer)
        return
    ctx.say(post_item(ctx.session, ctx.settings, ctx.subscriber, ctx.words, REQUEST,
                      inbound_id=ctx.inbound.id, now=ctx.now))


@keyword("OFFER")
def offer(ctx: Context) -> None:
    request = _names_an(ctx, ItemKind.REQUEST)
    if request is not None:
        offer_help(ctx, request)
        return
    token = ctx.words.tokens[1] if len(ctx.words) > 1 else ""
    ref = parse_ref(token)
    if len(ctx.words) == 2 and ref is not None:
        # "OFFER R99": clearly meant as a ref, but it names no open request.
        ctx.reply("ref_hint", usage="OFFER", ref=str(ref))
        return
    ctx.say(post_item(ctx.session, ctx.settings, ctx.subscriber, ctx.words, OFFER,
                      inbound_id=ctx.inbound.id, now=ctx.now))


@keyword("CAN")
def can(ctx: Context) -> None:
    request = ref_or_hint(ctx, "CAN", {ItemKind.REQUEST})
    if request is not None:
        offer_help(ctx, request)


def _usable(ctx: Context, item: Item, own_template: str) -> bool:
    """Open, in one of the sender's areas, and not the sender's own: else reply why not."""
    if item.status != ItemStatus.PUBLISHED:
        ctx.reply("item_not_open", item=item)
        return False
    if item.author_id == ctx.subscriber.id:
        ctx.reply(own_template, item=item)
        return False
    if not is_member(ctx.session, ctx.subscriber, item.area_id):
        ctx.reply("item_other_area", item=item, area=item.area)
        return False
    return True


@dataclass(frozen=True)
class _Answer:
    """How one kind of answer to an item goes: CAN on a request, ASK on an offer."""

    kind: ResponseKind
    own: str  # template when it is the sender's own item
    action: ItemEventAction  # the event in the item's history
    to_owner: str  # template for the item's owner
    to_sender: str  # template for the sender


_OFFER_HELP = _Answer(ResponseKind.OFFER, "own_request", ItemEventAction.OFFERED, "offer_received", "offer_passed_on")
_ASK_FOR_OFFER = _Answer(ResponseKind.ASK, "own_offer", ItemEventAction.ASKED, "ask_received", "ask_passed_on")


def offer_help(ctx: Context, request: Item) -> None:
    _answer(ctx, request, _OFFER_HELP)


def ask_for_offer(ctx: Context, offer: Item) -> None:
    _answer(ctx, offer, _ASK_FOR_OFFER)


def _answer(ctx: Context, item: Item, how: _Answer) -> None:
    if not _usable(ctx, item, how.own):
        return
    response = respond(ctx.session, item, ctx.subscriber, how.kind, ctx.now)
    if response is None:
        ctx.reply("already_responded", item=item)
        return
    record(ctx.session, item, how.action, ctx.now, actor=ctx.subscriber, response=response.number)
    ctx.did()
    if item.author is not None:
        ctx.notify(item.author, how.to_owner, about=response, item=item, name=display_name(ctx.subscriber), area=item.area,
                   number=response.number, named=bool(ctx.subscriber.name))
    ctx.reply(how.to_sender, item=item)
