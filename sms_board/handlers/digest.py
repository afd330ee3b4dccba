"""DIGEST DAILY / WEEKLY / OFF, DIGEST CALL / TEXT, and MORE: the next page of the last digest.

DIGEST CALL has digests read by a telephone call instead of texted, DIGEST TEXT brings them
back to texts (`community.hearing`; refused while the board places no calls, docs/voice.md).
Each pack names its words for DAILY, WEEKLY, OFF, CALL and TEXT (`[arguments.DIGEST]` in its
`pack.toml`): CRYNODEB WYTHNOSOL, PODSUMOWANIE WYŁĄCZ, CRYNODEB GALWAD, PODSUMOWANIE SMS.
"""

from __future__ import annotations

from sqlalchemy import update

from sms_board.broadcast.digest_more import next_page
from sms_board.broadcast.digest_runs import DAILY, OFF, WEEKLY
from sms_board.community.hearing import change, offers_calls
from sms_board.community.subscriptions import active_areas
from sms_board.community.trusted_helpers import next_copy_page
from sms_board.handlers.router import Context, keyword
from sms_board.models import HearsBy, Subscription, SubscriptionStatus

_CHOICES = {
    "DAILY": DAILY, "DAY": DAILY, "ON": DAILY,
    "WEEKLY": WEEKLY, "WEEK": WEEKLY,
    "OFF": OFF, "NONE": OFF, "NEVER": OFF, "STOP": OFF, "NO": OFF,
}
_HEARING = {
    "CALL": HearsBy.VOICE, "PHONE": HearsBy.VOICE, "VOICE": HearsBy.VOICE,
    "TEXT": HearsBy.SMS, "TEXTS": HearsBy.SMS, "SMS": HearsBy.SMS,
}


@keyword("DIGEST")
def digest(ctx: Context) -> None:
    current = ctx.subscriber.digest_frequency
    word = ctx.words.argument(1) if len(ctx.words) > 1 else ""
    if word in _HEARING:
        _hear_by(ctx, _HEARING[word])
        return
    wanted = _CHOICES.get(word)
    if wanted is None:
        ctx.reply("digest_hint", frequency=current, calls=offers_calls(ctx.settings, ctx.subscriber),
                  hears_by=ctx.subscriber.hears_by)
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


def _hear_by(ctx: Context, wanted: HearsBy) -> None:
    try:
        changed = change(ctx.settings, ctx.subscriber, wanted, ask_for_voice="DIGEST CALL")
    except ValueError:
        # Only a board without calls refuses someone who can text the board (a landline cannot).
        ctx.reply("digest_hearing", refused=True, hears_by=ctx.subscriber.hears_by)
        return
    ctx.did(changed)
    ctx.reply("digest_hearing", refused=False, hears_by=wanted)


@keyword("MORE")
def more(ctx: Context) -> None:
    if len(ctx.words) > 2:
        # "more about the plant swap please" is a question for a person, not paging.
        ctx.take_as_ordinary_text()
        return
    if ctx.reader is not None:
        # A trusted helper's `FOR ROSE MORE`: the next page of his copy of her last digest, text or call, in his
        # language (docs/helpers.md); never her own pages (her language, her place).
        page = next_copy_page(ctx.session, ctx.settings, ctx.reader, ctx.subscriber)
        if page:
            ctx.did()
            ctx.replies.append(page)
        else:
            ctx.reply("digest_more_none", had_digest=page is not None, frequency=ctx.subscriber.digest_frequency)
        return
    more = next_page(ctx.session, ctx.subscriber)
    if more.page is None:
        ctx.reply("digest_more_none", had_digest=more.had_digest, frequency=ctx.subscriber.digest_frequency)
        return
    # Pages are built (and smart-encoded) by the digest from templates/sms/digest_page.txt.
    ctx.did()  # the place in the digest moved on
    ctx.replies.append(more.page)
