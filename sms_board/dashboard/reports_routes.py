"""`/dashboard/reports`: the month's figures with twelve months of trend, as a page, a CSV and a PDF (`reports.py`).

An administrator sees the whole board (and any area with `?area=`); an organiser sees their
areas (the first unless `?area=` names another of theirs; another area's is not found, as on
every page). `?month=YYYY-MM` chooses a month (default: the last complete one);
`?shareable=1` is the version for councils and funders (docs/reports.md).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from flask import Response, abort, render_template, request, send_file
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sms_board.dashboard.dashboard_routes import bp
from sms_board.dashboard.report_charts import trend_chart
from sms_board.dashboard.reports import (
    FEWER_THAN,
    NotAMonth,
    ReportsPage,
    page_month,
    reports_csv,
    reports_page,
)
from sms_board.dashboard.scope import AreaRef, Viewer
from sms_board.dashboard.signin_routes import viewer
from sms_board.plumbing.utc import utcnow
from sms_board.printing.report import report_pdf
from sms_board.web import sessions, settings
from sms_board.web.language import wording

T = TypeVar("T")


def _scope(person: Viewer) -> AreaRef | None:
    """`?area=` among the viewer's areas (else 404); without it, the board for an administrator, else their first area."""
    slug = request.args.get("area")
    if slug:
        area = person.area(slug)
        if area is None:
            abort(404)
        return area
    if person.is_admin:
        return None
    return person.areas[0] if person.areas else abort(404)


def _asked() -> tuple[AreaRef | None, date, bool]:
    person = viewer()
    area = _scope(person)
    try:
        month = page_month(request.args.get("month"), settings(), utcnow())
    except NotAMonth:
        abort(404)
    return area, month, request.args.get("shareable") == "1"


def _kept_and_read(read: Callable[[Session], T]) -> T:
    """`read` in a transaction that keeps the months it found due (as `sms-board report` does); when
    another view kept one of them first (the unique month and scope), read again: it is kept now."""
    for attempt in (1, 2):
        with sessions()() as db:
            try:
                found = read(db)
                db.commit()
                return found
            except IntegrityError:
                db.rollback()
                if attempt == 2:
                    raise
    raise AssertionError("unreachable")


def _page(area: AreaRef | None, month: date, shareable: bool) -> ReportsPage:
    return _kept_and_read(lambda db: reports_page(db, settings(), area.id if area else None, month, utcnow(),
                                                  shareable=shareable))


def _file_name(area: AreaRef | None, month: date, shareable: bool, ext: str) -> str:
    return f"report-{area.slug if area else 'board'}-{month:%Y-%m}{'-shareable' if shareable else ''}.{ext}"


@bp.get("/reports")
def reports() -> str:
    area, month, shareable = _asked()
    page = _page(area, month, shareable)
    words = wording()
    charts = {trend.key: trend_chart(trend, f"trend-{trend.key.replace('_', '-')}", words) for trend in page.trends}
    return render_template("dashboard/reports.html", area=area, page=page, charts=charts, words=words, fewer=FEWER_THAN,
                           areas=viewer().areas)


@bp.get("/reports/report.csv")
def reports_download() -> Response:
    area, month, shareable = _asked()
    body = _kept_and_read(lambda db: reports_csv(db, settings(), area.id if area else None, month, utcnow(),
                                                 shareable=shareable))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{_file_name(area, month, shareable, "csv")}"'})


@bp.get("/reports/report.pdf")
def reports_pdf() -> Response:
    area, month, shareable = _asked()
    page = _page(area, month, shareable)
    drawn = report_pdf(page, wording())
    return send_file(io.BytesIO(drawn), mimetype="application/pdf", as_attachment=True,
                     download_name=_file_name(area, month, shareable, "pdf"))
