"""HELPER, OK H<n> / NO H<n> and HELPER OFF: naming a trusted helper, the helper's answer, ending it.

`HELPER 07700 900123` (a resident) asks that person to be their helper; nothing changes until they
reply `OK H4` (`NO H4` says no). A helper's ref always has its letter: `OK 4` is item 4, and YES
never answers a proposal. `HELPER OFF` (the resident) ends theirs without the helper being told;
`HELPER OFF ROSE` / `HELPER OFF H4` (the helper) stops helping, and the resident is told. The rules
live in `community/trusted_helpers.py` (docs/helpers.md).

`FOR ROSE <text>` / `FOR H4 <text>` from an agreed helper is Rose's own text (`NEED …`, `OK R12`,
`R12 <message>`, `DONE R12 2`, `MY`), routed as hers, with the replies to the helper, in the helper's
language, marked "For Rose:"; the item's history and the audit log say who did it. Rose's own rights
(the STOP family, START, FORGET, HELPER, and YES, which confirms a FORGET) are refused. From someone who helps nobody, `FOR …` is an
ordinary text ("For sale: bike").
"""

from __future__ import annotations

from dataclasses import replace

from sms_board.community.languages import reading
from sms_board.community.people import acting_as_helper
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
from sms_board.handlers.router import KEYWORD_STAGE, STAGES, Context, keyword, route, stage
from sms_board.models import TrustedHelper
from sms_board.text.templates import Said, render
from sms_board.text.words import Words

_AGREE = frozenset({"OK", "ACCEPT"})
_REFUSE = frozenset({"NO", "DECLINE"})
HELPER_ANSWER_STAGE = KEYWORD_STAGE - 1  # before OK and NO read their word as an item's ref
FOR_STAGE = KEYWORD_STAGE - 4  # after STOP, HELP, YES and the urgent check of the helper's own text
# The resident's own rights: never done for them by a helper (YES: it would confirm her FORGET), with the
# words the STOP and START stages read.
RESIDENT_ONLY = frozenset({"FORGET", "HELPER", "YES"})


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


@stage(FOR_STAGE, "for")
def for_stage(ctx: Context) -> bool:
    """`FOR <name or H-ref> <text>` from a helper: the text routed as the resident's."""
    if ctx.words.first != "FOR" or len(ctx.words) < 2 or ctx.reader is not None:
        return False
    rows = helping(ctx.session, ctx.subscriber)
    if not rows:
        return False  # "For sale: bike": an ordinary text
    word = ctx.words.rest(1).split()[0]
    named = find_by_ref_or_name(rows, ctx.words.tokens[1], name_of_row=lambda row: row.resident.name)
    if len(named) != 1:
        ctx.reply("helper_for_refused", outcome="which" if named else "not_helper", name=word,
                  ref=named[0].ref if named else "")
        return True
    _act_for(ctx, named[0])
    return True


def _act_for(ctx: Context, row: TrustedHelper) -> None:
    resident = row.resident
    inner = Words.parse(ctx.words.rest(2), ctx.words.vocabulary)
    # `ctx.stops`: the text reads as a STOP ("FOR ROSE stop texting me"); it is not the helper's (handlers/stop.py).
    if not inner.tokens or ctx.stops or _residents_own(inner.first):
        ctx.reply("helper_for_refused", outcome="resident_only" if inner.tokens else "usage", name=resident.name)
        return
    acting = replace(ctx, subscriber=resident, words=inner, replies=[], reader=ctx.subscriber, handler="",
                     changed=False, mandatory_reply=False, stops=False)
    with acting_as_helper(ctx.session, ctx.subscriber, resident):
        route(acting)
    ctx.handler = "for"
    ctx.did(acting.changed)
    ctx.mandatory_reply |= acting.mandatory_reply
    # The mark in the helper's language (the board's first while theirs is not known).
    language = reading(ctx.settings, ctx.subscriber)[0]
    ctx.replies.extend(render("helper_for", language, name=resident.name, body=reply) for reply in acting.replies)



def _residents_own(word: str) -> bool:
    stages = (STAGES.get("stop"), STAGES.get("start"))
    return word in RESIDENT_ONLY or any(entry is not None and word in entry.words for entry in stages)
