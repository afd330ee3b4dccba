"""REPORT <ref>: a resident flags a post for the organisers of its area.

Organisers are told (in their batched notice); enough reports from different
neighbours hide the post until an organiser decides. The author is never told who.
"""

from __future__ import annotations

from sms_board.community.moderation import report as file_report
from sms_board.handlers.router import Context, keyword, ref_or_hint
from sms_board.models import ItemKind

_REPORTABLE = {ItemKind.NOTICE, ItemKind.REQUEST, ItemKind.OFFER}


@keyword("REPORT")
def report(ctx: Context) -> None:
    item = ref_or_hint(ctx, "REPORT", _REPORTABLE)
    if item is None:
        return
    outcome = file_report(ctx.session, ctx.settings, item, ctx.subscriber, ctx.now)
    ctx.did(outcome.changed)
    ctx.file_in_inbox(item.area)
    ctx.reply("report_thanks", outcome=outcome.value, item=item, area=item.area)
