"""Texts that may be an emergency, and organisers answering them with `U<id> <message>`.

Every text is read against the urgent phrases (`sms_board.text.urgent`) before any keyword: `HELP
I have fallen` (in the HELP stage), `I've fallen and can't get up`, and sentences that only
start like a keyword (`My husband can't breathe` is not MY, `No heating and I'm 87` is not
NO). One that may be an emergency is answered "call 999" first (never withheld by loop
protection), marked "may be urgent" at the top of the inbox, and texted at once to the
organisers of the sender's areas (`community.alerts.alert_urgent`). *Decided:* a POST, NEED
or OFFER with such words is also published as asked (the alarm comes first); a relay between
connected neighbours, an organiser's answer and an organiser's own keywords (a `URGENT gas
leak` broadcast) are conversations and actions, not cries for help.
That alert's ref, `U` and the text's number, is how an organiser answers by SMS: `U12 Are
you hurt?` reaches the resident from the board's number, signed by the area's organisers,
numbers hidden both ways, as the dashboard's inbox reply does. `U` clashes with no item
letter (N, R, O, I, J) nor a helper's H; from anyone who may not read that text in the
inbox, or for a text that is not urgent, it is ordinary text.
"""

from __future__ import annotations

import re

from sms_board.community.exchange import active_matches
from sms_board.community.inbox import MAX_REPLY_CHARACTERS, ReplyRefused, answer, kept_text
from sms_board.handlers.router import ANSWER_STAGE, URGENT_STAGE, Context, lookup_keyword, stage
from sms_board.models import InboundMessage
from sms_board.text.phone import mask
from sms_board.text.urgent import may_be_urgent
from sms_board.text.words import parse_ref

ANSWER_LETTER = "U"
_ANSWER_REF = re.compile(rf"^{ANSWER_LETTER}(\d{{1,12}})$")
# Keywords that publish the resident's words: they still do, after the alarm.
_PUBLISHING = frozenset({"POST", "NEED", "OFFER"})


def _a_conversation(ctx: Context) -> bool:
    """A relay to a connected neighbour (`R8 …`), or an organiser's answer (`U12 …`)."""
    first = ctx.words.first
    if parse_ref(first) is not None:
        item = ctx.find_item(first)
        return item is not None and bool(active_matches(ctx.session, ctx.subscriber, item))
    return _answerable(ctx) is not None


@stage(URGENT_STAGE, "emergency")
def urgent_stage(ctx: Context) -> bool:
    if not may_be_urgent(ctx.words) or _a_conversation(ctx):
        return False
    keyword = lookup_keyword(ctx.words.first, ctx.settings.languages)
    if keyword is not None and (ctx.subscriber.is_admin or ctx.organiser_areas()):
        return False
    ctx.file_in_inbox()
    ctx.raise_the_alarm()
    ctx.reply("urgent_reply")
    return keyword is None or keyword.name not in _PUBLISHING


def _answerable(ctx: Context) -> InboundMessage | None:
    """The urgent inbox text `U12` names, if the sender looks after its sender (may read it in the inbox)."""
    found = _ANSWER_REF.match(ctx.words.first)
    if found is None:
        return None
    areas = ctx.organiser_areas()
    if not (areas or ctx.subscriber.is_admin):
        return None
    return kept_text(ctx.session, int(found.group(1)), ctx.subscriber.is_admin, [area.id for area in areas],
                     urgent_only=True)


@stage(ANSWER_STAGE, "answer")
def answer_stage(ctx: Context) -> bool:
    kept = _answerable(ctx)
    if kept is None:
        return False
    area_ids = [area.id for area in ctx.organiser_areas()]
    ref = f"{ANSWER_LETTER}{kept.id}"
    message = ctx.words.rest()
    if not message:
        ctx.reply("urgent_answer_usage", ref=ref)
        return True
    try:
        answer(ctx.session, ctx.settings, kept, message, ctx.now, by=ctx.subscriber.id,
               is_admin=ctx.subscriber.is_admin, area_ids=area_ids)
    except ReplyRefused as refused:
        ctx.reply("urgent_answer_refused", ref=ref, why=refused.reason.value, limit=MAX_REPLY_CHARACTERS)
        return True
    ctx.did()
    ctx.reply("urgent_answered", ref=ref, number=mask(kept.from_number))
    return True
