"""Administrators: create areas and turn their public pages on or off, appoint and remove organisers,
invite codes, the audit log, an area's poster.

The same domain functions as `sms-board area add`, `sms-board area set`, `sms-board organiser add`,
`sms-board area invite`, `sms-board audit` and `sms-board poster`, through `dashboard.admin` (which writes each action
to the audit log, channel `web`) and `dashboard.audit`. Organisers who are not administrators get 403 here.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from sms_board.community.areas import AreaError, all_areas, area_by_slug, area_summaries
from sms_board.community.invites import DEFAULT_DAYS, DEFAULT_USES, InviteError
from sms_board.dashboard import admin as administration
from sms_board.dashboard.audit import (
    PAGE_SIZE,
    action_name,
    audit_page,
    channel_name,
    in_words,
    invites_out,
    who_name,
)
from sms_board.dashboard.signin_routes import admin_only, signed_in_only, viewer
from sms_board.models import Moderation
from sms_board.plumbing.utc import utcnow
from sms_board.printing.poster import SIZES, NoPoster, poster_for, poster_pdf
from sms_board.text.phone import mask, normalise
from sms_board.text.phrases import message_of
from sms_board.web import sessions, settings
from sms_board.web.ids import page_number
from sms_board.web.language import translated, wording

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
                           default_timezone=settings().timezone, who_name=who_name), status


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
        return _page(dict(form), {"name": _("Give the area a name residents will recognise.")}, 400)
    try:
        with sessions().begin() as db:
            name = administration.add_area(
                db, viewer().subscriber_id, form.get("slug", "").strip(), form.get("name", "").strip(), utcnow(),
                postcodes=postcodes, timezone=form.get("timezone", "").strip() or settings().timezone,
                private=form.get("private") == "1", moderation=form.get("moderation", Moderation.OPEN),
                public_page=form.get("public_page") == "1",
            ).name
    except AreaError as refused:
        return _page(dict(form), {refused.field or "slug": message_of(refused)}, 400)
    flash(_("Added %(name)s.", name=name))
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
        flash(translated(message_of(refused)), "error")
        return redirect(url_for("admin.index"))
    if name is None:
        abort(404)
    address = "/board/" + slug.lower()
    flash(_("%(name)s has a public page now: anyone can read its posts, with first names, at %(address)s.",
            name=name, address=address) if on else _("%(name)s has no public page now.", name=name))
    return redirect(url_for("admin.index"))


@bp.get("/areas/<slug>/poster.pdf")
@admin_only
def poster(slug: str) -> Response:
    """An area's poster as `sms-board poster` draws it: `?size=a5`, `&strips=1`. A private area has none (404)."""
    size = request.args.get("size", "a4").lower()
    if size not in SIZES:
        abort(404)
    with sessions()() as db:
        area = area_by_slug(db, slug)
        if area is None or area.private:
            abort(404)
        try:
            drawn = poster_pdf(poster_for(settings(), area, strips=request.args.get("strips") == "1"),
                               size)  # type: ignore[arg-type]
        except NoPoster as refused:
            flash(translated(message_of(refused)), "error")
            return redirect(url_for("admin.index"))
    return send_file(io.BytesIO(drawn), mimetype="application/pdf", as_attachment=True,
                     download_name=f"poster-{slug.lower()}-{size}.pdf")


@bp.post("/organisers")
@admin_only
def appoint() -> Any:
    form = request.form
    phone = normalise(form.get("number", ""), settings().default_region)
    if phone is None:
        return _page({"number": form.get("number", ""), "area": form.get("area")},
                     {"number": _("That is not a phone number.")}, 400)
    with sessions().begin() as db:
        appointed = administration.appoint(db, viewer().subscriber_id, phone, form.get("area", ""), utcnow())
        if appointed is None:
            return _page({"number": form.get("number", "")}, {"organiser_area": _("Choose an area.")}, 400)
        name, added = appointed[0].name, appointed[1]
    flash(_("%(number)s is now an organiser of %(area)s.", number=mask(phone), area=name) if added
          else _("%(number)s is already an organiser of %(area)s.", number=mask(phone), area=name))
    return redirect(url_for("admin.index"))


@bp.post("/organisers/<id:subscriber_id>/<slug>/remove")
@admin_only
def remove(subscriber_id: int, slug: str) -> Response:
    with sessions().begin() as db:
        area = administration.remove(db, viewer().subscriber_id, subscriber_id, slug, utcnow())
        name = area.name if area else None
    if name is None:
        abort(404)
    flash(_("Removed an organiser of %(area)s.", area=name))
    return redirect(url_for("admin.index"))


@bp.post("/invites")
@admin_only
def invite() -> Any:
    """A code for a private area, shown once on this page (never in a redirect or a flash: those are cookies)."""
    form = request.form
    try:
        uses, days = int(form.get("uses") or DEFAULT_USES), int(form.get("days") or DEFAULT_DAYS)
    except ValueError:
        return _page(dict(form), {"invite": _("Uses and days are whole numbers.")}, 400)
    try:
        with sessions().begin() as db:
            shown = administration.invite(db, settings(), viewer().subscriber_id, form.get("area", ""), uses, days,
                                          utcnow())
            if shown is None:
                return _page(dict(form), {"invite": _("Choose a private area.")}, 400)
    except InviteError as refused:
        return _page(dict(form), {"invite": message_of(refused)}, 400)
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
    words = wording()
    return render_template("dashboard/audit.html", page=page, areas=areas, slug=slug, page_size=PAGE_SIZE,
                           in_words=lambda action, detail: in_words(action, detail, words),
                           action_name=action_name, channel_name=channel_name, who_name=who_name)
