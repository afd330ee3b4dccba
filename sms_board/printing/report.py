"""The Reports page as a one-page A4 PDF, for a councillor or a funder: the same figures, words and trend.

Drawn from the page's own read model (`dashboard.reports.ReportsPage`) in the page's language
(`Wording`), with the shipped DejaVu Sans (`fonts.unicode_pdf`) so that ŵ, ŷ and ł print. Each
figure has its definition beside it (`report_figures.DEFINITIONS`); each trend is twelve bars with
its number over each month (a shareable report's small counts are "<5"). Nothing about anyone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sms_board.printing.fonts import FAMILY, unicode_pdf
from sms_board.text.phrases import Wording, phrase

if TYPE_CHECKING:
    from fpdf import FPDF

    from sms_board.dashboard.reports import Figure, ReportsPage, Trend

_MARGIN = 15.0
_GREEN, _GREY, _BLACK = (31, 111, 80), (90, 90, 90), (0, 0, 0)


def _value(figure: Figure, wording: Wording) -> str:
    if figure.value is None:
        return wording(figure.written or "")
    return wording.number(figure.value)


def report_pdf(page: ReportsPage, wording: Wording) -> bytes:
    """The page's month, figures and trends on one A4 page (more pages only for a board of many areas)."""
    pdf = unicode_pdf("a4")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(True, _MARGIN)
    pdf.add_page()
    month = wording.date(page.month, "LLLL yyyy")
    where = page.area_name or wording(phrase("The whole board"))
    pdf.set_font(FAMILY, "B", 16)
    pdf.multi_cell(0, 7, wording(phrase("%(where)s: %(month)s", where=where, month=month)),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_text_color(*_GREY)
    state = (phrase("Final: these figures were kept and will not change.") if page.report.final else
             phrase("Provisional: the figures are kept four days after the month ends."))
    lines = [wording(state), wording(phrase("Definitions version %(version)s.", version=page.report.definitions_version))]
    if page.shareable:
        lines.append(wording(phrase("Shareable report: counts from 1 to 4 are shown as fewer than 5.")))
    pdf.multi_cell(0, 4, " ".join(lines), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _figures(pdf, page.figures, wording)
    pdf.ln(3)
    _trends(pdf, page.trends, wording)
    if page.area_rows:
        pdf.ln(3)
        _area_rows(pdf, page, wording)
    return bytes(pdf.output())


def _figures(pdf: FPDF, figures: list[Figure], wording: Wording) -> None:
    label_w, value_w = 54.0, 26.0
    text_w = pdf.w - 2 * _MARGIN - label_w - value_w
    pdf.set_text_color(*_BLACK)
    for figure in figures:
        label, definition = wording(figure.label), wording(figure.definition)
        pdf.set_font(FAMILY, "B", 8.5)
        label_h = float(pdf.multi_cell(label_w - 2, 3.8, label, dry_run=True, output="HEIGHT"))
        pdf.set_font(FAMILY, "", 6.8)
        text_h = float(pdf.multi_cell(text_w, 3.1, definition, dry_run=True, output="HEIGHT"))
        top = pdf.get_y()
        pdf.set_draw_color(217, 214, 205)
        pdf.line(_MARGIN, top, pdf.w - _MARGIN, top)
        pdf.set_font(FAMILY, "B", 8.5)
        pdf.set_xy(_MARGIN, top + 0.6)
        pdf.multi_cell(label_w - 2, 3.8, label, align="L")
        pdf.set_xy(_MARGIN + label_w, top + 0.6)
        pdf.cell(value_w - 3, 3.8, _value(figure, wording), align="R")
        pdf.set_font(FAMILY, "", 6.8)
        pdf.set_text_color(*_GREY)
        pdf.set_xy(_MARGIN + label_w + value_w, top + 0.6)
        pdf.multi_cell(text_w, 3.1, definition, align="L")
        pdf.set_text_color(*_BLACK)
        pdf.set_xy(_MARGIN, top + max(label_h, text_h, 3.8) + 1.4)


def _trends(pdf: FPDF, trends: list[Trend], wording: Wording) -> None:
    gap = 5.0
    width = (pdf.w - 2 * _MARGIN - gap * (len(trends) - 1)) / max(len(trends), 1)
    top = pdf.get_y()
    pdf.set_font(FAMILY, "B", 10)
    pdf.cell(0, 5, wording(phrase("Twelve months")), new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y()
    for n, trend in enumerate(trends):
        _bars(pdf, trend, _MARGIN + n * (width + gap), top, width, wording)
    pdf.set_xy(_MARGIN, top + 48)


def _bars(pdf: FPDF, trend: Trend, x: float, y: float, width: float, wording: Wording) -> None:
    pdf.set_font(FAMILY, "B", 8)
    pdf.set_text_color(*_BLACK)
    pdf.set_xy(x, y)
    pdf.multi_cell(width, 3.6, wording(trend.label))
    chart_top, chart_h = y + 11, 28.0
    values = [m.value for m in trend.months]
    top = max((v for v in values if v is not None), default=0) or 1
    slot = width / max(len(values), 1)
    base = chart_top + chart_h
    pdf.set_draw_color(*_GREY)
    pdf.line(x, base, x + width, base)
    for i, month in enumerate(trend.months):
        left = x + i * slot + slot * 0.15
        pdf.set_font(FAMILY, "", 5.5)
        pdf.set_text_color(*_GREY)
        pdf.set_xy(x + i * slot, base + 0.5)
        pdf.cell(slot, 3, wording.date(month.month, "LLLLL"), align="C")
        if month.value is None:
            pdf.set_draw_color(*_GREEN)
            pdf.rect(left, base - 3, slot * 0.7, 3)
            text = "<5"
            bar_top = base - 3
        else:
            h = chart_h * month.value / top
            pdf.set_fill_color(*(_GREEN if month.final else (150, 190, 170)))
            if h > 0:
                pdf.rect(left, base - h, slot * 0.7, h, style="F")
            text = wording.number(month.value)
            bar_top = base - h
        pdf.set_text_color(*_BLACK)
        pdf.set_xy(x + i * slot, bar_top - 3.2)
        pdf.cell(slot, 3, text, align="C")


def _area_rows(pdf: FPDF, page: ReportsPage, wording: Wording) -> None:
    keys = [trend.key for trend in page.trends]
    name_w = 60.0
    cell_w = (pdf.w - 2 * _MARGIN - name_w) / len(keys)
    by_key = {figure.key: figure for figure in page.figures}
    pdf.set_font(FAMILY, "B", 7.5)
    top = pdf.get_y()
    pdf.cell(name_w, 3.5, wording(phrase("Area")))
    for n, key in enumerate(keys):
        pdf.set_xy(_MARGIN + name_w + n * cell_w, top)
        pdf.multi_cell(cell_w, 3.5, wording(by_key[key].label), align="R")
    pdf.set_xy(_MARGIN, top + 8)
    pdf.set_font(FAMILY, "", 8)
    for row in page.area_rows:
        pdf.cell(name_w, 4.5, row.name or wording(phrase("The whole board")))
        figures = {figure.key: figure for figure in row.figures}
        for key in keys:
            pdf.cell(cell_w, 4.5, _value(figures[key], wording), align="R")
        pdf.ln(4.5)
