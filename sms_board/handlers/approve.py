"""APPROVE and REJECT: an organiser's decision on a held, reported or hidden post (or a join request).

The decision itself is `community.moderation` (the dashboard will call the same
functions); this module only reads the text and answers. Anyone who is not an organiser
of the item's area (nor an administrator) is refused politely and nothing changes.
"""

from __future__ import annotations

from sms_board.community.exchange import display_name
from sms_board.community.invites import answer_join_request
from sms_board.community.moderation import Outcome, approve, reject
from sms_board.handlers.router import Context, keyword, ref_or_hint
from sms_board.models import Item, ItemKind


def _moderator(ctx: Context, action: str) -> bool:
    """Organisers and administrators go on; anyone else is told, and nothing changes."""
    if ctx.subscriber.is_admin or ctx.organiser_areas():
        return True
    ctx.reply("moderation_refused", action=action, item=None)
    return False


def _item(ctx: Context, action: str, usage: str) -> Item | None:
    if not _moderator(ctx, action):
        return None
    return ref_or_hint(ctx, usage)


@keyword("APPROVE")
def approve_(ctx: Context) -> None:
    item = _item(ctx, "APPROVE", "APPROVE")
    if item is None:
        return
    if item.kind == ItemKind.JOIN:
        ctx.say(answer_join_request(ctx.session, ctx.settings, item, ctx.subscriber, accept=True, now=ctx.now))
        return
    outcome = approve(ctx.session, ctx.settings, item, ctx.subscriber, ctx.now)
    if outcome == Outcome.NOT_ALLOWED:
        ctx.reply("moderation_refused", action="APPROVE", item=item)
        return
    ctx.did(outcome.changed)
    ctx.reply("moderation_done", outcome=outcome.value, item=item, author=display_name(item.author))


@keyword("REJECT")
def reject_(ctx: Context) -> None:
    item = _item(ctx, "REJECT", "REJECT")
    if item is None:
        return
    if item.kind == ItemKind.JOIN:
        ctx.say(answer_join_request(ctx.session, ctx.settings, item, ctx.subscriber, accept=False, now=ctx.now))
        return
    reason = " ".join(ctx.words.rest(2).split())[:160]
    outcome, ended = reject(ctx.session, ctx.settings, item, ctx.subscriber, reason, ctx.now)
    if outcome == Outcome.NOT_ALLOWED:
        ctx.reply("moderation_refused", action="REJECT", item=item)
        return
    ctx.did(outcome.changed)
    for person in ended:
        ctx.notify(person, "connection_ended", about=item, ref=item.ref)
    ctx.reply("moderation_done", outcome=outcome.value, item=item, author=display_name(item.author), reason=reason)
