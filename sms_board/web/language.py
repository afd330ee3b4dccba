"""The language of every page, the dashboard's too: chosen, remembered, and each word of the page in it.

A page is in one of the board's languages (`SMS_BOARD_LANGUAGES`):

1. the one a visitor chose with the language link every page shows (`?lang=cy`), remembered for a
   year in a cookie of its own (`sms_board_lang`: nothing but the code, so signing in or out keeps it);
2. else the first of the board's languages the browser asks for (`Accept-Language`);
3. else the board's first language.

A board of one language shows no link and reads neither. The words are Flask-Babel's gettext over
each pack's `web.po`, read from the `.po` itself (`Pack.page_translations`: no compiled `.mo`, no
build step), in templates (`{% trans %}`, `_()`) and routes (`gettext`). Words that code below the
web writes (`text.phrases.Phrase`: a refusal, an inbox text's reason) are translated where a page
shows them. The public pages' main heading is in every language of the board, its first language
first (`in_every_language`), as the Welsh Language Standards ask of a bilingual page; the rest of a
page is in its language, with the link to the others at the top.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from gettext import NullTranslations
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_datetime
from babel.numbers import format_decimal
from flask import Flask, Response, current_app, g, has_request_context, request, url_for
from flask_babel import Babel, Domain, gettext
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from sms_board.plumbing.config import Settings
from sms_board.text.languages import UnknownLanguage, pack
from sms_board.text.phrases import Phrase, Wording, write_pages_with
from sms_board.text.templates import NEIGHBOUR
from sms_board.web import settings

CHOICE = "lang"  # ?lang=cy
COOKIE = "sms_board_lang"
REMEMBERED_FOR = 365 * 24 * 3600


class _PackDomain(Domain):
    """Flask-Babel's default domain, read from each pack's `web.po` instead of compiled `.mo` files."""

    def get_translations(self) -> Any:
        return pack(page_language()).page_translations()


def page_language() -> str:
    """The code of the language this request's page is in (chosen once per request)."""
    chosen = g.get("page_language")
    if chosen is None:
        chosen = g.page_language = _choose(settings().languages)
    return chosen  # type: ignore[no-any-return]


def _choose(board: tuple[str, ...]) -> str:
    if len(board) == 1:
        return board[0]
    asked = request.args.get(CHOICE)
    if asked in board:
        return asked  # type: ignore[return-value]
    remembered = request.cookies.get(COOKIE)
    if remembered in board:
        return remembered  # type: ignore[return-value]
    return request.accept_languages.best_match(board) or board[0]


def wording() -> Wording:
    """The page's words and formats, for code below the web that writes a sentence (`text.phrases.Wording`)."""
    code = page_language()
    return Wording(pack(code).page_translations(), code)


def _page_catalog() -> Any:
    return (
        pack(page_language()).page_translations() if has_request_context() else NullTranslations()
    )


def translated(words: str) -> str:
    """A Phrase in the page's language (a plain string is already words: it is left as it is)."""
    return (
        words.in_language(pack(page_language()).page_translations())
        if isinstance(words, Phrase)
        else words
    )


def when(value: datetime | None, zone: Any = None) -> str:
    """`3 Dec 14:05` (`3 Rhag 14:05`) in the board's time zone."""
    if value is None:
        return ""
    return format_datetime(
        value.astimezone(zone or settings().zone), "d MMM HH:mm", locale=page_language()
    )


def day(value: datetime | None) -> str:
    """`3 Dec 2025` in the board's time zone."""
    if value is None:
        return ""
    return format_datetime(value.astimezone(settings().zone), "d MMM y", locale=page_language())


def number(value: int | float) -> str:
    """`1,234` (`1234`, `12 345` in Polish)."""
    return format_decimal(value, locale=page_language())


def who(name: str) -> str:
    """A person as pages name them: their NAME as they wrote it, or "A neighbour" in the page's language."""
    return gettext("A neighbour") if name == NEIGHBOUR else name


def in_every_language(
    message: str, codes: Sequence[str] | None = None, **values: Any
) -> list[tuple[str, Markup]]:
    """`message` (which may hold markup) in each of the board's languages (or `codes`, in the board's
    order), its first first: `(lang tag, words)` for the page to mark each with its `lang`. Values are
    escaped unless they are Markup."""
    board = [
        code for code in settings().languages if codes is None or code in codes
    ] or settings().languages
    shown = []
    for code in board:
        words = Markup(pack(code).page_translations().gettext(message))
        shown.append(
            (
                pack(code).tag,
                words % {key: value for key, value in values.items()} if values else words,
            )
        )
    return shown


def _switch_path() -> str:
    """Where the language link goes: this page again, or, after a form was sent, a page that can be asked for."""
    if request.method in ("GET", "HEAD"):
        return request.path
    try:
        current_app.url_map.bind("localhost").match(request.path, method="GET")
        return request.path
    except HTTPException:
        return url_for("dashboard.overview") if g.get("viewer") else url_for("public.index")


def other_languages() -> list[dict[str, str]]:
    """The language links: each of the board's other languages, named in itself, first language first."""
    board = settings().languages
    here = page_language()
    if len(board) == 1:
        return []
    path = _switch_path()
    query = (
        {key: values for key, values in request.args.lists() if key != CHOICE}
        if request.method in ("GET", "HEAD")
        else {}
    )
    links = []
    for code in board:
        if code == here:
            continue
        found = pack(code)
        links.append(
            {
                "code": code,
                "tag": found.tag,
                "name": found.name[:1].upper() + found.name[1:],
                "href": f"{path}?{urlencode({**query, CHOICE: code}, doseq=True)}",
            }
        )
    return links


def _remember(response: Response) -> Response:
    board = settings().languages
    if len(board) > 1:
        asked = request.args.get(CHOICE)
        if asked in board and request.cookies.get(COOKIE) != asked:
            public_url = settings().public_url or ""
            response.set_cookie(
                COOKIE,
                asked,
                max_age=REMEMBERED_FOR,
                httponly=True,
                samesite="Lax",
                secure=public_url.startswith("https://"),
            )
        if response.mimetype == "text/html":
            response.vary.update(("Accept-Language", "Cookie"))
    return response


def init_language(app: Flask, board: Settings) -> None:
    """Flask-Babel on the app, every language of the board checked for its pages' catalog now, not at a first page."""
    for code in board.languages:
        try:
            pack(code).page_translations()
        except UnknownLanguage:
            raise UnknownLanguage(
                f"{code}: translations/{code}/LC_MESSAGES/web.po is missing "
                "(docs/translations.md, adding a language)"
            ) from None
    babel = Babel(
        app,
        locale_selector=page_language,
        default_locale=board.first_language,
        default_timezone=board.timezone,
    )
    babel.domain_instance = _PackDomain()  # type: ignore[misc]
    # A block's line breaks and indents are not part of its words (as in the SMS templates).
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters.update(when=when, day=day, number=number, who=who)
    app.after_request(_remember)
    write_pages_with(_page_catalog)

    @app.context_processor
    def _language() -> dict[str, Any]:
        code = page_language()
        return {
            "page_language": code,
            "page_tag": pack(code).tag,
            "other_languages": other_languages(),
            "in_every_language": in_every_language,
        }
