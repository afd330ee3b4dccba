"""The overview's charts, drawn on the server as small inline SVG: no JavaScript, no CDN, nothing to download.

Each chart is an `<svg role="img">` with a title and a one-line description of what it
shows (read by screen readers); the page puts the same numbers in a table beside it. Its words,
numbers and dates are in the page's language (`wording`, English unless the page gives its own).
Series differ by more than colour, so they can be told apart in grey: a line chart's by
dash pattern, a bar chart's by a hatch on every other series. Each chart's key (`legend`)
is drawn here too, with the very marks of its chart: lines for lines, filled boxes for bars.
"""

from __future__ import annotations

import math
from datetime import date

from markupsafe import Markup, escape

from sms_board.dashboard.overview import Chart
from sms_board.text.phrases import ENGLISH, Wording, phrase

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 30
COLOURS = ("#1f6f50", "#24569c", "#a8321f")
DASHES = ("", "7 4", "2 3")


def _nice_top(value: int) -> int:
    if value <= 4:
        return 4
    magnitude = 10 ** int(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top = int(math.ceil(value / (step * magnitude)) * step * magnitude)
        if top >= value:
            return top
    return value


def _label(iso: str, wording: Wording) -> str:
    return wording.date(date.fromisoformat(iso), "d MMM")


def _frame(chart: Chart, chart_id: str, top: int, wording: Wording) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-t">{escape(wording(chart.title))}</title>',
        f'<desc id="{chart_id}-d">{escape(_summary(chart, wording))}</desc>',
    ]
    for n in range(5):
        value = top * n // 4
        y = TOP + plot_h - plot_h * n / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
                     f'{escape(wording.number(value))}</text>')
    return parts


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span * index / (count - 1) if count > 1 else span / 2)


def _x_labels(labels: list[str], positions: list[float], wording: Wording) -> list[str]:
    every = max(1, math.ceil(len(labels) / 6))
    return [
        f'<text x="{positions[i]:.1f}" y="{HEIGHT - 8}" text-anchor="middle" class="axis">'
        f'{escape(_label(labels[i], wording))}</text>'
        for i in range(0, len(labels), every)
    ]


def _summary(chart: Chart, wording: Wording) -> str:
    """`Texts per day, 7 Nov to 6 Dec. sent: 12 on the last day, 40 at most; …` for a screen reader."""
    daily = len(chart.labels) > 12
    bits = [wording(phrase("%(series)s: %(last)s on the last day, %(most)s at most", series=s.label,
                           last=wording.number(s.values[-1]), most=wording.number(max(s.values, default=0)))
                    if daily else
                    phrase("%(series)s: %(last)s on the last week, %(most)s at most", series=s.label,
                           last=wording.number(s.values[-1]), most=wording.number(max(s.values, default=0))))
            for s in chart.series if s.values]
    opening = wording(phrase("%(title)s, %(start)s to %(end)s.", title=chart.title,
                             start=_label(chart.labels[0], wording), end=_label(chart.labels[-1], wording)))
    return opening + " " + "; ".join(bits) + "."


def line_chart(chart: Chart, chart_id: str, wording: Wording = ENGLISH) -> Markup:
    count = len(chart.labels)
    top = _nice_top(max((max(s.values, default=0) for s in chart.series), default=0))
    plot_h = HEIGHT - TOP - BOTTOM
    parts = _frame(chart, chart_id, top, wording)
    xs = [_x(i, count) for i in range(count)]
    for n, series in enumerate(chart.series):
        points = " ".join(f"{xs[i]:.1f},{TOP + plot_h - plot_h * v / top:.1f}" for i, v in enumerate(series.values))
        dash = f' stroke-dasharray="{DASHES[n % 3]}"' if DASHES[n % 3] else ""
        parts.append(f'<polyline points="{points}" fill="none" stroke="{COLOURS[n % 3]}" stroke-width="2.5"{dash}/>')
    parts += _x_labels(chart.labels, xs, wording)
    parts.append("</svg>")
    return Markup("".join(parts))


def _hatch_id(chart_id: str, n: int) -> str:
    return f"{chart_id}-hatch{n}"


def _bar_fill(chart_id: str, n: int) -> str:
    """Odd series are hatched in their colour (a pattern the bar chart defines), the others solid."""
    return f"url(#{_hatch_id(chart_id, n)})" if n % 2 else COLOURS[n % 3]


def _hatch(chart_id: str, n: int) -> str:
    colour = COLOURS[n % 3]
    return (f'<pattern id="{_hatch_id(chart_id, n)}" width="6" height="6" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
            f'<rect width="3.5" height="6" fill="{colour}"/></pattern>')


def legend(chart: Chart, chart_id: str, *, bars: bool = False, wording: Wording = ENGLISH) -> Markup:
    """The chart's key: each series' name beside its mark as drawn (a line with its dashes, or a bar's fill)."""
    items = []
    for n, series in enumerate(chart.series):
        if bars:
            mark = (f'<svg class="swatch" viewBox="0 0 16 12" aria-hidden="true"><rect width="16" height="12" '
                    f'fill="{_bar_fill(chart_id, n)}" stroke="{COLOURS[n % 3]}"/></svg>')
        else:
            dash = f' stroke-dasharray="{DASHES[n % 3]}"' if DASHES[n % 3] else ""
            mark = (f'<svg class="swatch" viewBox="0 0 26 12" aria-hidden="true"><line x1="0" y1="6" x2="26" y2="6" '
                    f'stroke="{COLOURS[n % 3]}" stroke-width="3"{dash}/></svg>')
        items.append(f"<li>{mark}{escape(wording(series.label))}</li>")
    return Markup('<ul class="legend">' + "".join(items) + "</ul>")


def bar_chart(chart: Chart, chart_id: str, wording: Wording = ENGLISH) -> Markup:
    count = len(chart.labels)
    top = _nice_top(max((max(s.values, default=0) for s in chart.series), default=0))
    plot_h = HEIGHT - TOP - BOTTOM
    parts = _frame(chart, chart_id, top, wording)
    parts.append("<defs>" + "".join(_hatch(chart_id, n) for n in range(1, len(chart.series), 2)) + "</defs>")
    slot = (WIDTH - LEFT - RIGHT) / max(count, 1)
    width = slot * 0.8 / max(len(chart.series), 1)
    centres = [LEFT + slot * (i + 0.5) for i in range(count)]
    for n, series in enumerate(chart.series):
        for i, value in enumerate(series.values):
            h = plot_h * value / top
            x = centres[i] - slot * 0.4 + width * n
            parts.append(f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{width:.1f}" height="{h:.1f}" '
                         f'fill="{_bar_fill(chart_id, n)}" stroke="{COLOURS[n % 3]}" stroke-width="1"/>')
    parts += _x_labels(chart.labels, centres, wording)
    parts.append("</svg>")
    return Markup("".join(parts))


def gauge(used: int, cap: int | None, title: str) -> Markup:
    """How much of the monthly cap is used: a bar, or a plain count when there is no cap."""
    if not cap:
        return Markup("")
    share = min(1.0, used / cap)
    colour = COLOURS[2] if share >= 0.9 else COLOURS[0]
    width = WIDTH - 2
    return Markup(
        f'<svg class="gauge" viewBox="0 0 {WIDTH} 28" role="img" aria-label="{escape(title)}">'
        f'<rect x="1" y="1" width="{width}" height="26" rx="6" fill="#fff" stroke="#5b6475"/>'
        f'<rect x="1" y="1" width="{width * share:.1f}" height="26" rx="6" fill="{colour}"/>'
        "</svg>"
    )
