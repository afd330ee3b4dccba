"""Administrators: create areas and turn their public pages on or off, appoint and remove organisers,
invite codes, the audit log.

The same domain functions as `sms-board area add`, `sms-board area set`, `sms-board organiser add`,
`sms-board area invite` and `sms-board audit`, through `dashboard.admin` (which writes each action
to the audit log, channel `web`) and `dashboard.audit`. Organisers who are not administrators get 403 here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from sms_board.community.areas import AreaError, all_areas, area_by_slug, area_summaries
from sms_board.community.invites import DEFAULT_DAYS, DEFAULT_USES, InviteError
from sms_board.dashboard import admin as administration
from sms_board.dashboard.audit import PAGE_SIZE, audit_page, in_words, invites_out
from sms_board.dashboard.signin_routes import admin_only, signed_in_only, viewer
from sms_board.models import Moderation
from sms_board.plumbing.utc import utcnow
from sms_board.text.phone import mask, normalise
from sms_board.web import sessions, settings
from sms_board.web.ids import page_number

bp = signed_in_only(Blueprint("admin", __name__, url_prefix="/dashboard/admin"))


def _page(form: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status: int = 200,
          new_code: dict[str, Any] | None = None) -> tuple[str, int]:
    with sessions()() as db:
        areas = area_summaries(db)
        organisers = administration.organisers(db)
        invites = invites_out(db, utcnow())
    return render_template("dashboard/admin.html", areas=areas, organisers=organisers, form=form or {},
                           errors=errors or {}, moderations=list(Moderation), invites=invites,
                           default_uses=DEFAULT_USES, default_days=DEFAULT_DAYS, new_code=new_code,
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
            name = administration.add_area(
                db, viewer().subscriber_id, form.get("slug", "").strip(), form.get("name", "").strip(), utcnow(),
                postcodes=postcodes, timezone=form.get("timezone", "").strip() or settings().timezone,
                private=form.get("private") == "1", moderation=form.get("moderation", Moderation.OPEN),
                public_page=form.get("public_page") == "1",
            ).name
    except AreaError as refused:
        return _page(dict(form), {refused.field or "slug": str(refused)}, 400)
    flash(f"Added {name}.")
    return redirect(url_for("admin.index"))


@bp.post("/areas/<slug>/public-page")
@admin_only
def public_page(slug: str) -> Response:
    """Turn an area's public page on (`public_page=1`) or off, as `sms-board area set` does."""
    on = request.form.get("public_page") == "1"
    try:
        with sessions().begin() as db:
            area = administration.turn_public_page(db, viewer().subscriber_id, slug, on, utcnow())
            name = area.name if area else None
    except AreaError as refused:
        flash(str(refused), "error")
        return redirect(url_for("admin.index"))
    if name is None:
        abort(404)
    flash(f"{name} has a public page now: anyone can read its posts, with first names, at /board/{slug.lower()}."
          if on else f"{name} has no public page now.")
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
        appointed = administration.appoint(db, viewer().subscriber_id, phone, form.get("area", ""), utcnow())
        if appointed is None:
            return _page({"number": form.get("number", "")}, {"organiser_area": "Choose an area."}, 400)
        name, added = appointed[0].name, appointed[1]
    flash(f"{mask(phone)} is {'now' if added else 'already'} an organiser of {name}.")
    return redirect(url_for("admin.index"))


@bp.post("/organisers/<id:subscriber_id>/<slug>/remove")
@admin_only
def remove(subscriber_id: int, slug: str) -> Response:
    with sessions().begin() as db:
        area = administration.remove(db, viewer().subscriber_id, subscriber_id, slug, utcnow())
        name = area.name if area else None
    if name is None:
        abort(404)
    flash(f"Removed an organiser of {name}.")
    return redirect(url_for("admin.index"))


@bp.post("/invites")
@admin_only
def invite() -> Any:
    """A code for a private area, shown once on this page (never in a redirect or a flash: those are cookies)."""
    form = request.form
    try:
        uses, days = int(form.get("uses") or DEFAULT_USES), int(form.get("days") or DEFAULT_DAYS)
    except ValueError:
        return _page(dict(form), {"invite": "Uses and days are whole numbers."}, 400)
    try:
        with sessions().begin() as db:
            shown = administration.invite(db, settings(), viewer().subscriber_id, form.get("area", ""), uses, days,
                                          utcnow())
            if shown is None:
                return _page(dict(form), {"invite": "Choose a private area."}, 400)
    except InviteError as refused:
        return _page(dict(form), {"invite": str(refused)}, 400)
    return _page(new_code=shown)


@bp.get("/audit")
@admin_only
def audit() -> str:
    slug = request.args.get("area") or None
    with sessions()() as db:
        area = area_by_slug(db, slug) if slug else None
        if slug and area is None:
            abort(404)
        page = audit_page(db, area.id if area else None, page_number(request.args.get("page")))
        areas = [(a.slug, a.name) for a in all_areas(db)]
    return render_template("dashboard/audit.html", page=page, areas=areas, slug=slug, page_size=PAGE_SIZE,
                           in_words=in_words)
