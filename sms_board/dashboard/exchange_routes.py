"""`/dashboard/exchange`: the help exchange this month, and the ledger as CSV (`exchange.py`)."""

from __future__ import annotations

from flask import Response, render_template

from sms_board.broadcast.billing import month_start
from sms_board.community.areas import areas_by_id
from sms_board.dashboard.dashboard_routes import bp, page_scope
from sms_board.dashboard.exchange import exchange_page, ledger_csv
from sms_board.dashboard.signin_routes import viewer
from sms_board.plumbing.utc import utcnow
from sms_board.web import sessions, settings


@bp.get("/exchange")
def exchange() -> str:
    person = viewer()
    area, ids = page_scope(person)
    since = month_start(utcnow(), settings())
    with sessions()() as db:
        page = exchange_page(db, ids, since)
    return render_template("dashboard/exchange.html", area=area, page=page, since=since)


@bp.get("/exchange/ledger.csv")
def ledger_download() -> Response:
    person = viewer()
    _, ids = page_scope(person)
    with sessions()() as db:
        areas = areas_by_id(db, ids, by_slug=True)
        body = ledger_csv(db, areas, None)
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="ledger.csv"'})
