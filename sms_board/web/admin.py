"""Administrators: create areas and turn their public pages on or off, appoint and remove organisers,
invite codes, the audit log.

The same domain functions as `sms-board area add`, `sms-board area set`, `sms-board organiser add`,
`sms-board area invite` and `sms-board audit` (`community.areas.create_area`, `set_public_page`, `community.people`,
`community.invites.make_invite`, `community.audit.audit_log`). Each action here is written
to the audit log (channel `web`). Organisers who are not administrators get 403 here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from sms_board.community import audit as audit_log_of
from sms_board.community.areas import (
    AreaError,
    area_by_slug,
    area_summaries,
    create_area,
    set_public_page,
)
from sms_board.community.invites import DEFAULT_DAYS, DEFAULT_USES, InviteError, make_invite
from sms_board.community.people import appoint_organiser, remove_organiser
from sms_board.dashboard.audit import PAGE_SIZE, audit_page, in_words, invites_out
from sms_board.models import Area, AuditAction, Moderation, Organiser, Subscriber
from sms_board.phone import mask, normalise
from sms_board.utc import utcnow
from sms_board.web import sessions, settings
from sms_board.web.auth import admin_only, signed_in_only, viewer
from sms_board.web.ids import page_number

bp = signed_in_only(Blueprint("admin", __name__, url_prefix="/dashboard/admin"))


def _page(form: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status: int = 200,
          new_code: dict[str, Any] | None = None) -> tuple[str, int]:
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
        invites = invites_out(db, utcnow())
    return render_template("dashboard/admin.html", areas=areas, organisers=organisers, form=form or {},
                           errors=errors or {}, moderations=[m.value for m in Moderation], invites=invites,
                           default_uses=DEFAULT_USES, default_days=DEFAULT_DAYS, new_code=new_code,
                           default_timezone=settings().timezone), status


def _me(db) -> Subscriber:  # type: ignore[no-untyped-def]
    person = db.get(Subscriber, viewer().subscriber_id)
    assert person is not None
    return person  # type: ignore[no-any-return]


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
                public_page=form.get("public_page") == "1",
            )
            audit_log_of.area_added(db, area, utcnow(), actor=_me(db), channel="web")
            name = area.name
    except AreaError as refused:
        return _page(dict(form), {refused.field or "slug": str(refused)}, 400)
    flash(f"Added {name}.")
    return redirect(url_for("admin.index"))


@bp.post("/areas/<slug>/public-page")
@admin_only
def public_page(slug: str) -> Response:
    """Turn an area's public page on (`public_page=1`) or off, as `sms-board area set` does."""
    on = request.form.get("public_page") == "1"
    with sessions().begin() as db:
        area = area_by_slug(db, slug)
        if area is None:
            abort(404)
        try:
            changed = set_public_page(area, on)
        except AreaError as refused:
            flash(str(refused), "error")
            return redirect(url_for("admin.index"))
        if changed:
            audit_log_of.area_changed(db, area, utcnow(), actor=_me(db), channel="web", public_page=on)
        name = area.name
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
        area = area_by_slug(db, form.get("area", ""))
        if area is None:
            return _page({"number": form.get("number", "")}, {"organiser_area": "Choose an area."}, 400)
        added = appoint_organiser(db, phone, area, utcnow())
        if added:
            audit_log_of.organiser_added(db, area, phone, utcnow(), actor=_me(db), channel="web")
        name = area.name
    flash(f"{mask(phone)} is {'now' if added else 'already'} an organiser of {name}.")
    return redirect(url_for("admin.index"))


@bp.post("/organisers/<id:subscriber_id>/<slug>/remove")
@admin_only
def remove(subscriber_id: int, slug: str) -> Response:
    with sessions().begin() as db:
        area = area_by_slug(db, slug)
        removed = db.get(Subscriber, subscriber_id)
        if area is None or removed is None or not remove_organiser(db, subscriber_id, area):
            abort(404)
        audit_log_of.record(db, AuditAction.ORGANISER_REMOVE, utcnow(), actor=_me(db), channel="web", area_id=area.id,
                            organiser=mask(removed.phone))
        name = area.name
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
            area = area_by_slug(db, form.get("area", ""))
            if area is None:
                return _page(dict(form), {"invite": "Choose a private area."}, 400)
            me = _me(db)
            code = make_invite(db, settings(), area, utcnow(), uses=uses, days=days, actor=me,
                               label=audit_log_of.actor_label(me), channel="web")
            shown = {"code": code, "area": area.name, "slug": area.slug, "uses": uses, "days": days}
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
        areas = [(a.slug, a.name) for a in db.scalars(select(Area).order_by(Area.name))]
    return render_template("dashboard/audit.html", page=page, areas=areas, slug=slug, page_size=PAGE_SIZE,
                           in_words=in_words)
