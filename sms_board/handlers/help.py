"""HELP and INFO: how to use the board (the carrier keyword, not a request for help).

HELP is answered before keywords and even from an opted-out number, which is
told how to come back (carrier practice; nothing else is sent to it). So is a
text Twilio's Advanced Opt-Out classified as HELP (`OptOutType=HELP`), whatever
its words. `HELP MORE` is the second page. HELP followed by other words is
answered and also filed in the organisers' inbox, and the reply says so:
"help my mum has fallen" may be a real cry for help, so urgent words get
"If you or someone is in danger, call 999" first, and that reply is never
withheld by loop protection.
"""

from __future__ import annotations

from sms_board.community.hearing import offers_calls
from sms_board.community.subscriptions import active_areas
from sms_board.handlers.router import HELP_STAGE, Context, keyword, stage

HELP_WORDS = frozenset({"HELP", "INFO"})


def asks_for_help(ctx: Context) -> bool:
    """HELP or INFO first (alone or with more words), or a text Twilio classified as HELP."""
    opt_out_type = (ctx.inbound.params.get("OptOutType") or "").upper()
    return opt_out_type == "HELP" or ctx.words.first in HELP_WORDS


@stage(HELP_STAGE, "help", hears_opted_out=asks_for_help)
def help_stage(ctx: Context) -> bool:
    if not asks_for_help(ctx):
        return False
    help_(ctx)
    return True


@keyword("HELP", "INFO")
def help_(ctx: Context) -> None:
    # The first word is HELP, its typo (HLEP) or the word Twilio classified as HELP (AIDE).
    words = ctx.words.tokens[1:]
    if words == ("MORE",):
        # An organiser on a board of several languages is told how to write a version per language.
        ctx.reply("help_more", organiser=bool(ctx.organiser_areas()),
                  calls=offers_calls(ctx.settings, ctx.subscriber),
                  languages=[code.upper() for code in ctx.settings.languages])
        return
    areas = active_areas(ctx.session, ctx.subscriber)
    filed = bool(words)
    if filed:
        ctx.file_in_inbox(areas[0] if len(areas) == 1 else None)
    urgent = filed and ctx.raise_the_alarm()
    if ctx.subscriber.opted_out:
        ctx.reply("help_opted_out", filed=filed, urgent=urgent)
        return
    # HELP is answered before YES is read, and lets a pending FORGET or broadcast lapse: say so.
    ctx.reply("help", areas=areas, filed=filed, urgent=urgent, lapsed=ctx.lapsed)
