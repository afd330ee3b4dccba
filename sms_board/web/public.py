"""Public pages: `/` (the areas and how to join) and `/board/<area>` (read-only). Names, never numbers.

An area without a public page (`community.areas.has_public_page`) answers 404 at `/board/<area>`
and is listed on `/` to join, without a link. What they show is read by `community.areas`
(`public_board`, `listed_areas`).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from sms_board.community.areas import has_public_page, listed_areas, public_board
from sms_board.community.languages import spoken_in
from sms_board.plumbing.utc import utcnow
from sms_board.web import sessions, settings

bp = Blueprint("public", __name__)


@bp.get("/board/<slug>")
def area_board(slug: str) -> str:
    with sessions()() as session:
        board = public_board(session, slug, utcnow())
        if board is None:
            abort(404)
        return render_template("board.html", area=board.area, sections=board.sections,
                               area_languages=spoken_in(settings(), board.area))


@bp.get("/")
def index() -> str:
    with sessions()() as session:
        areas = listed_areas(session)
        return render_template("index.html", areas=areas, pages={a.id for a in areas if has_public_page(a)},
                               simulator="simulator" in current_app.blueprints)
