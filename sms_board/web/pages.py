"""What every page template may use: dates, the board's number, error pages; and what every page
shows: words people wrote, in the order they were typed. (The navigation, and who is signed in,
belong to the dashboard: `sms_board/dashboard/dashboard_routes.py`.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import phonenumbers
from flask import Flask, current_app, render_template, request
from markupsafe import Markup

from sms_board.text.words import without_bidi
from sms_board.web import settings


def display_number(number: str | None, region: str) -> str | None:
    """The board's number as residents dial it (`07700 900000` in the UK)."""
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return number
    # Not `region_code_for_number`: it finds no region for Ofcom's drama range, which demos use.
    if region in phonenumbers.region_codes_for_country_code(parsed.country_code):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def when(value: datetime | None, zone: Any = None) -> str:
    """`3 Dec 14:05` in the board's time zone."""
    if value is None:
        return ""
    local = value.astimezone(zone or settings().zone)
    return f"{local.day} {local:%b %H:%M}"


def day(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(settings().zone)
    return f"{local.day} {local:%b %Y}"


def shown(value: Any) -> Any:
    """Every `{{ … }}` of every page, before it is escaped: text without bidi controls.

    Inbound texts are stored exactly as they came, and an organiser's form or an old row may
    hold them too; a `\u202e` would make "refund 0001" read "refund 1000". Doing it here, as
    Jinja's `finalize`, covers the inbox, moderation, audit log, exchange, public boards and
    simulator alike, and any page added later.
    """
    if isinstance(value, Markup):
        return Markup(without_bidi(str(value)))
    if isinstance(value, str):
        return without_bidi(value)
    return value


def init_pages(app: Flask) -> None:
    app.jinja_env.finalize = shown
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["day"] = day

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
        return render_template("error.html", title="Please sign in",
                               message="Your session has ended. Sign in again to go on."), 401

    @app.errorhandler(403)
    def _forbidden(_error: Exception) -> tuple[str, int]:
        return render_template("error.html", title="Administrators only",
                               message="This page is for the board's administrators."), 403

    @app.errorhandler(413)
    def _too_large(_error: Exception) -> tuple[str, int]:
        return render_template("error.html", title="That is too large",
                               message="A subscriber list may be up to 4 MB (10,000 rows is about 1 MB). "
                                       "Split the file and import each part."), 413

    @app.errorhandler(404)
    def _not_found(_error: Exception) -> tuple[str, int]:
        return render_template("error.html", title="Not found", message="There is nothing at this address."), 404
