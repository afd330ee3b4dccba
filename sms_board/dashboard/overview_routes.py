"""`/dashboard`: the overview (figures and charts of the viewer's areas, or of one with `?area=`), read by `overview.py`."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _

from sms_board.dashboard.dashboard_routes import bp, page_scope
from sms_board.dashboard.inbox import urgent_count
from sms_board.dashboard.overview import overview as overview_of
from sms_board.dashboard.overview_charts import bar_chart, gauge, legend, line_chart
from sms_board.dashboard.signin_routes import viewer
from sms_board.plumbing.utc import utcnow
from sms_board.web import sessions, settings
from sms_board.web.language import wording


@bp.get("")
def overview() -> str:
    person = viewer()
    area, ids = page_scope(person)
    words = wording()
    with sessions()() as db:
        figures = overview_of(db, settings(), None if person.is_admin and area is None else ids, utcnow())
        urgent = urgent_count(db, person)
    return render_template(
        "dashboard/overview.html", area=area, figures=figures, urgent=urgent,
        charts={
            "subscriptions": line_chart(figures.subscriptions, "subscriptions", words),
            "texts": line_chart(figures.texts, "texts", words),
            "texts_legend": legend(figures.texts, "texts", wording=words),
            "calls": line_chart(figures.calls, "calls", words) if figures.calls else None,
            "calls_legend": legend(figures.calls, "calls", wording=words) if figures.calls else None,
            "ledger": bar_chart(figures.ledger, "ledger", words),
            "ledger_legend": legend(figures.ledger, "ledger", bars=True, wording=words),
            "cap": gauge(figures.spend.segments, figures.spend.cap, _("Texts used this month against the cap")),
        },
    )
