"""On the 1st of each month, after quiet hours, each organiser hears how each of their areas did.

One text per organiser and area, in the organiser's language ("November in Elm Street: 2 pairs
of neighbours connected for the first time, 5 hours given, 1 request waited more than 3 days."),
with the month's figures as `sms-board report` gives them then (provisional: the month is kept
four days later). A month's texts go once: the run that writes its `report_text_runs` row sends
them, in the same transaction, and no other run can write it again. When the board's address is
set (`SMS_BOARD_PUBLIC_URL`) the text ends with a link to the area's Reports page on the
dashboard (`reports_link`) when it still fits the segment budget; without the address there is
nothing to link to, and the text has no link.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sms_board.community.languages import texts_for
from sms_board.community.monthly_report import monthly_report
from sms_board.community.report_figures import Figures, last_complete_month
from sms_board.models import Area, Organiser, OutboxKind, ReportTextRun, Subscriber
from sms_board.plumbing.config import Settings
from sms_board.plumbing.db import is_sqlite
from sms_board.sending.outbox import enqueue
from sms_board.text.segments import analyse

# The texts go on the month's first days only: a clock down on the 1st sends them on the 2nd or 3rd, not later.
SENT_BY_DAY = 3


def due(settings: Settings, now: datetime) -> bool:
    """The first days of a month on the board's clock, outside quiet hours."""
    local = now.astimezone(settings.zone)
    quiet = settings.quiet_hours is not None and settings.quiet_hours.contains(local.time())
    return local.day <= SENT_BY_DAY and not quiet


def text_organisers(session: Session, settings: Settings, now: datetime) -> int:
    """The last complete month's text to every organiser of every area, once; returns how many were queued."""
    if not due(settings, now):
        return 0
    month = last_complete_month(now, settings.zone)
    if not _claim(session, f"{month:%Y-%m}", now):
        return 0
    queued = 0
    for area in session.scalars(select(Area).order_by(Area.id)):
        organisers = list(session.scalars(select(Subscriber).join(Organiser, Organiser.subscriber_id == Subscriber.id)
                                          .where(Organiser.area_id == area.id).order_by(Subscriber.id)))
        if not organisers:
            continue
        figures = monthly_report(session, settings, area, month, now).figures
        for organiser in organisers:
            for body in monthly_texts(settings, organiser, month, area, figures):
                queued += enqueue(session, settings, organiser, body, OutboxKind.NOTIFY, now=now) is not None
    return queued


def monthly_texts(settings: Settings, organiser: Subscriber, month: date, area: Area, figures: Figures) -> list[str]:
    """The month's text in each language the organiser reads: with the Reports page's link when the board
    has an address and the text still fits the segment budget with it, else without."""
    hours = float(figures["hours"] or 0)
    data: dict[str, object] = {"month": month, "area": area, "figures": figures, "hours": f"{hours:g}",
                               "hours_count": round(hours)}
    link = reports_link(area, settings.public_url)
    if link:
        linked = texts_for(settings, organiser, "monthly_report", **data, link=link)
        if all(analyse(body).segments <= settings.digest_segments for body in linked):
            return linked
    return texts_for(settings, organiser, "monthly_report", **data, link=None)


def reports_link(area: Area, public_url: str | None) -> str | None:
    """The area's Reports page as a text gives it (without `https://`, as the board's page is), or None."""
    if not public_url:
        return None
    return f"{public_url.split('://', 1)[-1]}/dashboard/reports?area={area.slug}"


def _claim(session: Session, month: str, now: datetime) -> bool:
    """Write the month's run row; False when a run already did (its texts went, or are going)."""
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    return session.scalar(insert(ReportTextRun).values(month=month, created_at=now)
                          .on_conflict_do_nothing(index_elements=["month"]).returning(ReportTextRun.month)) is not None
