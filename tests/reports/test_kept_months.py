"""Figures that don't move: a month is kept four days after it ends, and a later FORGET leaves it be."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from sms_board.models import ReportSnapshot
from tests.conftest import session_of
from tests.reports.test_report_figures import ELM_NOVEMBER, figures_of


def snapshots(app) -> int:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return session.scalar(select(func.count()).select_from(ReportSnapshot)) or 0


def test_a_month_is_provisional_until_four_days_after_it_ends_then_the_clock_keeps_it(
    app, elm_november, runner, month,
):
    month.at(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    assert elm_november_report(runner)["final"] is False
    runner("tick")
    assert snapshots(app) == 0
    month.at(datetime(2026, 12, 5, 0, 5, tzinfo=UTC))
    runner("tick")
    assert snapshots(app) == 4  # the board and each of its three areas
    kept = elm_november_report(runner)
    assert kept["final"] is True and {key: kept[key] for key in ELM_NOVEMBER} == ELM_NOVEMBER
    runner("tick")
    assert snapshots(app) == 4  # kept once


def elm_november_report(runner) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(runner("report", "--area", "elm", "--month", "2026-11", "--json").stdout)


def test_a_month_before_the_feature_is_worked_out_once_when_first_asked_and_then_kept(app, elm_november, runner):
    october = json.loads(runner("report", "--area", "elm", "--month", "2026-10", "--json").stdout)
    assert october["final"] is True and october["new_connections"] == 1
    assert snapshots(app) == 1


def test_a_forget_after_the_month_was_kept_changes_nothing_in_it(app, elm_november, runner, phone):
    before = elm_november_report(runner)
    assert before["final"] is True
    priya = elm_november["priya"]
    priya.text("FORGET")
    priya.text("YES")
    recomputed = figures_of(app, "elm", date(2026, 11, 1))
    assert recomputed["people_who_gave"] != ELM_NOVEMBER["people_who_gave"]  # the history did change
    assert elm_november_report(runner) == before
