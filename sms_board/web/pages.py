"""What every page template may use: the board's number, error pages; and what every page
shows: words people wrote, in the order they were typed, and words code wrote (`Phrase`) in the
page's language. (Dates, numbers and the language itself: `language.py`. The navigation, and who
is signed in, belong to the dashboard: `sms_board/dashboard/dashboard_routes.py`.)"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from sms_board.text.phone import display_number
from sms_board.text.phrases import Foreign, Phrase
from sms_board.text.words import without_bidi
from sms_board.web import settings


def shown(value: Any) -> Any:
    """Every `{{ … }}` of every page, before it is escaped: text without bidi controls.

    Inbound texts are stored exactly as they came, and an organiser's form or an old row may
    hold them too; a `\u202e` would make "refund 0001" read "refund 1000". Doing it here, as
    Jinja's `finalize`, covers the inbox, moderation, audit log, exchange, public boards and
    simulator alike, and any page added later. Words code wrote for a page (a `Phrase`: a
    refusal, an inbox text's reason) are put in the page's language here too, and a language's name
    in itself (`Foreign`) is marked with its `lang`.
    """
    if isinstance(value, Phrase | Foreign):
        value = Markup(value.__html__())  # in the page's language, words in another marked with their lang
    if isinstance(value, Markup):
        return Markup(without_bidi(str(value)))
    if isinstance(value, str):
        return without_bidi(value)
    return value


def init_pages(app: Flask) -> None:
    app.jinja_env.finalize = shown

    @app.context_processor
    def _shared() -> dict[str, Any]:
        board = settings()
        return {
            "board_number": display_number(board.board_number, board.default_region),
            "current_endpoint": request.endpoint,
            "simulator_on": "simulator" in current_app.blueprints,
        }

    @app.errorhandler(401)
    def _unauthorised(_error: Exception) -> tuple[str, int]:
        return render_template("error.html", title=_("Please sign in"),
                               message=_("Your session has ended. Sign in again to go on.")), 401

    @app.errorhandler(403)
    def _forbidden(_error: Exception) -> tuple[str, int]:
        return render_template("error.html", title=_("Administrators only"),
                               message=_("This page is for the board's administrators.")), 403

    @app.errorhandler(413)
    def _too_large(_error: Exception) -> tuple[str, int]:
        return render_template("error.html", title=_("That is too large"),
                               message=_("A subscriber list may be up to 4 MB (10,000 rows is about 1 MB). "
                                         "Split the file and import each part.")), 413

    @app.errorhandler(404)
    def _not_found(_error: Exception) -> tuple[str, int]:
        return render_template("error.html", title=_("Not found"),
                               message=_("There is nothing at this address.")), 404
