"""`/dashboard/subscribers/<id>/helpers`: a resident's trusted helpers, shown, recorded with the resident's
consent as the organiser took it, and ended (`trusted_helpers.py`, docs/helpers.md)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as Redirect

from sms_board.dashboard import trusted_helpers
from sms_board.dashboard.dashboard_routes import bp
from sms_board.dashboard.signin_routes import viewer
from sms_board.plumbing.utc import utcnow
from sms_board.web import sessions, settings
from sms_board.web.language import translated


@bp.get("/subscribers/<id:subscriber_id>/helpers")
def subscriber_helpers(subscriber_id: int) -> str:
    with sessions()() as db:
        page = trusted_helpers.helpers_page(db, viewer(), subscriber_id)
    if page is None:
        abort(404)
    return render_template("dashboard/helpers.html", page=page)


@bp.post("/subscribers/<id:subscriber_id>/helpers/add")
def subscriber_helper_add(subscriber_id: int) -> Redirect:
    """Record a helper: the helper's mobile, and how the resident agreed (both needed)."""
    back = url_for("dashboard.subscriber_helpers", subscriber_id=subscriber_id)
    number, consent = request.form.get("number", "").strip(), request.form.get("consent", "").strip()
    if not consent:
        flash(_("Say how the resident agreed, e.g. asked in person by Ruth, 3 Dec."), "error")
        return redirect(back)
    with sessions().begin() as db:
        said = trusted_helpers.record(db, settings(), viewer(), subscriber_id, number, consent, utcnow())
        if said is None:
            abort(404)
        if not said.changed:
            db.rollback()
            flash(translated(trusted_helpers.refusal(said)), "error")
            return redirect(back)
    flash(_("%(number)s is asked by text to be the helper (%(ref)s): nothing changes until they reply OK %(ref)s.",
            number=said.data["helper"], ref=said.data["ref"]))
    return redirect(back)


@bp.post("/helpers/<id:helper_id>/end")
def helper_end(helper_id: int) -> Redirect:
    with sessions().begin() as db:
        row = trusted_helpers.end(db, viewer(), helper_id, utcnow())
        if row is None:
            abort(404)
        ref, resident_id = row.ref, row.resident_id
    flash(_("%(ref)s has ended. Nobody is told: tell the resident and the helper if they should know.", ref=ref))
    return redirect(url_for("dashboard.subscriber_helpers", subscriber_id=resident_id))
