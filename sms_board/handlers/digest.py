"""DIGEST DAILY / WEEKLY / OFF, and MORE: the next page of the last digest.

Each pack names its words for DAILY, WEEKLY and OFF (`[arguments.DIGEST]` in its `pack.toml`):
CRYNODEB WYTHNOSOL, PODSUMOWANIE WYŁĄCZ.
"""

from __future__ import annotations

from sqlalchemy import update

from sms_board.broadcast.digest_more import next_page
from sms_board.broadcast.digest_runs import DAILY, OFF, WEEKLY
from sms_board.community.subscriptions import active_areas
from sms_board.handlers.router import Context, keyword
from sms_board.models import Subscription, SubscriptionStatus

_CHOICES = {
    "DAILY": DAILY, "DAY": DAILY, "ON": DAILY,
    "WEEKLY": WEEKLY, "WEEK": WEEKLY,
    "OFF": OFF, "NONE": OFF, "NEVER": OFF, "STOP": OFF, "NO": OFF,
}


@keyword("DIGEST")
def digest(ctx: Context) -> None:
    current = ctx.subscriber.digest_frequency
    wanted = _CHOICES.get(ctx.words.argument(1)) if len(ctx.words) > 1 else None
    if wanted is None:
        ctx.reply("digest_hint", frequency=current)
        return
    if current == OFF and wanted != OFF:
        # Back from OFF: digests start from now, not with everything missed meanwhile.
        ctx.session.execute(
            update(Subscription)
            .where(Subscription.subscriber_id == ctx.subscriber.id,
                   Subscription.status == SubscriptionStatus.ACTIVE)
            .values(last_digest_at=ctx.now)
            .execution_options(synchronize_session=False)
        )
    ctx.subscriber.digest_frequency = wanted
    ctx.did(wanted != current)
    ctx.reply("digest_set", frequency=wanted, at=ctx.settings.digest_time.strftime("%H:%M"),
              weekday=ctx.settings.digest_weekday,
              areas=active_areas(ctx.session, ctx.subscriber))


@keyword("MORE")
def more(ctx: Context) -> None:
    if len(ctx.words) > 2:
        # "more about the plant swap please" is a question for a person, not paging.
        ctx.take_as_ordinary_text()
        return
    more = next_page(ctx.session, ctx.subscriber)
    if more.page is None:
        ctx.reply("digest_more_none", had_digest=more.had_digest, frequency=ctx.subscriber.digest_frequency)
        return
    # Pages are built (and smart-encoded) by the digest from templates/sms/digest_page.txt.
    ctx.did()  # the place in the digest moved on
    ctx.replies.append(more.page)
