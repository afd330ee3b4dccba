"""The monthly report: a month's figures for an area or the whole board, kept once the month is over.

Four days after a month ends (its last requests have had their 72 hours) its figures are kept
in `report_snapshots`, with the definitions version that made them: from then on a report
reads them (`final`), so a later FORGET, an expiry or a changed definition never changes a
past month. Until then a report is worked out from the board's history and is provisional.
A month that was due before this feature existed is worked out and kept the first time it is
asked for (or by the clock's first run). `docs/reports.md` has every rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_board.community.report_figures import (
    COUNTS,
    DEFINITIONS,
    DEFINITIONS_VERSION,
    Figures,
    Scope,
    figures,
    last_complete_month,
    month_period,
)
from sms_board.models import Area, ReportSnapshot
from sms_board.plumbing.config import Settings
from sms_board.plumbing.spreadsheet import write_csv

# How long after a month ends its figures are kept: its last requests' 72 hours, and a day to spare.
KEPT_AFTER = timedelta(days=4)
# Counts from 1 to this are "fewer than 5" in a shareable report: too few not to point at someone.
SMALLEST_SHAREABLE = 5
BOARD = "board"


class BadMonth(ValueError):
    """A `--month` that is not YYYY-MM, or a month that has not begun."""


@dataclass
class MonthlyReport:
    area: str | None  # the area's slug; None for the whole board
    month: str  # YYYY-MM
    figures: Figures
    definitions_version: int
    final: bool
    suppressed: list[str] = field(default_factory=list)

    def document(self, *, shareable: bool = False) -> dict[str, object]:
        """The JSON document: the figures, then `area`, `month`, `definitions_version`, `final`
        (and, shareable, `suppressed`)."""
        doc: dict[str, object] = {**self.figures, "area": self.area, "month": self.month,
                                  "definitions_version": self.definitions_version, "final": self.final}
        if shareable:
            doc["suppressed"] = list(self.suppressed)
        return doc

    def shareable(self) -> MonthlyReport:
        """Counts from 1 to 4 become null, and are listed in `suppressed`."""
        small = [key for key in COUNTS if isinstance(self.figures[key], int) and 0 < self.figures[key] < SMALLEST_SHAREABLE]  # type: ignore[operator]
        return self.suppress(small)

    def suppress(self, keys: Sequence[str]) -> MonthlyReport:
        hidden = [key for key in COUNTS if key in keys or key in self.suppressed]
        return MonthlyReport(self.area, self.month, {k: None if k in hidden else v for k, v in self.figures.items()},
                             self.definitions_version, self.final, hidden)


def parse_month(text: str | None, settings: Settings, now: datetime) -> date:
    """`YYYY-MM` → the month's first day; None → the last complete month on the board's clock."""
    if text is None:
        return last_complete_month(now, settings.zone)
    found = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise BadMonth(f"--month {text!r} is not a month: write it as YYYY-MM, e.g. "
                       f"{last_complete_month(now, settings.zone):%Y-%m}.")
    month = date(int(found.group(1)), int(found.group(2)), 1)
    if month > now.astimezone(settings.zone).date():
        raise BadMonth(f"--month {text} has not begun yet on the board's clock.")
    return month


def scope_key(area: Area | None) -> str:
    return BOARD if area is None else f"area:{area.id}"


def keepable(month: date, settings: Settings, now: datetime) -> bool:
    """Whether the month ended four days ago or more: its figures may be kept."""
    end = month_period(month, settings.zone).end
    return end is not None and now >= end + KEPT_AFTER


def monthly_report(session: Session, settings: Settings, area: Area | None, month: date, now: datetime) -> MonthlyReport:
    """The month's report: its kept figures, else (kept now if the month is due) worked out from history."""
    kept = session.scalar(select(ReportSnapshot).where(ReportSnapshot.month == f"{month:%Y-%m}",
                                                       ReportSnapshot.scope == scope_key(area)))
    if kept is None and keepable(month, settings, now):
        kept = keep(session, settings, area, month, now)
    slug = area.slug if area else None
    if kept is not None:
        return MonthlyReport(slug, kept.month, dict(kept.figures), kept.definitions_version, final=True)
    return MonthlyReport(slug, f"{month:%Y-%m}", _work_out(session, settings, area, month, now), DEFINITIONS_VERSION,
                         final=False)


def _work_out(session: Session, settings: Settings, area: Area | None, month: date, now: datetime) -> Figures:
    scope = Scope.of(area.id if area else None, settings.report_include_organisers)
    return figures(session, scope, month_period(month, settings.zone), now)


def keep(session: Session, settings: Settings, area: Area | None, month: date, now: datetime) -> ReportSnapshot:
    """Work out the month's figures and keep them (the month must be over by four days)."""
    snapshot = ReportSnapshot(month=f"{month:%Y-%m}", scope=scope_key(area), area_id=area.id if area else None,
                              figures=_work_out(session, settings, area, month, now),
                              definitions_version=DEFINITIONS_VERSION,
                              include_organisers=settings.report_include_organisers, kept_at=now)
    session.add(snapshot)
    session.flush()
    return snapshot


def keep_due_month(session: Session, settings: Settings, now: datetime) -> int:
    """The clock's job: keep the last complete month for the board and each area once it is due; how many kept."""
    month = last_complete_month(now, settings.zone)
    if not keepable(month, settings, now):
        return 0
    done = set(session.scalars(select(ReportSnapshot.scope).where(ReportSnapshot.month == f"{month:%Y-%m}")))
    wanted: list[Area | None] = [None, *session.scalars(select(Area).order_by(Area.id))]
    missing = [area for area in wanted if scope_key(area) not in done]
    for area in missing:
        keep(session, settings, area, month, now)
    return len(missing)


def area_rows(reports: Sequence[MonthlyReport]) -> list[MonthlyReport]:
    """Shareable rows of every area and the board total (last): a count that is small in one area
    alone would be revealed by the total minus the other areas, so a second area's count
    (the smallest shown, else the total's) is suppressed with it."""
    rows = [report.shareable() for report in reports]
    for key in COUNTS:
        areas = rows[:-1]
        hidden = [row for row in areas if key in row.suppressed]
        if len(hidden) != 1 or key in rows[-1].suppressed:
            continue
        shown = [row for row in areas if key not in row.suppressed and row.figures[key]]
        partner = min(shown, key=lambda row: row.figures[key]) if shown else rows[-1]  # type: ignore[arg-type,return-value]
        rows[rows.index(partner)] = partner.suppress([key])
    return rows


def csv_columns(shareable: bool) -> list[str]:
    """The columns of `report --csv` (and the Reports page's download): the figures, with `suppressed` when shareable."""
    return ["area", "month", "definitions_version", "final", *DEFINITIONS, *(["suppressed"] if shareable else [])]


def write_report_csv(out: TextIO, rows: Sequence[MonthlyReport], shareable: bool) -> None:
    """`report --csv`: one row per report, the columns of `csv_columns`."""
    write_csv(out, csv_columns(shareable), [
        {**row.document(shareable=shareable), "suppressed": " ".join(row.suppressed)} for row in rows
    ])
