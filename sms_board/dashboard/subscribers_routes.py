"""`/dashboard/subscribers`: who is subscribed (by area and state, searched by the digits a mask shows),
and a list imported or exported (`subscribers.py`, `roster.py`)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for

from sms_board.dashboard.dashboard_routes import bp, page_scope
from sms_board.dashboard.roster import NotText, export_csv, run_import, shown, upload_lines
from sms_board.dashboard.scope import AreaRef, Viewer
from sms_board.dashboard.signin_routes import viewer
from sms_board.dashboard.subscribers import (
    Search,
    SearchRefused,
    State,
    SubscriberPage,
    count_search,
    read_search,
    subscriber_page,
)
from sms_board.plumbing.utc import utcnow
from sms_board.web import sessions, settings
from sms_board.web.ids import page_number


@bp.get("/subscribers")
def subscribers() -> tuple[str, int]:
    """The list, narrowed by area and state; a search is the form's POST (below), never an address."""
    person = viewer()
    area, ids = page_scope(person)
    state = _state(request.args.get("state"))
    refused = None
    if request.args.get("digits") or request.args.get("number"):
        refused = "Search with the form on this page: a number in a page's address ends up in logs."
    with sessions()() as db:
        page = subscriber_page(db, ids, state=state, page=page_number(request.args.get("page")))
    return _subscribers_page(area, page, Search(), state, refused), 400 if refused else 200


@bp.post("/subscribers")
def subscribers_search() -> tuple[str, int]:
    """A search by the last digits a mask shows, or by a whole number; at most `SEARCHES` of them."""
    person = viewer()
    area = _import_area(person)
    ids = [area.id] if area else person.area_ids
    state = _state(request.form.get("state"))
    status, refused, search = 200, None, Search()
    try:
        search = read_search(request.form.get("number"), settings().default_region)
    except SearchRefused as bad:
        status, refused = 400, str(bad)
    with sessions().begin() as db:
        wait = count_search(db, person.subscriber_id, utcnow()) if search else None
        if wait is not None:
            minutes = max(1, -(-int(wait.total_seconds()) // 60))
            status, refused, search = 429, f"Too many searches: try again in {minutes} minutes.", Search()
        page = subscriber_page(db, ids, search=search, state=state, page=page_number(request.form.get("page")))
    return _subscribers_page(area, page, search, state, refused), status


def _state(value: str | None) -> State | None:
    return next((s for s in State if s.value == value), None)


def _subscribers_page(area: AreaRef | None, page: SubscriberPage, search: Search, state: State | None,
                      refused: str | None) -> str:
    return render_template("dashboard/subscribers.html", area=area, page=page, search=search, state=state,
                           states=list(State), refused=refused)


# ── import and export ─────────────────────────────────────────────────────


def _import_area(person: Viewer) -> AreaRef | None:
    slug = request.form.get("area") or None
    if slug is None:
        return None
    area = person.area(slug)
    if area is None:
        abort(404)
    return area


@bp.get("/subscribers/import")
def import_form() -> str:
    return render_template("dashboard/import.html", report=None, area=None, error=None)


@bp.post("/subscribers/import")
def import_check() -> Any:
    """Upload → dry run (every row checked, nothing written) → the import itself, from the checked text."""
    person = viewer()
    chosen = _import_area(person)
    confirm = request.form.get("step") == "import"
    upload = request.files.get("file")
    if confirm:
        filename, lines = request.form.get("filename", ""), request.form.get("csv", "").splitlines(keepends=True)
    elif upload is None or not upload.filename:
        return render_template("dashboard/import.html", report=None, area=chosen,
                               error="Choose a CSV file to check."), 400
    else:
        filename = upload.filename
        try:
            lines = upload_lines(upload.read(), filename)
        except NotText as refused:
            return render_template("dashboard/import.html", report=None, area=chosen, error=str(refused)), 400
    db = sessions()()
    try:
        report = run_import(db, settings(), person, lines, chosen.id if chosen else None, utcnow(),
                            dry_run=not confirm, filename=filename)
        if report.written:
            db.commit()
        else:
            db.rollback()
    finally:
        db.close()
    if report.written:
        flash(f"{report.imported} of {report.rows} rows subscribed, each sent a welcome text; "
              f"{report.already} already subscribed, {len(report.refused)} refused.")
        return redirect(url_for("dashboard.subscribers", area=chosen.slug if chosen else None))
    region = settings().default_region
    return render_template(
        "dashboard/import.html", report=report, area=chosen, error=None, filename=filename, csv="".join(lines),
        errors=shown(report.errors, region), refused=shown(report.refused, region), confirmed=confirm,
    ), 400 if report.errors else 200


@bp.post("/subscribers/export.csv")
def subscribers_export() -> Response:
    person = viewer()
    chosen = _import_area(person)
    with sessions().begin() as db:
        body, _rows = export_csv(db, person, [chosen.id] if chosen else person.area_ids, utcnow())
    name = f"subscribers-{chosen.slug if chosen else 'all'}{'' if person.is_admin else '-masked'}.csv"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})
