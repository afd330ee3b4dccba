"""An area's poster for the corner-shop window: `sms-board poster SLUG` and the Administration page.

What it says (`poster_for`): the area's name; "To join, text **JOIN ELM** to **07700 900000**" in
type read from across a shop (48 pt or more at A5, scaled up at A4); the few keywords a newcomer
needs, how to stop, "standard network rates", and, when the board answers calls
(`SMS_BOARD_VOICE=on`), that a landline may ring the same number. All of it in every language the
area speaks, the board's first first, each with its own pack's keywords (YMUNO ELM in Welsh);
`--strips` adds tear-off strips with a keyword and the number. Nothing about any resident.

The keyword is the area's slug in capitals: JOIN reads an area by its slug (`community.areas`).
The number is TWILIO_FROM_NUMBER as people write it (national, grouped); a board with only a
Messaging Service has no number to print (`NoPoster`), and a console board without one prints
the demo number with DEMO across the page. A private area has no poster: it is joined with an
invite code, and a code is never printed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fpdf import FPDF

from sms_board.community.languages import spoken_in
from sms_board.models import Area
from sms_board.plumbing.config import Settings
from sms_board.printing.fonts import CONDENSED, FAMILY, PageSize, unicode_pdf
from sms_board.text.languages import pack
from sms_board.text.phone import DEMO_BOARD_NUMBER, display_number
from sms_board.text.phrases import phrase

SIZES: tuple[PageSize, ...] = ("a4", "a5")
# The least the keyword and the number are ever set in: read from across a shop.
SHOP_READABLE_PT = 48.0
SMALLEST_BODY_PT = 6.0


@dataclass(frozen=True)
class Type:
    """A page size's type (points) and spacing (millimetres)."""

    title: float
    label: float
    big: float  # the keyword and the number, in condensed bold
    body: float  # the most the lines below are set in; less if they would not fit
    strip: float
    margin: float
    strips: float  # the tear-off strips' height
    strip_width: float
    gap: float


TYPE: dict[PageSize, Type] = {
    "a5": Type(title=28, label=12, big=SHOP_READABLE_PT, body=10.5, strip=9, margin=10, strips=40,
               strip_width=12, gap=3),
    "a4": Type(title=40, label=16, big=64, body=14, strip=11, margin=14, strips=50, strip_width=14, gap=4),
}
_MM_PER_PT = 25.4 / 72
_LEADING = 1.2
_GREY, _BLACK, _DEMO_PINK = (90, 90, 90), (0, 0, 0), (240, 200, 200)


class NoPoster(ValueError):
    """Why an area gets no poster, in one line for an administrator (a `Phrase`: the page translates it)."""


@dataclass(frozen=True)
class BoardNumber:
    shown: str  # as people write it: 07700 900000
    demo: bool  # the demo number of a console board without one: DEMO across the poster


@dataclass(frozen=True)
class Wording:
    """One language's words on the poster."""

    code: str
    subtitle: str
    join_label: str
    keyword: str  # what a resident texts to join, in this language: JOIN ELM, YMUNO ELM
    number_label: str
    lines: tuple[str, ...]  # the newcomer's keywords, STOP, rates, the landline line


@dataclass(frozen=True)
class Poster:
    area_name: str
    number: BoardNumber
    wordings: tuple[Wording, ...]  # the area's languages, the board's first first
    strips: bool


def board_number(settings: Settings) -> BoardNumber:
    """The number a poster prints, or `NoPoster` saying which setting gives it one."""
    if settings.board_number:
        return BoardNumber(display_number(settings.board_number, settings.default_region) or "", demo=False)
    if settings.transport == "console":
        return BoardNumber(display_number(DEMO_BOARD_NUMBER, settings.default_region) or "", demo=True)
    raise NoPoster(phrase("The board sends through a Messaging Service and has no number of its own to print: "
                          "set TWILIO_FROM_NUMBER to the number residents text (e.g. +447700900000)."))


def poster_for(settings: Settings, area: Area, *, strips: bool = False) -> Poster:
    """What `area`'s poster says; `NoPoster` for a private area or a board with no number to print."""
    if area.private:
        raise NoPoster(phrase("%(area)s is a private area: it has no poster (residents join it with an invite "
                              "code, and a code is never printed).", area=area.name))
    number = board_number(settings)
    wordings = tuple(_wording(code, area.slug.upper(), number.shown, settings.voice.enabled)
                     for code in spoken_in(settings, area))
    return Poster(area.name, number, wordings, strips)


def _wording(code: str, slug: str, number: str, voice: bool) -> Wording:
    language = pack(code)
    _ = language.page_translations().gettext
    word = language.word_for
    lines = [
        _("Once you have joined, text:"),
        _("%(keyword)s and what you need: ask your neighbours for help") % {"keyword": word("NEED")},
        _("%(keyword)s and what you can do: offer your help") % {"keyword": word("OFFER")},
        _("%(keyword)s and your news: tell the neighbourhood") % {"keyword": word("POST")},
        _("%(keyword)s: how it works") % {"keyword": word("HELP")},
        _("%(keyword)s: no more texts, at any time") % {"keyword": word("STOP")},
        _("Texts cost standard network rates."),
    ]
    if voice:
        lines.append(_("No mobile? Ring %(number)s from a landline to hear the board.") % {"number": number})
    return Wording(code=code, subtitle=_("Neighbourhood board"), join_label=_("To join, text"),
                   keyword=f"{word('JOIN')} {slug}", number_label=_("to this number"), lines=tuple(lines))


def poster_pdf(poster: Poster, size: PageSize = "a4") -> bytes:
    """The poster on one page of `size`; `NoPoster` when it would not fit on one."""
    kind = TYPE[size]
    pdf = unicode_pdf(size)
    strips = kind.strips if poster.strips else 0.0
    pdf.set_margins(kind.margin, kind.margin, kind.margin)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    if poster.number.demo:
        _demo(pdf)
    if poster.strips:
        _strips(pdf, poster, kind, top=pdf.h - kind.margin - strips)
    # Anything that would run into the strips or off the page goes to a second page, and is refused.
    pdf.set_auto_page_break(True, kind.margin + strips)
    pdf.set_xy(kind.margin, kind.margin)
    _headline(pdf, poster, kind)
    _body(pdf, poster.wordings, kind, bottom=pdf.h - kind.margin - strips)
    if pdf.page > 1:
        raise NoPoster(phrase("The poster in %(count)s languages does not fit on one %(size)s page: print it "
                              "without tear-off strips, or on A4.", count=len(poster.wordings), size=size.upper()))
    return bytes(pdf.output())


def _line_mm(points: float) -> float:
    return points * _MM_PER_PT * _LEADING


def _centred(pdf: FPDF, text: str, points: float, *, family: str = FAMILY, bold: bool = False,
             colour: tuple[int, int, int] = _BLACK) -> None:
    pdf.set_font(family, "B" if bold else "", points)
    pdf.set_text_color(*colour)
    pdf.multi_cell(0, _line_mm(points), text, align="C", new_x="LMARGIN", new_y="NEXT")


def _fitted(pdf: FPDF, text: str, points: float, *, least: float = 0.0, room: float | None = None,
            family: str = FAMILY, bold: bool = True) -> float:
    """`points`, or less so that `text` fits `room` (the page's width) on one line, never below `least`."""
    room = pdf.epw if room is None else room
    pdf.set_font(family, "B" if bold else "", points)
    width = pdf.get_string_width(text)
    return points if width <= room else max(least, points * room / width * 0.98)


def _labels(wordings: Sequence[Wording], label: Callable[[Wording], str]) -> str:
    """One label in every language, each once: `Neighbourhood board · Bwrdd cymdogaeth`."""
    return " · ".join(dict.fromkeys(label(w) for w in wordings))


def _big(pdf: FPDF, text: str, kind: Type) -> None:
    points = _fitted(pdf, text, kind.big, least=SHOP_READABLE_PT, family=CONDENSED)
    _centred(pdf, text, points, family=CONDENSED, bold=True)


def _headline(pdf: FPDF, poster: Poster, kind: Type) -> None:
    _centred(pdf, poster.area_name, _fitted(pdf, poster.area_name, kind.title, least=kind.label), bold=True)
    _centred(pdf, _labels(poster.wordings, lambda w: w.subtitle), kind.label, colour=_GREY)
    pdf.ln(kind.gap)
    for wording in poster.wordings:
        _centred(pdf, wording.join_label, kind.label, colour=_GREY)
        _big(pdf, wording.keyword, kind)
    _centred(pdf, _labels(poster.wordings, lambda w: w.number_label), kind.label, colour=_GREY)
    _big(pdf, poster.number.shown, kind)
    pdf.ln(kind.gap)


def _body(pdf: FPDF, wordings: Sequence[Wording], kind: Type, *, bottom: float) -> None:
    """Each language's lines, in the largest type (up to the page's body size) that fits above `bottom`."""
    room = bottom - pdf.get_y()
    points = kind.body
    while points > SMALLEST_BODY_PT and _paragraphs(pdf, wordings, points, dry_run=True) > room:
        points -= 0.5
    _paragraphs(pdf, wordings, points)


def _paragraphs(pdf: FPDF, wordings: Sequence[Wording], points: float, *, dry_run: bool = False) -> float:
    """The height the languages' lines take at `points` (drawn unless `dry_run`)."""
    height = 0.0
    pdf.set_text_color(*_BLACK)
    for number, wording in enumerate(wordings):
        gap = _line_mm(points) / 2 if number else 0.0
        height += gap
        if not dry_run:
            pdf.ln(gap)
        for index, line in enumerate(wording.lines):
            pdf.set_font(FAMILY, "B" if index == 0 else "", points)
            height += _cell(pdf, line, points, dry_run)
    return height


def _cell(pdf: FPDF, text: str, points: float, dry_run: bool) -> float:
    if dry_run:
        return float(pdf.multi_cell(0, _line_mm(points), text, dry_run=True, output="HEIGHT"))
    before = pdf.get_y()
    pdf.multi_cell(0, _line_mm(points), text, new_x="LMARGIN", new_y="NEXT")
    return pdf.get_y() - before


def _demo(pdf: FPDF) -> None:
    """DEMO across the page, pale, under everything else: the number on it is not the board's."""
    pdf.set_font(FAMILY, "B", pdf.w * 0.9)  # points: about as wide as the page is tall
    pdf.set_text_color(*_DEMO_PINK)
    width = pdf.get_string_width("DEMO")
    with pdf.rotation(55, pdf.w / 2, pdf.h / 2):
        pdf.text(pdf.w / 2 - width / 2, pdf.h / 2 + pdf.w * 0.1, "DEMO")


def _strips(pdf: FPDF, poster: Poster, kind: Type, *, top: float) -> None:
    """Tear-off strips along the bottom edge, each with a keyword (the languages in turn) and the number."""
    count = int(pdf.epw // kind.strip_width)
    width, height = pdf.epw / count, pdf.h - kind.margin - top
    pdf.set_draw_color(*_GREY)
    pdf.set_dash_pattern(dash=1.5, gap=1.5)
    pdf.line(pdf.l_margin, top, pdf.l_margin + pdf.epw, top)
    for index in range(count):
        left = pdf.l_margin + index * width
        if index:
            pdf.line(left, top, left, top + height)
        wording = poster.wordings[index % len(poster.wordings)]
        _strip_text(pdf, (wording.keyword, poster.number.shown), left + width / 2, top + height / 2,
                    length=height - kind.gap, points=kind.strip)
    pdf.set_dash_pattern()


def _strip_text(pdf: FPDF, lines: tuple[str, str], x: float, y: float, *, length: float, points: float) -> None:
    """Two lines turned to read up the strip, centred on (x, y), shrunk to `length` if need be."""
    sizes = (_fitted(pdf, lines[0], points, room=length), _fitted(pdf, lines[1], points, room=length, bold=False))
    block = sum(_line_mm(size) for size in sizes)
    pdf.set_text_color(*_BLACK)
    top = y - block / 2
    with pdf.rotation(90, x, y):
        for text, size, style in zip(lines, sizes, ("B", ""), strict=True):
            pdf.set_font(FAMILY, style, size)
            top += _line_mm(size)
            # `text` at its baseline: (x, y) may sit nearer the page's edge than half a strip's length.
            pdf.text(x - pdf.get_string_width(text) / 2, top - size * _MM_PER_PT * 0.25, text)
