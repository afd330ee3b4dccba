"""MY and BALANCE: a resident's open items, connections and timebank hours.

On a board of more than one language MY ends with the resident's language and how to change it; on a
board that places calls (or for someone whose digests are calls) with how their digests reach them.
"""

from __future__ import annotations

from sqlalchemy import select

from sms_board.community.exchange import active_matches, balance, display_name, other_party
from sms_board.community.item_lifecycle import OPEN
from sms_board.community.languages import reading
from sms_board.community.trusted_helpers import WAITING, helpers_of, helping, name_of
from sms_board.handlers.router import Context, keyword
from sms_board.models import HearsBy, Item
from sms_board.text.languages import pack
from sms_board.text.segments import analyse, smart_encode
from sms_board.text.templates import render

# MY stays within two texts when it can: titles are cut to share that room, never below
# MIN_TITLE characters (a long list costs a third text rather than unreadable titles). The room is
# measured as the text goes out (smart-encoded, `text.segments`): 2 × 153 GSM-7 characters, an
# extension character (€, [) counting two, or 2 × 67 when a letter (ŵ, ł) makes it UCS-2.
MY_SEGMENTS = 2
MIN_TITLE = 24


@keyword("MY", "MINE")
def my(ctx: Context) -> None:
    items = list(ctx.session.scalars(
        select(Item).where(
            Item.author_id == ctx.subscriber.id,
            Item.status.in_(OPEN),
        ).order_by(Item.id)
    ))
    connections = [(m.item, display_name(other_party(m, ctx.subscriber))) for m in active_matches(ctx.session, ctx.subscriber)]
    people = _helpers(ctx)
    for language in reading(ctx.settings, ctx.subscriber):
        ctx.replies.append(_listing(language, items, connections, _footer(ctx, language), people))


def _helpers(ctx: Context) -> dict[str, list[tuple[str, str, bool]]]:
    """The resident's trusted helpers (name, ref, still asked) and whom they help (docs/helpers.md)."""
    return {
        "helpers": [(name_of(row.helper), row.ref, row.status in WAITING) for row in helpers_of(ctx.session, ctx.subscriber)],
        "helping": [(row.resident.name or "", row.ref, False) for row in helping(ctx.session, ctx.subscriber)],
    }


def _footer(ctx: Context, language: str) -> str:
    return "\n".join(filter(None, (_language_line(ctx, language), _hearing_line(ctx, language))))


def _language_line(ctx: Context, language: str) -> str:
    """The resident's language and how to change it, on a board of several (MY, a keyword, has set it)."""
    chosen = ctx.subscriber.language
    if len(ctx.settings.languages) == 1 or chosen not in ctx.settings.languages:
        return ""
    return render("my_language", language, language=pack(chosen).name)


def _hearing_line(ctx: Context, language: str) -> str:
    """How their digests reach them: said where there is a choice, or where it is not a text."""
    hears_by = ctx.subscriber.hears_by
    if not ctx.settings.voice.enabled and hears_by == HearsBy.SMS:
        return ""
    return render("my_hearing", language, hears_by=hears_by)


def _listing(language: str, items: list[Item], connections: list[tuple[Item, str]], footer: str = "",
             people: dict[str, list[tuple[str, str, bool]]] | None = None) -> str:
    def written(width: int | None) -> str:
        listing = render("my", language, items=items, connections=connections, width=width,
                         **(people or {"helpers": [], "helping": []}))
        return f"{listing}\n{footer}" if footer else listing

    listing = written(None)
    if _fits(listing) or not items:
        return listing
    # Whole titles do not fit: the widest cut, shared by every title, that keeps MY in its room.
    narrow, wide = MIN_TITLE, max(len(" ".join(item.body.split())) for item in items)
    while narrow < wide:
        width = (narrow + wide + 1) // 2
        if _fits(written(width)):
            narrow = width
        else:
            wide = width - 1
    return written(narrow)


def _fits(text: str) -> bool:
    return analyse(smart_encode(text)).segments <= MY_SEGMENTS


@keyword("BALANCE")
def balance_(ctx: Context) -> None:
    given, received, gave, got = balance(ctx.session, ctx.subscriber)
    ctx.reply("balance", given=given, received=received, gave=gave, got=got)
