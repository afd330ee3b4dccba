"""`/dashboard/reports`: the month's figures with twelve months of trend, as a page, a CSV and a PDF (`reports.py`).

An administrator sees the whole board (and any area with `?area=`); an organiser sees their
areas (the first unless `?area=` names another of theirs; another area's is not found, as on
every page). `?month=YYYY-MM` chooses a month (default: the last complete one);
`?shareable=1` is the version for councils and funders (docs/reports.md).
"""

from __future__ import annotations

import io

from flask import Response, abort, render_template, request, send_file
from sqlalchemy.exc import IntegrityError

from sms_board.dashboard.dashboard_routes import bp
from sms_board.dashboard.report_charts import trend_chart
from sms_board.dashboard.reports import FEWER_THAN, NotAMonth, page_month, reports_csv, reports_page
from sms_board.dashboard.scope import AreaRef, Viewer
from sms_board.dashboard.signin_routes import viewer
from sms_board.plumbing.utc import utcnow
from sms_board.printing.report import report_pdf
from sms_board.web import sessions, settings
from sms_board.web.language import wording


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


def _asked() -> tuple[AreaRef | None, object, bool]:
    person = viewer()
    area = _scope(person)
    try:
        month = page_month(request.args.get("month"), settings(), utcnow())
    except NotAMonth:
        abort(404)
    return area, month, request.args.get("shareable") == "1"


def _page(area: AreaRef | None, month, shareable: bool):  # type: ignore[no-untyped-def]
    with sessions()() as db:
        page = reports_page(db, settings(), area.id if area else None, month, utcnow(), shareable=shareable)
        try:
            db.commit()  # months that were due are kept now, as `sms-board report` keeps them
        except IntegrityError:  # another view kept them first: the figures are the same
            db.rollback()
    return page


def _file_name(area: AreaRef | None, month, shareable: bool, ext: str) -> str:  # type: ignore[no-untyped-def]
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
    with sessions()() as db:
        body = reports_csv(db, settings(), area.id if area else None, month, utcnow(), shareable=shareable)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{_file_name(area, month, shareable, "csv")}"'})


@bp.get("/reports/report.pdf")
def reports_pdf() -> Response:
    area, month, shareable = _asked()
    page = _page(area, month, shareable)
    drawn = report_pdf(page, wording())
    return send_file(io.BytesIO(drawn), mimetype="application/pdf", as_attachment=True,
                     download_name=_file_name(area, month, shareable, "pdf"))
