"""`/dashboard/subscribers`: who is subscribed (by area and state, searched by the digits a mask shows),
each one's language and how they hear the board (shown, and changed by an organiser), someone
enrolled by telephone, and a list imported or exported (`subscribers.py`, `roster.py`)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response as Redirect

from sms_board.community.hearing import HEARS_BY_NAMES, parse_hears_by
from sms_board.community.languages import board_language
from sms_board.dashboard.dashboard_routes import bp, page_scope
from sms_board.dashboard.roster import (
    NotText,
    enrol_by_telephone,
    export_csv,
    run_import,
    shown,
    upload_lines,
)
from sms_board.dashboard.scope import AreaRef, Viewer
from sms_board.dashboard.signin_routes import local_path, viewer
from sms_board.dashboard.subscribers import (
    STATE_NAMES,
    Search,
    SearchRefused,
    State,
    SubscriberPage,
    count_search,
    read_search,
    set_hears_by,
    set_language,
    subscriber_page,
)
from sms_board.plumbing.utc import utcnow
from sms_board.text.languages import pack
from sms_board.text.phrases import message_of
from sms_board.web import sessions, settings
from sms_board.web.ids import page_number
from sms_board.web.language import translated


@bp.get("/subscribers")
def subscribers() -> tuple[str, int]:
    """The list, narrowed by area and state; a search is the form's POST (below), never an address."""
    person = viewer()
    area, ids = page_scope(person)
    state = _state(request.args.get("state"))
    refused = None
    if request.args.get("digits") or request.args.get("number"):
        refused = _("Search with the form on this page: a number in a page's address ends up in logs.")
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
        status, refused = 400, message_of(bad)
    with sessions().begin() as db:
        wait = count_search(db, person.subscriber_id, utcnow()) if search else None
        if wait is not None:
            minutes = max(1, -(-int(wait.total_seconds()) // 60))
            status, refused, search = 429, ngettext("Too many searches: try again in %(num)s minute.",
                                                    "Too many searches: try again in %(num)s minutes.", minutes), Search()
        page = subscriber_page(db, ids, search=search, state=state, page=page_number(request.form.get("page")))
    return _subscribers_page(area, page, search, state, refused), status


def _state(value: str | None) -> State | None:
    return next((s for s in State if s.value == value), None)


def _subscribers_page(area: AreaRef | None, page: SubscriberPage, search: Search, state: State | None,
                      refused: str | None) -> str:
    board = settings().languages
    languages = [{"code": code, "tag": pack(code).tag, "name": pack(code).name} for code in board] \
        if len(board) > 1 else []
    return render_template("dashboard/subscribers.html", area=area, page=page, search=search, state=state,
                           states=list(State), state_names=STATE_NAMES, refused=refused, languages=languages,
                           calls=settings().voice.enabled, hearing=HEARS_BY_NAMES,
                           back=request.full_path.rstrip("?") if request.method == "GET" else url_for(
                               "dashboard.subscribers", area=area.slug if area else None))


@bp.post("/subscribers/<id:subscriber_id>/language")
def subscriber_language(subscriber_id: int) -> Redirect:
    """An organiser sets the language someone is texted in (a board of several languages only)."""
    person = viewer()
    board = settings()
    if len(board.languages) == 1:
        abort(404)
    back = local_path(request.form.get("back")) or url_for("dashboard.subscribers")
    try:
        code = board_language(board, request.form.get("language", ""))
    except ValueError as refused:
        flash(translated(message_of(refused)), "error")
        return redirect(back)
    if code is None:
        flash(_("Choose one of the board's languages."), "error")
        return redirect(back)
    with sessions().begin() as db:
        found = set_language(db, person, subscriber_id, code, utcnow())
    if found is None:
        abort(404)
    number, changed = found
    name = pack(code).name
    flash(_("%(number)s is texted in %(language)s now.", number=number, language=name) if changed
          else _("%(number)s is texted in %(language)s already.", number=number, language=name))
    return redirect(back)


@bp.post("/subscribers/<id:subscriber_id>/hears-by")
def subscriber_hears_by(subscriber_id: int) -> Redirect:
    """An organiser sets how someone hears the board: by text, or digests read by a call."""
    person = viewer()
    board = settings()
    back = local_path(request.form.get("back")) or url_for("dashboard.subscribers")
    try:
        wanted = parse_hears_by(request.form.get("hears_by", ""))
        if wanted is None:
            raise ValueError(_("Choose by text or by telephone."))
        with sessions().begin() as db:
            found = set_hears_by(db, board, person, subscriber_id, wanted)
    except ValueError as refused:
        flash(translated(message_of(refused)), "error")
        return redirect(back)
    if found is None:
        abort(404)
    number, changed = found
    how = translated(HEARS_BY_NAMES[wanted])
    flash(_("%(number)s hears the board %(how)s now.", number=number, how=how) if changed
          else _("%(number)s hears the board %(how)s already.", number=number, how=how))
    return redirect(back)


@bp.get("/subscribers/enrol")
def enrol_form() -> str:
    viewer()
    return _enrol_page({}, None)


@bp.post("/subscribers/enrol")
def enrol() -> Any:
    """Someone an organiser spoke to, subscribed to hear the board by telephone with the consent they gave."""
    person = viewer()
    fields = {name: request.form.get(name, "") for name in ("number", "name", "language", "consent_source")}
    area = _import_area(person)  # another's area: 404, as for an import
    if area is None:
        return _enrol_page(fields, _("Choose one of your areas.")), 400
    if not fields["consent_source"].strip():
        return _enrol_page(fields, _("Say how they agreed, e.g. “phoned by Ruth, 3 Dec”.")), 400
    db = sessions()()
    try:
        report = enrol_by_telephone(db, settings(), person, fields, area.id, utcnow())
        db.commit() if report.written else db.rollback()
    finally:
        db.close()
    problem = next(iter(report.errors + report.refused), None)
    if problem is not None:
        return _enrol_page(fields, translated(problem.message)), 400
    flash(_("Subscribed to %(area)s: their digests will be read to them by a call.", area=area.name)
          if report.imported else _("Already subscribed to %(area)s: nothing changed.", area=area.name))
    return redirect(url_for("dashboard.subscribers", area=area.slug))


def _enrol_page(fields: dict[str, str], error: str | None) -> str:
    board = settings()
    languages = [{"code": code, "tag": pack(code).tag, "name": pack(code).name} for code in board.languages]
    return render_template("dashboard/enrol.html", fields=fields, error=error, calls=board.voice.enabled,
                           languages=languages if len(languages) > 1 else [])


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
                               error=_("Choose a CSV file to check.")), 400
    else:
        filename = upload.filename
        try:
            lines = upload_lines(upload.read(), filename)
        except NotText as refused:
            return render_template("dashboard/import.html", report=None, area=chosen,
                                   error=message_of(refused)), 400
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
        flash(ngettext("%(imported)s of %(num)s row subscribed, each sent a welcome text; "
                       "%(already)s already subscribed, %(refused)s refused.",
                       "%(imported)s of %(num)s rows subscribed, each sent a welcome text; "
                       "%(already)s already subscribed, %(refused)s refused.",
                       report.rows, imported=report.imported, already=report.already, refused=len(report.refused)))
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
