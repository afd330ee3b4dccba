"""Choosing a language: `CYMRAEG`, `ENGLISH`, `SAESNEG`, `POLSKI`…, or `LANGUAGE <code>` / `IAITH <code>`.

The words that choose a language are understood whatever language the board speaks (each pack
lists its own: `[choose]` in `translations/<code>/pack.toml`); one naming a language this board
does not speak is answered with the languages it does. The choice is kept with its time and
wording (`community.languages.choose`) and the answer comes in the language chosen.
"""

from __future__ import annotations

from sms_board.community.languages import choose
from sms_board.handlers.router import KEYWORD_STAGE, Context, keyword, stage
from sms_board.text.languages import pack, vocabulary

CHOOSE_STAGE = KEYWORD_STAGE - 2


@stage(CHOOSE_STAGE, "choose_language")
def _choose_word(ctx: Context) -> bool:
    """A word that chooses a language, alone (CYMRAEG, "English please" is not one: it is a message)."""
    chosen = vocabulary(ctx.settings.languages).choose.get(ctx.words.said) if len(ctx.words) == 1 else None
    if chosen is None:
        return False
    _switch(ctx, chosen)
    return True


@keyword("LANGUAGE", fuzzy=False)
def language(ctx: Context) -> None:
    """LANGUAGE <code> (IAITH CY, JĘZYK PL): a code, or a word that chooses a language."""
    wanted = ctx.words.tokens[1] if len(ctx.words) > 1 else ""
    code = wanted.lower() if wanted.lower() in ctx.settings.languages else \
        vocabulary(ctx.settings.languages).choose.get(wanted)
    if code is None:
        ctx.reply("language_list", languages=_names(ctx), current=ctx.subscriber.language)
        return
    _switch(ctx, code)


def _switch(ctx: Context, code: str) -> None:
    if code not in ctx.settings.languages:
        ctx.reply("language_list", languages=_names(ctx), current=ctx.subscriber.language)
        return
    ctx.did(choose(ctx.session, ctx.subscriber, code, wording=ctx.words.original, channel="sms", now=ctx.now))
    ctx.reply("language_set", language=pack(code).name)


def _names(ctx: Context) -> list[tuple[str, str]]:
    """(name in itself, code) for each language of the board, the first first: [("Cymraeg", "CY"), …]."""
    return [(pack(code).name, code.upper()) for code in ctx.settings.languages]
