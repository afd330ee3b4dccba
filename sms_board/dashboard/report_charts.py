"""The Reports page's trend charts: twelve months as bars, drawn on the server as inline SVG.

Like the overview's charts (`overview_charts.py`, whose frame and colours these share), each is an
`<svg role="img">` with a title and a description a screen reader reads; the page puts the same
numbers in a table under it, which is the data. A month not yet kept is drawn hatched (its figure
may still grow); on a shareable page a month whose count is fewer than 5 is an outline marked
"<5", with no height that would give the count away.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from sms_board.dashboard.overview_charts import (
    BOTTOM,
    COLOURS,
    HEIGHT,
    LEFT,
    RIGHT,
    TOP,
    WIDTH,
    _nice_top,
)
from sms_board.dashboard.reports import FEWER_THAN, Trend
from sms_board.text.phrases import ENGLISH, Wording, phrase


def _summary(trend: Trend, wording: Wording) -> str:
    months = trend.months
    shown = [m.value for m in months if m.value is not None]
    last = months[-1].value
    return wording(phrase(
        "%(title)s per month, %(start)s to %(end)s: %(last)s in the last month, %(most)s at most.",
        title=trend.label, start=wording.date(months[0].month, "MMM yyyy"),
        end=wording.date(months[-1].month, "MMM yyyy"),
        last=wording.number(last) if last is not None else wording(FEWER_THAN),
        most=wording.number(max(shown, default=0))))


def trend_chart(trend: Trend, chart_id: str, wording: Wording = ENGLISH) -> Markup:
    """Twelve months of one figure as bars, with the month under each."""
    count = len(trend.months)
    top = _nice_top(max((m.value for m in trend.months if m.value is not None), default=0))
    plot_h = HEIGHT - TOP - BOTTOM
    colour = COLOURS[0]
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-t">{escape(wording(trend.label))}</title>',
        f'<desc id="{chart_id}-d">{escape(_summary(trend, wording))}</desc>',
        f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        f'<rect width="3.5" height="6" fill="{colour}"/></pattern></defs>',
    ]
    for n in range(5):
        y = TOP + plot_h - plot_h * n / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
                     f'{escape(wording.number(top * n // 4))}</text>')
    slot = (WIDTH - LEFT - RIGHT) / max(count, 1)
    for i, month in enumerate(trend.months):
        x = LEFT + slot * i + slot * 0.15
        width = slot * 0.7
        if month.value is None:
            parts.append(f'<rect x="{x:.1f}" y="{TOP + plot_h - 14:.1f}" width="{width:.1f}" height="14" '
                         f'fill="none" stroke="{colour}" stroke-dasharray="3 2"/>'
                         f'<text x="{x + width / 2:.1f}" y="{TOP + plot_h - 18:.1f}" text-anchor="middle" '
                         f'class="axis">&lt;5</text>')
        else:
            h = plot_h * month.value / top
            fill = colour if month.final else f"url(#{chart_id}-hatch)"
            parts.append(f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{width:.1f}" height="{h:.1f}" '
                         f'fill="{fill}" stroke="{colour}" stroke-width="1"/>'
                         f'<text x="{x + width / 2:.1f}" y="{TOP + plot_h - h - 4:.1f}" text-anchor="middle" '
                         f'class="axis">{escape(wording.number(month.value))}</text>')
        parts.append(f'<text x="{x + width / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" class="axis">'
                     f'{escape(wording.date(month.month, "MMM"))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
