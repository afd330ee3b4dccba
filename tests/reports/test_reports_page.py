"""The dashboard's Reports page: the month's figures and twelve months of trend, its CSV, its PDF, shareable."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import time_machine
from pypdf import PdfReader

from sms_board import create_app
from sms_board.community.report_figures import DEFINITIONS
from tests.conftest import Phone, Runner, app_config
from tests.reports.conftest import JOE, PRIYA, RUTH, SAM, ref_in
from tests.reports.test_report_figures import ELM_NOVEMBER
from tests.support.web import sign_in

ADMIN = "+447700900002"


def figure_cells(page: str) -> dict[str, str]:
    """The month's figures table: each figure's name and what is shown beside it."""
    table = page.split('class="report-figures"', 1)[1].split("</table>", 1)[0]
    return dict(re.findall(r'<th scope="row">([^<]+)</th><td class="num">([^<]*)</td>', table))


def trend_row(page: str, label: str) -> list[str]:
    """A trend's table: its twelve months' numbers, oldest first."""
    table = page.split("<h3 id=\"h-", 1)[1]
    found = re.search(rf'<tbody><tr><th scope="row">{re.escape(label)}</th>(.*?)</tr></tbody>', table)
    assert found, label
    return re.findall(r'<td class="num">([^<]*)', found.group(1))


def test_an_organiser_reads_their_areas_month_its_trend_and_the_same_csv_as_the_command(
    app, client, elm_november, runner,
):
    sign_in(client, RUTH)
    answer = client.get("/dashboard/reports")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Report for Elm Street, November 2026" in page
    cells = figure_cells(page)
    assert cells["New connections"] == "2" and cells["Hours given"] == "5"
    assert cells["Gave and received"] == "1" and cells["Requests unanswered for 3 days"] == "1"
    assert "Final: these figures were kept" in page  # four days after November: kept when first shown
    for definition in DEFINITIONS.values():
        assert str(definition).replace("'", "&#39;") in page
    # Twelve months, December 2025 to November 2026: Sam and Priya first helped each other in October.
    assert trend_row(page, "New connections") == ["0"] * 10 + ["1", "2"]
    assert trend_row(page, "Requests unanswered for 3 days")[-1] == "1"
    svg = re.findall(r'<svg class="chart"[^>]*role="img".*?</svg>', page, re.S)
    assert len(svg) == 3 and all("<title" in chart and "<desc" in chart for chart in svg)
    assert "Sam" not in page and "Priya" not in page and SAM[-6:] not in page

    download = client.get("/dashboard/reports/report.csv?month=2026-11")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.get_data(as_text=True) == runner("report", "--area", "elm", "--month", "2026-11", "--csv").stdout

    # Another area's report, or a month not over yet, is not found (as every page of another area is).
    assert client.get("/dashboard/reports?area=oak").status_code == 404
    assert client.get("/dashboard/reports/report.pdf?area=oak").status_code == 404
    assert client.get("/dashboard/reports/report.csv?area=oak").status_code == 404
    assert client.get("/dashboard/reports?month=2026-12").status_code == 404
    assert client.get("/dashboard/reports?month=nonsense").status_code == 404


def test_the_shareable_report_says_fewer_than_5_and_matches_the_shareable_csv(app, client, elm_november, runner):
    runner("admin", "add", ADMIN)
    sign_in(client, ADMIN)
    page = client.get("/dashboard/reports?month=2026-11&shareable=1").get_data(as_text=True)
    assert "Report for the whole board, November 2026" in page
    cells = figure_cells(page)
    assert cells["New connections"] == "fewer than 5" and cells["Requests"] == "5"
    assert "Elm Street" in page and "Oak Road" in page  # every area's row
    assert trend_row(page, "New connections")[-2:] == ["fewer than 5", "fewer than 5"]
    assert not re.search(r"\+?44\s?7700|07700", page) and "Sam" not in page
    shared = client.get("/dashboard/reports/report.csv?month=2026-11&shareable=1").get_data(as_text=True)
    assert shared == runner("report", "--month", "2026-11", "--csv", "--shareable").stdout
    plain = client.get("/dashboard/reports?month=2026-11&area=elm").get_data(as_text=True)
    assert figure_cells(plain)["Exchanges"] == str(ELM_NOVEMBER["exchanges"])


def test_the_pdf_prints_the_month_in_welsh_with_its_letters(db, tmp_path):
    with time_machine.travel(datetime(2026, 11, 3, 10, 0, tzinfo=UTC), tick=False) as traveller:
        app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en"))
        runner = Runner(app)
        runner("area", "add", "tygwyn", "Tŷ Gwyn", "--postcode", "LL55")
        client = app.test_client()
        sam, priya = Phone(client, SAM), Phone(client, PRIYA)
        for person in (sam, priya, Phone(client, JOE), Phone(client, RUTH)):
            person.text("JOIN TYGWYN")
        runner("organiser", "add", RUTH, "tygwyn")
        ref = ref_in(sam.text("NEED help with the hedge")[0], "R")
        priya.text(f"CAN {ref}")
        sam.text(f"OK {ref}")
        sam.text(f"DONE {ref} 2")
        traveller.move_to(datetime(2026, 12, 6, 12, 0, tzinfo=UTC) + timedelta(hours=1))
        sign_in(client, RUTH)
        answer = client.get("/dashboard/reports/report.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Tŷ Gwyn" in text and "Tachwedd 2026" in text, text
    assert "Cysylltiadau newydd" in text and "Oriau a roddwyd" in text, text
    assert re.search(r"Cysylltiadau newydd\s*1\b", text), text
    assert "Sam" not in text and "07700" not in text
