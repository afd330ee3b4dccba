"""Administrators: create areas, appoint and remove organisers.

The same domain functions as `sms-board area add` and `sms-board organiser add`
(`community.areas.create_area`, `community.people`). Organisers who are not
administrators get 403 here.

After trust and safety lands, this page also makes invite codes for private areas and
shows the audit log (see docs/dashboard.md, "Left for trust and safety").
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from sms_board.community.areas import AreaError, area_by_slug, area_summaries, create_area
from sms_board.community.people import appoint_organiser, remove_organiser
from sms_board.models import Area, Moderation, Organiser, Subscriber
from sms_board.phone import mask, normalise
from sms_board.utc import utcnow
from sms_board.web import sessions, settings
from sms_board.web.auth import admin_only, require_viewer

bp = Blueprint("admin", __name__, url_prefix="/dashboard/admin")
bp.before_request(require_viewer)


def _page(form: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    with sessions()() as db:
        areas = area_summaries(db)
        organisers = [
            {"id": organiser.subscriber_id, "number": mask(phone), "name": name, "area": area_name, "slug": slug}
            for organiser, phone, name, area_name, slug in db.execute(
                select(Organiser, Subscriber.phone, Subscriber.name, Area.name, Area.slug)
                .join(Subscriber, Subscriber.id == Organiser.subscriber_id).join(Area, Area.id == Organiser.area_id)
                .order_by(Area.name, Subscriber.name, Organiser.id)
            )
        ]
    return render_template("dashboard/admin.html", areas=areas, organisers=organisers, form=form or {},
                           errors=errors or {}, moderations=[m.value for m in Moderation],
                           default_timezone=settings().timezone), status


@bp.get("")
@admin_only
def index() -> tuple[str, int]:
    return _page()


@bp.post("/areas")
@admin_only
def add_area() -> Any:
    form = request.form
    postcodes = [p.strip() for p in form.get("postcodes", "").replace(";", ",").split(",") if p.strip()]
    if not form.get("name", "").strip():
        return _page(dict(form), {"name": "Give the area a name residents will recognise."}, 400)
    try:
        with sessions().begin() as db:
            area = create_area(
                db, form.get("slug", "").strip(), form.get("name", "").strip(), postcodes=postcodes,
                timezone=form.get("timezone", "").strip() or settings().timezone,
                private=form.get("private") == "1", moderation=form.get("moderation", Moderation.OPEN.value),
            )
            name = area.name
    except AreaError as refused:
        return _page(dict(form), {refused.field or "slug": str(refused)}, 400)
    flash(f"Added {name}.")
    return redirect(url_for("admin.index"))


@bp.post("/organisers")
@admin_only
def appoint() -> Any:
    form = request.form
    phone = normalise(form.get("number", ""), settings().default_region)
    if phone is None:
        return _page({"number": form.get("number", ""), "area": form.get("area")},
                     {"number": "That is not a phone number."}, 400)
    with sessions().begin() as db:
        area = area_by_slug(db, form.get("area", ""))
        if area is None:
            return _page({"number": form.get("number", "")}, {"organiser_area": "Choose an area."}, 400)
        added = appoint_organiser(db, phone, area, utcnow())
        name = area.name
    flash(f"{mask(phone)} is {'now' if added else 'already'} an organiser of {name}.")
    return redirect(url_for("admin.index"))


@bp.post("/organisers/<int:subscriber_id>/<slug>/remove")
@admin_only
def remove(subscriber_id: int, slug: str) -> Response:
    with sessions().begin() as db:
        area = area_by_slug(db, slug)
        if area is None or not remove_organiser(db, subscriber_id, area):
            abort(404)
        name = area.name
    flash(f"Removed an organiser of {name}.")
    return redirect(url_for("admin.index"))
