"""Finding areas by slug, name or postcode.

Postcodes match whole outward codes (`SE1` never matches `SE10 9AB`), and the
longest matching prefix wins (`SE6 1` beats `SE6`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_board.models import Area, AreaPostcode
from sms_board.words import fold

_OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(frozen=True)
class Postcode:
    outward: str
    inward: str  # "", a sector digit, or the full inward code

    def __str__(self) -> str:
        return f"{self.outward} {self.inward}".strip()


def parse_postcode(text: str) -> Postcode | None:
    """A UK postcode or postcode prefix (`SE6 1AB`, `se61ab`, `SE6`, `SE6 1`), else None."""
    parts = text.upper().split()
    compact = "".join(parts)
    full = re.fullmatch(f"({_OUTWARD})([0-9][A-Z]{{2}})", compact)
    if full:
        return Postcode(full[1], full[2])
    if len(parts) == 1 and re.fullmatch(_OUTWARD, compact):
        return Postcode(compact, "")
    if len(parts) == 2 and re.fullmatch(_OUTWARD, parts[0]) and re.fullmatch(r"[0-9][A-Z]?", parts[1]):
        return Postcode(parts[0], parts[1])
    return None


def normalise_prefix(text: str) -> str:
    """The stored form of an area's postcode prefix: `SE6` or `SE6 1`."""
    code = parse_postcode(text)
    if code is None:
        raise ValueError(f"{text!r} is not a postcode prefix; use an outward code such as SE6, or SE6 1.")
    if len(code.inward) > 1:
        raise ValueError(f"{text!r} is a full postcode; give the outward code (SE6) or a sector (SE6 1).")
    return str(code)


def valid_slug(slug: str) -> bool:
    return bool(_SLUG.match(slug))


def area_by_postcode(session: Session, text: str) -> Area | None:
    code = parse_postcode(text)
    if code is None:
        return None
    candidates = [code.outward] + ([f"{code.outward} {code.inward[0]}"] if code.inward else [])
    rows = session.execute(
        select(AreaPostcode.prefix, Area).join(Area).where(AreaPostcode.prefix.in_(candidates))
    ).all()
    if not rows:
        return None
    return max(rows, key=lambda row: len(row[0]))[1]


def find_area(session: Session, text: str) -> Area | None:
    """The area a resident named: slug, name (case, accents and punctuation ignored) or postcode."""
    folded = fold(text.strip())
    if not folded:
        return None
    area = session.scalar(select(Area).where(func.lower(Area.slug) == folded.lower()))
    if area is not None:
        return area
    for candidate in session.scalars(select(Area)):
        if fold(candidate.name) == folded or fold(candidate.name.replace("Street", "St")) == folded:
            return candidate
    return area_by_postcode(session, folded)


def nearest_areas(session: Session, text: str = "", limit: int = 5) -> list[Area]:
    """Public areas sharing the longest postcode prefix with `text`, else all public areas."""
    public = list(session.scalars(select(Area).where(Area.private.is_(False)).order_by(Area.name)))
    compact = re.sub(r"\s+", "", text.upper())
    if compact:
        def shared(area: Area) -> int:
            best = 0
            for postcode in area.postcodes:
                prefix = postcode.prefix.replace(" ", "")
                n = 0
                while n < min(len(prefix), len(compact)) and prefix[n] == compact[n]:
                    n += 1
                best = max(best, n)
            return best

        scored = [(shared(area), area) for area in public]
        top = max((score for score, _ in scored), default=0)
        if top >= 2:
            public = [area for score, area in sorted(scored, key=lambda s: (-s[0], s[1].name)) if score >= 2]
    return public[:limit]
