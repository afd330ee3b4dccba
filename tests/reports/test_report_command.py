"""`sms-board report`: the month's figures as a person reads them, as JSON, as CSV, and shareable."""

from __future__ import annotations

import csv
import io
import json

from sms_board.community.report_figures import DEFINITIONS
from tests.reports.test_report_figures import ELM_NOVEMBER

EXTRA_KEYS = {"area", "month", "definitions_version", "final"}


def test_report_json_is_exactly_the_known_months_figures(elm_november, runner):
    document = json.loads(runner("report", "--area", "elm", "--month", "2026-11", "--json").stdout)
    assert set(document) == set(DEFINITIONS) | EXTRA_KEYS
    assert {key: document[key] for key in DEFINITIONS} == ELM_NOVEMBER
    assert (document["area"], document["month"], document["definitions_version"]) == ("elm", "2026-11", 1)
    assert document["final"] is True  # four days after November ended: kept when first asked


def test_report_defaults_to_the_last_complete_month_for_the_whole_board(elm_november, runner):
    document = json.loads(runner("report", "--json").stdout)
    assert (document["area"], document["month"]) == (None, "2026-11")
    assert document["exchanges"] == ELM_NOVEMBER["exchanges"]


def test_a_month_without_offers_has_no_median(elm_november, runner):
    document = json.loads(runner("report", "--area", "oak", "--month", "2026-11", "--json").stdout)
    assert document["median_hours_to_first_offer"] is None and document["requests"] == 0


def test_a_shareable_report_leaves_out_counts_from_one_to_four(elm_november, runner):
    document = json.loads(runner("report", "--area", "elm", "--month", "2026-11", "--json", "--shareable").stdout)
    small = sorted(key for key, value in ELM_NOVEMBER.items()
                   if isinstance(value, int) and 0 < value < 5 and key != "hours")
    assert document["suppressed"] == [key for key in DEFINITIONS if key in small]
    assert all(document[key] is None for key in small)
    assert document["requests"] == 5 and document["hours"] == 5.0


def test_a_shareable_csv_hides_a_second_area_where_the_total_would_give_one_away(elm_november, runner):
    rows = list(csv.DictReader(io.StringIO(runner("report", "--month", "2026-11", "--csv", "--shareable").stdout)))
    assert [row["area"] for row in rows] == ["elm", "oak", "river", ""]
    elm, oak, river, board = rows
    assert elm["requests"] == "5" and board["requests"] == "5"
    # Elm's 4 exchanges are hidden; Oak and Riverside had none, so the board's 4 would say it: hidden too.
    assert elm["exchanges"] == "" and board["exchanges"] == ""
    assert "exchanges" in board["suppressed"].split()
    assert oak["exchanges"] == river["exchanges"] == "0"


def test_the_plain_report_prints_every_definition(elm_november, runner):
    out = runner("report", "--area", "elm", "--month", "2026-11").stdout
    assert "Elm Street (elm), November 2026" in out
    for meaning in DEFINITIONS.values():
        assert meaning in out


def test_a_bad_month_or_area_is_one_clear_line(elm_november, runner):
    for args, words in ((["--month", "2026-13"], "is not a month: write it as YYYY-MM"),
                        (["--month", "Nov"], "is not a month"),
                        (["--month", "2027-01"], "has not begun yet"),
                        (["--area", "nowhere"], "nowhere")):
        result = runner("report", *args, ok=False)
        assert result.exit_code != 0
        assert words in result.output and len(result.output.strip().splitlines()) == 1, result.output
