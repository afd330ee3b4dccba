"""The Reports page: a month's figures for an area (or the whole board), twelve months of trend, and its downloads.

Every figure and its definition come from `community/report_figures.py` (`DEFINITIONS`), and
every month from `community/monthly_report.py`: a kept month is read from `report_snapshots`
(all of the scope's kept months in one statement), any other is worked out there, and a month
that is due to be kept is kept then (as `sms-board report` does). So the page costs the same
number of statements however many people the board has: one for the kept months, and the
figures of the one month not yet kept (four statements) until the clock keeps it.

A shareable page (`shareable=True`) is `report --shareable`'s: counts from 1 to 4 are "fewer
than 5", and on the whole board's page an area's row is suppressed where the total minus the
other areas would reveal it (`monthly_report.area_rows`). No report holds a name or a number.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_board.community.monthly_report import (
    SMALLEST_SHAREABLE,
    MonthlyReport,
    area_rows,
    monthly_report,
    scope_key,
    write_report_csv,
)
from sms_board.community.report_figures import DEFINITIONS, last_complete_month
from sms_board.models import Area, ReportSnapshot
from sms_board.plumbing.config import Settings
from sms_board.text.phrases import Phrase, phrase

TREND_MONTHS = 12
# The figures drawn as twelve months of trend, each with its table.
TREND = ("new_connections", "gave_and_received", "requests_unanswered_3_days")

# Each figure's name on the page (its definition is `DEFINITIONS`'s).
LABELS: dict[str, Phrase] = {
    "new_connections": phrase("New connections"),
    "exchanges": phrase("Exchanges"),
    "hours": phrase("Hours given"),
    "people_who_gave": phrase("People who gave"),
    "people_who_received": phrase("People who received"),
    "gave_and_received": phrase("Gave and received"),
    "repeat_givers": phrase("Gave to two or more people"),
    "requests": phrase("Requests"),
    "requests_with_offer": phrase("Requests with an offer"),
    "requests_unanswered_3_days": phrase("Requests unanswered for 3 days"),
    "median_hours_to_first_offer": phrase("Median hours to a first offer"),
    "active_members": phrase("Active members"),
    "new_members": phrase("New members"),
    "left": phrase("Left"),
    "isolated_members": phrase("Members never in an exchange"),
}
FEWER_THAN = phrase("fewer than %(n)s", n=SMALLEST_SHAREABLE)
NONE = phrase("none")


class NotAMonth(ValueError):
    """A `?month=` that is not one of the page's months."""


@dataclass(frozen=True)
class Figure:
    key: str
    label: Phrase
    value: int | float | None
    suppressed: bool
    definition: str

    @property
    def written(self) -> str | None:
        """None when there is a number to show (the page formats it); else the words in its place."""
        if self.value is not None:
            return None
        return FEWER_THAN if self.suppressed else NONE


@dataclass(frozen=True)
class TrendMonth:
    month: date
    value: int | None  # None: suppressed (fewer than 5) on a shareable page
    final: bool


@dataclass(frozen=True)
class Trend:
    key: str
    label: Phrase
    definition: str
    months: list[TrendMonth]


@dataclass(frozen=True)
class AreaRow:
    """A row of the whole board's shareable table: one area (or the board, `name` None)."""

    name: str | None
    figures: list[Figure]


@dataclass(frozen=True)
class ReportsPage:
    area_name: str | None  # None: the whole board
    month: date
    report: MonthlyReport
    figures: list[Figure]
    trends: list[Trend]
    months: list[date]  # the months to choose from, newest first
    shareable: bool
    area_rows: list[AreaRow]  # the whole board's shareable page: every area, then the board


def page_month(raw: str | None, settings: Settings, now: datetime) -> date:
    """`?month=YYYY-MM`: a complete month, not after the last one; None: the last complete month."""
    latest = last_complete_month(now, settings.zone)
    if not raw:
        return latest
    try:
        year, month = (int(part) for part in raw.split("-"))
        chosen = date(year, month, 1)
    except ValueError:
        raise NotAMonth(raw) from None
    if chosen > latest or year < 2000:
        raise NotAMonth(raw)
    return chosen


def _months_back(month: date, count: int) -> list[date]:
    """`count` months ending with `month`, oldest first."""
    index = month.year * 12 + month.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def _of_snapshot(area: Area | None, kept: ReportSnapshot) -> MonthlyReport:
    return MonthlyReport(area.slug if area else None, kept.month, dict(kept.figures), kept.definitions_version,
                         final=True)


def _figures(report: MonthlyReport) -> list[Figure]:
    return [Figure(key, LABELS[key], report.figures.get(key), key in report.suppressed, DEFINITIONS[key])
            for key in DEFINITIONS]


def reports_page(session: Session, settings: Settings, area_id: int | None, month: date, now: datetime,
                 *, shareable: bool = False) -> ReportsPage:
    """The page for one area (None: the whole board) and month: its figures and twelve months of trend."""
    area = session.get(Area, area_id) if area_id is not None else None
    kept = {row.month: row for row in session.scalars(
        select(ReportSnapshot).where(ReportSnapshot.scope == scope_key(area)))}
    reports: list[MonthlyReport] = []
    for each in _months_back(month, TREND_MONTHS):
        found = kept.get(f"{each:%Y-%m}")
        reports.append(_of_snapshot(area, found) if found else monthly_report(session, settings, area, each, now))
    shown = [report.shareable() if shareable else report for report in reports]
    chosen = shown[-1]
    rows: list[AreaRow] = []
    if shareable and area is None:
        areas = list(session.scalars(select(Area).order_by(Area.slug)))
        every = area_rows([*(monthly_report(session, settings, each, month, now) for each in areas), reports[-1]])
        rows = [AreaRow(each.name, _figures(row)) for each, row in zip(areas, every, strict=False)]
        rows.append(AreaRow(None, _figures(every[-1])))
        chosen = every[-1]
    latest = last_complete_month(now, settings.zone)
    months = sorted({latest, *(date.fromisoformat(f"{key}-01") for key in kept),
                     *(date.fromisoformat(f"{r.month}-01") for r in reports)}, reverse=True)
    trends = [Trend(key, LABELS[key], DEFINITIONS[key],
                    [TrendMonth(date.fromisoformat(f"{r.month}-01"), r.figures.get(key), r.final)  # type: ignore[arg-type]
                     for r in shown]) for key in TREND]
    return ReportsPage(area.name if area else None, month, chosen, _figures(chosen), trends, months, shareable, rows)


def reports_csv(session: Session, settings: Settings, area_id: int | None, month: date, now: datetime,
                *, shareable: bool = False) -> str:
    """`sms-board report --csv [--area] [--shareable]` for the month: one area's row, or each area's then the board's."""
    area = session.get(Area, area_id) if area_id is not None else None
    board = monthly_report(session, settings, area, month, now)
    rows: Sequence[MonthlyReport]
    if area is None:
        each = [monthly_report(session, settings, one, month, now)
                for one in session.scalars(select(Area).order_by(Area.slug))]
        rows = area_rows([*each, board]) if shareable else [*each, board]
    else:
        rows = [board.shareable() if shareable else board]
    out = io.StringIO()
    write_report_csv(out, rows, shareable)
    return out.getvalue()
