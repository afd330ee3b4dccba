"""Public pages: `/` (the areas and how to join) and `/board/<area>` (read-only). Names, never numbers.

An area without a public page (`community.areas.has_public_page`) answers 404 at `/board/<area>`
and is listed on `/` to join, without a link.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from sms_board.community.areas import has_public_page
from sms_board.models import Area, Item, ItemKind, ItemStatus
from sms_board.utc import utcnow
from sms_board.web import sessions

bp = Blueprint("public", __name__)

NOTICES_FOR = timedelta(days=30)


@bp.get("/board/<slug>")
def area_board(slug: str) -> str:
    with sessions()() as session:
        area = session.scalar(select(Area).where(Area.slug == slug.lower()))
        # A private area's board is as private as its membership; a public one may go without a page.
        if area is None or not has_public_page(area):
            abort(404)
        items = list(session.scalars(
            select(Item).where(
                Item.area_id == area.id, Item.status == ItemStatus.PUBLISHED.value,
                Item.kind.in_([ItemKind.NOTICE.value, ItemKind.REQUEST.value, ItemKind.OFFER.value]),
            ).order_by(Item.created_at.desc(), Item.id.desc())
        ))
        recent = utcnow() - NOTICES_FOR
        sections = {
            "Notices": [i for i in items if i.kind == ItemKind.NOTICE.value and i.created_at >= recent],
            "Help needed": [i for i in items if i.kind == ItemKind.REQUEST.value],
            "Neighbours offer": [i for i in items if i.kind == ItemKind.OFFER.value],
        }
        return render_template("board.html", area=area, sections=sections)


@bp.get("/")
def index() -> str:
    with sessions()() as session:
        areas = list(session.scalars(
            select(Area).where(Area.private.is_(False)).order_by(Area.name).options(selectinload(Area.postcodes))))
        return render_template("index.html", areas=areas, pages={a.id for a in areas if has_public_page(a)},
                               simulator="simulator" in current_app.blueprints)
