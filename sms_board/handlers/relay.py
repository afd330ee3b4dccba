"""Relays: `R7 <message>` from one connected neighbour reaches the other, without numbers.

A token is a ref only when it names an existing item: "O2 signal is down" or
"N1 bus diverted" with no #2 or #1 (or with #1 a request: the wrong letter names
nothing) is ordinary text and goes on to the inbox. A lettered ref to an item
the sender is not connected on gets "not connected"; a bare number that is not
one of the sender's connections is ordinary text ("7 people came to the meeting").
"""

from __future__ import annotations

from sms_board.community.exchange import active_matches, display_name, other_party, record
from sms_board.community.languages import reading
from sms_board.community.trusted_helpers import copy_to_helpers
from sms_board.handlers.router import RELAY_STAGE, Context, stage
from sms_board.models import Item, ItemEventAction, OutboxKind
from sms_board.sending.outbox import enqueue
from sms_board.text.languages import SOURCE_LANGUAGE
from sms_board.text.segments import analyse, smart_encode, truncate_to_segments
from sms_board.text.templates import render
from sms_board.text.words import parse_ref

RELAY_SEGMENTS = 3
# Brackets cost two septets each in GSM-7; parentheses one.
CONTINUED_MARKER = "... (cut: text again to say more)"


def relay_text(item: Item, sender_name: str, message: str, language: str = SOURCE_LANGUAGE) -> str:
    """The relayed text: ref and NAME first, the sender's own words, at most three segments.

    A longer message is cut at a word boundary with a marker saying so, rather than
    split into several texts that can arrive out of order.
    """
    full = smart_encode(render("relay", language, ref=item.ref, name=sender_name, message=message))
    if analyse(full).segments <= RELAY_SEGMENTS:
        return full
    return truncate_to_segments(full, RELAY_SEGMENTS, marker=CONTINUED_MARKER)


@stage(RELAY_STAGE, "relay")
def relay(ctx: Context) -> bool:
    if not ctx.words.tokens:
        return False
    token = ctx.words.tokens[0]
    ref = parse_ref(token)
    if ref is None:
        return False
    item = ctx.find_item(token)
    if item is None:
        return False
    lettered = ref.letter is not None or token.startswith("#")
    matches = active_matches(ctx.session, ctx.subscriber, item)
    if not matches:
        if lettered:
            ctx.reply("not_connected", ref=item.ref)
            return True
        return False
    message = ctx.words.rest()
    if not message:
        ctx.reply("relay_empty", ref=item.ref)
        return True
    match = matches[-1]
    if len(matches) > 1 and len(ctx.words) > 1:
        named = [m for m in matches if display_name(other_party(m, ctx.subscriber)).upper() == ctx.words.tokens[1]]
        if len(named) == 1:
            match, message = named[0], ctx.words.rest(2)
    other = other_party(match, ctx.subscriber)
    if other is None:
        ctx.reply("not_connected", ref=item.ref)
        return True
    ctx.handler = "relay"
    for language in reading(ctx.settings, other):
        text = relay_text(item, display_name(ctx.subscriber), message, language)
        enqueue(ctx.session, ctx.settings, other, text, OutboxKind.RELAY, now=ctx.now, about=match)
    copy_to_helpers(ctx.session, ctx.settings, other, OutboxKind.RELAY,
                    lambda language: relay_text(item, display_name(ctx.subscriber), message, language), about=match,
                    now=ctx.now)
    record(ctx.session, item, ItemEventAction.RELAYED, ctx.now, actor=ctx.subscriber, match=match,
           inbound=ctx.inbound.id)
    ctx.did()
    return True
