"""HELPER, OK H<n> / NO H<n> and HELPER OFF: naming a trusted helper, the helper's answer, ending it.

`HELPER 07700 900123` (a resident) asks that person to be their helper; nothing changes until they
reply `OK H4` (`NO H4` says no). A helper's ref always has its letter: `OK 4` is item 4, and YES
never answers a proposal. `HELPER OFF` (the resident) ends theirs without the helper being told;
`HELPER OFF ROSE` / `HELPER OFF H4` (the helper) stops helping, and the resident is told. The rules
live in `community/trusted_helpers.py` (docs/helpers.md).
"""

from __future__ import annotations

from sms_board.community.trusted_helpers import (
    CURRENT,
    answer,
    end_as_helper,
    end_as_resident,
    find_by_ref_or_name,
    helper_ref,
    helpers_of,
    helping,
    propose,
)
from sms_board.handlers.router import KEYWORD_STAGE, Context, keyword, stage
from sms_board.text.templates import Said

_AGREE = frozenset({"OK", "ACCEPT"})
_REFUSE = frozenset({"NO", "DECLINE"})
HELPER_ANSWER_STAGE = KEYWORD_STAGE - 1  # before OK and NO read their word as an item's ref


def answers_a_proposal(ctx: Context) -> int | None:
    """The proposal `OK H4` / `NO H4` answers (4), or None for any other text (`OK 4`, `OK R4`)."""
    if len(ctx.words) < 2 or ctx.words.first not in _AGREE | _REFUSE:
        return None
    return helper_ref(ctx.words.tokens[1])


@stage(HELPER_ANSWER_STAGE, "helper_answer")
def helper_answer_stage(ctx: Context) -> bool:
    number = answers_a_proposal(ctx)
    if number is None:
        return False
    ctx.learn_language(english=ctx.words.said in _AGREE | _REFUSE)
    ctx.say(answer(ctx.session, ctx.settings, ctx.subscriber, number, agree=ctx.words.first in _AGREE,
                   words=ctx.words.original, now=ctx.now))
    return True


# Never guessed from a typo: it texts someone else, and "Helpers wanted…" is an ordinary text.
@keyword("HELPER", fuzzy=False)
def helper(ctx: Context) -> None:
    if ctx.words.argument(1) == "OFF":
        _off(ctx)
        return
    number = ctx.words.rest(1)
    if not any(ch.isdigit() for ch in number):
        ctx.reply("helper_usage")
        if number:
            ctx.file_in_inbox()  # words, no number: a message for a person
        return
    ctx.say(propose(ctx.session, ctx.settings, ctx.subscriber, number, ctx.now, words=ctx.words.original,
                    channel="sms"))


def _off(ctx: Context) -> None:
    named = ctx.words.rest(2).split()
    if not named:
        ended = end_as_resident(ctx.session, ctx.subscriber, ctx.now, by="HELPER OFF")
        ctx.say(Said.of("helper_off", outcome="ended", refs=", ".join(row.ref for row in ended)).because(True)
                if ended else Said.of("helper_off", outcome="none"))
        return
    word = named[0]
    rows = find_by_ref_or_name(helping(ctx.session, ctx.subscriber, CURRENT), word,
                               name_of_row=lambda row: row.resident.name)
    if len(rows) > 1:
        ctx.reply("helper_off", outcome="which", name=word, ref=rows[0].ref)
        return
    if rows:
        end_as_helper(ctx.session, ctx.settings, ctx.subscriber, ctx.now, by="HELPER OFF", only=rows)
        ctx.say(Said.of("helper_off", outcome="stopped", name=rows[0].resident.name, ref=rows[0].ref).because(True))
        return
    own = find_by_ref_or_name(helpers_of(ctx.session, ctx.subscriber), word, name_of_row=lambda row: row.helper.name)
    if len(own) == 1:
        end_as_resident(ctx.session, ctx.subscriber, ctx.now, by="HELPER OFF", only=own[0])
        ctx.say(Said.of("helper_off", outcome="ended", refs=own[0].ref).because(True))
        return
    ctx.reply("helper_off", outcome="not_helping", name=word)
