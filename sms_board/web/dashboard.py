"""The organisers' dashboard pages: overview, inbox, moderation, subscribers (import, export), the help exchange.

Thin routes: each reads what it shows through `sms_board.dashboard` (or acts through
the same domain functions the SMS keywords use) in one short transaction, then renders.
`?area=slug` narrows any page to one of the viewer's areas.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from sms_board.broadcast.billing import month_start
from sms_board.community.areas import areas_by_id
from sms_board.dashboard.exchange import exchange_page, ledger_csv
from sms_board.dashboard.inbox import ReplyRefused, inbox_page, mark_dealt_with, reply, urgent_count
from sms_board.dashboard.moderation_queue import (
    Decision,
    NotInQueue,
    decide,
    moderation_queue,
    told,
)
from sms_board.dashboard.overview import overview as overview_of
from sms_board.dashboard.roster import NotText, export_csv, run_import, shown, upload_lines
from sms_board.dashboard.scope import AreaRef, Viewer
from sms_board.dashboard.subscribers import (
    Search,
    SearchRefused,
    State,
    SubscriberPage,
    count_search,
    read_search,
    subscriber_page,
)
from sms_board.models import OutboxStatus
from sms_board.plumbing.utc import utcnow
from sms_board.web import sessions, settings
from sms_board.web.auth import local_path, signed_in_only, viewer
from sms_board.web.charts import bar_chart, gauge, legend, line_chart
from sms_board.web.ids import page_number

bp = signed_in_only(Blueprint("dashboard", __name__, url_prefix="/dashboard"))


def scope(person: Viewer) -> tuple[AreaRef | None, list[int]]:
    """The one area chosen with `?area=`, or all of the viewer's areas."""
    slug = request.args.get("area")
    if not slug:
        return None, person.area_ids
    area = person.area(slug)
    if area is None:
        abort(404)
    return area, [area.id]


@bp.get("")
def overview() -> str:
    person = viewer()
    area, ids = scope(person)
    with sessions()() as db:
        figures = overview_of(db, settings(), None if person.is_admin and area is None else ids, utcnow())
        urgent = urgent_count(db, person)
    return render_template(
        "dashboard/overview.html", area=area, figures=figures, urgent=urgent,
        charts={
            "subscriptions": line_chart(figures.subscriptions, "subscriptions"),
            "texts": line_chart(figures.texts, "texts"),
            "texts_legend": legend(figures.texts, "texts"),
            "ledger": bar_chart(figures.ledger, "ledger"),
            "ledger_legend": legend(figures.ledger, "ledger", bars=True),
            "cap": gauge(figures.spend.segments, figures.spend.cap, "Texts used this month against the cap"),
        },
    )


@bp.get("/inbox")
def inbox() -> str:
    person = viewer()
    show_all = request.args.get("show") == "all"
    with sessions()() as db:
        page = inbox_page(db, person, show_all=show_all, page=page_number(request.args.get("page")))
    return render_template("dashboard/inbox.html", page=page, show_all=show_all)


@bp.post("/inbox/<id:inbound_id>/dealt-with")
def dealt_with(inbound_id: int) -> Response:
    undo = request.form.get("undo") == "1"
    with sessions().begin() as db:
        if not mark_dealt_with(db, viewer(), inbound_id, utcnow(), undo=undo):
            abort(404)
    flash("Moved back to the inbox." if undo else "Marked as dealt with.")
    return redirect(local_path(request.form.get("back")) or url_for("dashboard.inbox"))


@bp.post("/inbox/<id:inbound_id>/reply")
def reply_to(inbound_id: int) -> Any:
    try:
        with sessions().begin() as db:
            sent = reply(db, settings(), viewer(), inbound_id, request.form.get("text", ""), utcnow())
            held = sent.status == OutboxStatus.HELD
    except ReplyRefused as refused:
        flash(str(refused), "error")
        return redirect(url_for("dashboard.inbox", _anchor=f"text-{inbound_id}"))
    flash("Reply queued: it goes when quiet hours end." if held else "Reply sent to the outbox.")
    return redirect(url_for("dashboard.inbox"))


@bp.get("/subscribers")
def subscribers() -> tuple[str, int]:
    """The list, narrowed by area and state; a search is the form's POST (below), never an address."""
    person = viewer()
    area, ids = scope(person)
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


@bp.get("/exchange")
def exchange() -> str:
    person = viewer()
    area, ids = scope(person)
    since = month_start(utcnow(), settings())
    with sessions()() as db:
        page = exchange_page(db, ids, since)
    return render_template("dashboard/exchange.html", area=area, page=page, since=since)


@bp.get("/exchange/ledger.csv")
def ledger_download() -> Response:
    person = viewer()
    _, ids = scope(person)
    with sessions()() as db:
        areas = areas_by_id(db, ids, by_slug=True)
        body = ledger_csv(db, areas, None)
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="ledger.csv"'})


# ── moderation ──────────────────────────────────────────────────────────────


@bp.get("/moderation")
def moderation() -> str:
    with sessions()() as db:
        entries = moderation_queue(db, viewer())
    return render_template("dashboard/moderation.html", entries=entries)


@bp.post("/moderation/<id:item_id>")
def moderate(item_id: int) -> Response:
    decision = next((d for d in Decision if d.value == request.form.get("decision")), None)
    if decision is None:
        abort(400)
    try:
        with sessions().begin() as db:
            outcome, item = decide(db, settings(), viewer(), item_id, decision, request.form.get("reason", ""),
                                   utcnow())
            message = told(outcome, item)
    except NotInQueue:
        abort(404)
    flash(message)
    return redirect(url_for("dashboard.moderation"))


# ── subscribers: import and export ────────────────────────────────────────


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
