"""The font every PDF of the board is set in: DejaVu Sans, shipped in `fonts/` with its licence.

A PDF's built-in fonts (Helvetica and friends) know only Latin-1: no ŵ or ŷ for Welsh, no ł for
Polish. DejaVu Sans (Bitstream Vera licence, `fonts/LICENSE`; copied from Debian's
fonts-dejavu-core 2.37) has them all, and fpdf2 embeds only the letters a document uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fpdf import FPDF

FONTS = Path(__file__).with_name("fonts")
FAMILY = "DejaVu"
# Bold only: for big lines that must fit a narrow page (an A5 poster's number at 48 pt).
CONDENSED = "DejaVuCondensed"
_FILES = {(FAMILY, ""): "DejaVuSans.ttf", (FAMILY, "B"): "DejaVuSans-Bold.ttf",
          (CONDENSED, "B"): "DejaVuSansCondensed-Bold.ttf"}

PageSize = Literal["a4", "a5"]
# Portrait, in millimetres (fpdf2 warns about its own A5 by name: its size changed in 2.8.5).
PAGE_MM: dict[PageSize, tuple[float, float]] = {"a4": (210.0, 297.0), "a5": (148.0, 210.0)}


def unicode_pdf(size: PageSize = "a4") -> FPDF:
    """A portrait PDF in millimetres, `FAMILY` regular and bold and `CONDENSED` bold ready
    (`pdf.set_font(FAMILY, "B", 48)`)."""
    pdf = FPDF(orientation="portrait", unit="mm", format=PAGE_MM[size])
    for (family, style), filename in _FILES.items():
        pdf.add_font(family, style, str(FONTS / filename))
    pdf.set_font(FAMILY, "", 12)
    return pdf
