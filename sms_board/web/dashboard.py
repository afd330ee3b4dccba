"""The organisers' dashboard pages: overview, inbox, subscribers, the help exchange.

Thin routes: each reads what it shows through `sms_board.dashboard` (or acts through
the same domain functions the SMS keywords use) in one short transaction, then renders.
`?area=slug` narrows any page to one of the viewer's areas.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from sms_board.broadcast.billing import month_start
from sms_board.dashboard.exchange import exchange_page, ledger_csv
from sms_board.dashboard.inbox import ReplyRefused, inbox_page, mark_dealt_with, reply
from sms_board.dashboard.overview import overview as overview_of
from sms_board.dashboard.scope import AreaRef, Viewer
from sms_board.dashboard.subscribers import State, search_digits, subscriber_page
from sms_board.models import Area
from sms_board.utc import utcnow
from sms_board.web import sessions, settings
from sms_board.web.auth import local_path, require_viewer, viewer
from sms_board.web.charts import bar_chart, gauge, line_chart

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
bp.before_request(require_viewer)


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


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
    return render_template(
        "dashboard/overview.html", area=area, figures=figures,
        charts={
            "subscriptions": line_chart(figures.subscriptions, "subscriptions"),
            "texts": line_chart(figures.texts, "texts"),
            "ledger": bar_chart(figures.ledger, "ledger"),
            "cap": gauge(figures.spend.segments, figures.spend.cap, "Segments used this month against the cap"),
        },
    )


@bp.get("/inbox")
def inbox() -> str:
    person = viewer()
    show_all = request.args.get("show") == "all"
    with sessions()() as db:
        page = inbox_page(db, person, show_all=show_all, page=_page_number())
    return render_template("dashboard/inbox.html", page=page, show_all=show_all)


@bp.post("/inbox/<int:inbound_id>/dealt-with")
def dealt_with(inbound_id: int) -> Response:
    undo = request.form.get("undo") == "1"
    with sessions().begin() as db:
        if not mark_dealt_with(db, viewer(), inbound_id, utcnow(), undo=undo):
            abort(404)
    flash("Moved back to the inbox." if undo else "Marked as dealt with.")
    return redirect(local_path(request.form.get("back")) or url_for("dashboard.inbox"))


@bp.post("/inbox/<int:inbound_id>/reply")
def reply_to(inbound_id: int) -> Any:
    try:
        with sessions().begin() as db:
            sent = reply(db, settings(), viewer(), inbound_id, request.form.get("text", ""), utcnow())
            held = sent.status == "held"
    except ReplyRefused as refused:
        flash(str(refused), "error")
        return redirect(url_for("dashboard.inbox", _anchor=f"text-{inbound_id}"))
    flash("Reply queued: it goes when quiet hours end." if held else "Reply sent to the outbox.")
    return redirect(url_for("dashboard.inbox"))


@bp.get("/subscribers")
def subscribers() -> str:
    person = viewer()
    area, ids = scope(person)
    digits = search_digits(request.args.get("digits"))
    state = next((s for s in State if s.value == request.args.get("state")), None)
    with sessions()() as db:
        page = subscriber_page(db, ids, digits=digits, state=state, page=_page_number())
    return render_template("dashboard/subscribers.html", area=area, page=page, digits=digits, state=state,
                           states=list(State))


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
        areas = list(db.scalars(select(Area).where(Area.id.in_(ids)).order_by(Area.slug)))
        body = ledger_csv(db, areas, None)
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="ledger.csv"'})
