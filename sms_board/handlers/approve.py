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


def _post_to_decide(ctx: Context, action: str, *, accept: bool) -> Item | None:
    """The post APPROVE or REJECT names, for the caller to decide; None when there is nothing more to
    do: the sender is no moderator, the ref is missing or wrong (each answered), or it named a join
    request, which is answered here."""
    if not _moderator(ctx, action):
        return None
    item = ref_or_hint(ctx, action)
    if item is not None and item.kind == ItemKind.JOIN:
        ctx.say(answer_join_request(ctx.session, ctx.settings, item, ctx.subscriber, accept=accept, now=ctx.now))
        return None
    return item


@keyword("APPROVE")
def approve_(ctx: Context) -> None:
    item = _post_to_decide(ctx, "APPROVE", accept=True)
    if item is None:
        return
    outcome = approve(ctx.session, ctx.settings, item, ctx.subscriber, ctx.now)
    if outcome == Outcome.NOT_ALLOWED:
        ctx.reply("moderation_refused", action="APPROVE", item=item)
        return
    ctx.did(outcome.changed)
    ctx.reply("moderation_done", outcome=outcome.value, item=item, author=display_name(item.author))


@keyword("REJECT")
def reject_(ctx: Context) -> None:
    item = _post_to_decide(ctx, "REJECT", accept=False)
    if item is None:
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
