"""Areas: creating, listing and changing them, and finding them by slug, name or postcode.

Postcodes match whole outward codes (`SE1` never matches `SE10 9AB`), and the
longest matching prefix wins (`SE6 1` beats `SE6`). A postcode prefix belongs
to one area only.

An area's public page (`/board/<slug>`) shows its posts with their authors' first names to
anyone; an administrator may go without one. A private area never has one: its posts are
for its members.

An area may speak only some of the board's languages (`area add … --languages cy`): its
`languages` column then names them; None means all of the board's (docs/translations.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from sms_board.models import (
    Area,
    AreaPostcode,
    Item,
    ItemKind,
    ItemStatus,
    Moderation,
    Subscription,
    SubscriptionStatus,
)
from sms_board.text.languages import listed
from sms_board.text.phrases import message_of, phrase
from sms_board.text.words import fold

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
        raise ValueError(phrase("%(text)r is not a postcode prefix; use an outward code such as SE6, or SE6 1.",
                                text=text))
    if len(code.inward) > 1:
        raise ValueError(phrase("%(text)r is a full postcode; give the outward code (SE6) or a sector (SE6 1).",
                                text=text))
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


def _called(area: Area, folded: str) -> bool:
    """Whether `folded` (as `fold` left it) is the area's name: case, accents and punctuation ignored, St for Street."""
    return fold(area.name) == folded or fold(area.name.replace("Street", "St")) == folded


def area_by_name(session: Session, text: str) -> Area | None:
    """The area a resident named by slug or name (case, accents and punctuation ignored)."""
    folded = fold(text.strip())
    if not folded:
        return None
    area = session.scalar(select(Area).where(func.lower(Area.slug) == folded.lower()))
    if area is not None:
        return area
    for candidate in session.scalars(select(Area)):
        if _called(candidate, folded):
            return candidate
    return None


def area_named_first(areas: Sequence[Area], words: Sequence[str]) -> tuple[Area, int] | None:
    """The area among `areas` that the first of `words` (folded, as `Words.tokens`) name, and how many words that is.

    Read as JOIN reads an area (`area_by_name`): slug or name, case, accents and punctuation
    ignored, `St` for `Street`; the longest name wins (`Elm Street` over `Elm`). Never by typo,
    never by postcode: an area's name is often an ordinary word (Elms, Oat), and a post may
    well begin with one.
    """
    longest = max((len(area.name.split()) for area in areas), default=0)
    for count in range(min(longest, len(words)), 0, -1):
        said = fold(" ".join(words[:count]))
        for area in areas:
            if (count == 1 and said.lower() == area.slug) or _called(area, said):
                return area, count
    return None


def find_area(session: Session, text: str) -> Area | None:
    """The area a resident named: slug, name (case, accents and punctuation ignored) or postcode."""
    return area_by_name(session, text) or area_by_postcode(session, fold(text.strip()))


def public_area_by_postcode(session: Session, text: str) -> Area | None:
    """The public area serving a postcode: a private area is never found by postcode."""
    area = area_by_postcode(session, fold(text.strip()))
    return area if area is not None and not area.private else None


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


# ── operators' view: exact slugs, creating and listing ─────────────────────


class AreaError(Exception):
    """An area cannot be created as asked; the message is one line to show whoever asked.

    `field` names the input at fault (`slug`, `timezone`, `postcode`, `moderation` or `languages`);
    it is None when the area clashes with one already stored.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class AreaSummary:
    """An area as an operator lists it; `subscribers` counts active subscriptions."""

    slug: str
    name: str
    subscribers: int
    private: bool
    moderation: Moderation
    postcodes: tuple[str, ...]
    timezone: str
    public_page: bool
    languages: str | None  # the board's languages it speaks ("cy"), None: all of them


@dataclass(frozen=True)
class PublicPage:
    """Where anyone can read an area's posts; `address` (`board.example.org/board/elm`) is None
    when the board does not know its own address (`SMS_BOARD_PUBLIC_URL` unset)."""

    address: str | None


def has_public_page(area: Area) -> bool:
    return area.public_page and not area.private


def public_page(area: Area, public_url: str | None) -> PublicPage | None:
    """The area's public page, for the texts that tell residents about it; None when it has none."""
    if not has_public_page(area):
        return None
    return PublicPage(f"{public_url.split('://', 1)[-1]}/board/{area.slug}" if public_url else None)


# How long a notice stays on an area's public page; requests and offers stay while they are open.
NOTICES_FOR = timedelta(days=30)


@dataclass(frozen=True)
class PublicBoard:
    """What `/board/<slug>` shows: the area and its published posts, newest first, under their headings."""

    area: Area
    sections: dict[str, list[Item]]


def public_board(session: Session, slug: str, now: datetime) -> PublicBoard | None:
    """The area's public page, or None when it has none (unknown, private, or its page turned off)."""
    area = area_by_slug(session, slug)
    # A private area's board is as private as its membership; a public one may go without a page.
    if area is None or not has_public_page(area):
        return None
    items = list(session.scalars(
        select(Item).where(
            Item.area_id == area.id, Item.status == ItemStatus.PUBLISHED,
            Item.kind.in_([ItemKind.NOTICE, ItemKind.REQUEST, ItemKind.OFFER]),
        ).order_by(Item.created_at.desc(), Item.id.desc())
    ))
    recent = now - NOTICES_FOR
    return PublicBoard(area, {
        phrase("Notices"): [i for i in items if i.kind == ItemKind.NOTICE and i.created_at >= recent],
        phrase("Help needed"): [i for i in items if i.kind == ItemKind.REQUEST],
        phrase("Neighbours offer"): [i for i in items if i.kind == ItemKind.OFFER],
    })


def listed_areas(session: Session) -> list[Area]:
    """The areas anyone may join (not private), by name, with their postcodes: the board's front page."""
    return list(session.scalars(
        select(Area).where(Area.private.is_(False)).order_by(Area.name).options(selectinload(Area.postcodes))))


def set_public_page(area: Area, on: bool) -> bool:
    """Turn an area's public page on or off; False when it already was. A private area cannot have one."""
    if on and area.private:
        raise AreaError(phrase("%(name)s is private: its posts are for its members, never on a public page.",
                               name=area.name))
    if area.public_page == on:
        return False
    area.public_page = on
    return True


def narrowed_languages(board: Sequence[str], raw: str) -> str | None:
    """What `--languages cy` stores: the codes (any case, comma-separated) in the board's order, or None when
    they are all of the board's (no narrowing). Raises `AreaError` naming a code the board does not speak."""
    codes = {code.strip().lower() for code in raw.split(",") if code.strip()}
    if not codes:
        raise AreaError(phrase("name at least one of the board's languages: %(languages)s.", languages=listed(board)),
                        field="languages")
    foreign = sorted(codes - set(board))
    if foreign:
        raise AreaError(phrase("%(codes)s: not a language of this board; it speaks %(languages)s.",
                               codes=", ".join(foreign), languages=listed(board)), field="languages")
    if codes == set(board):
        return None
    return ",".join(code for code in board if code in codes)


def set_languages(area: Area, board: Sequence[str], raw: str) -> bool:
    """Narrow the area to some of the board's languages (all of them: no narrowing); False when unchanged."""
    languages = narrowed_languages(board, raw)
    if area.languages == languages:
        return False
    area.languages = languages
    return True


def area_by_slug(session: Session, slug: str) -> Area | None:
    """The area with exactly this slug (case ignored): what operators type, unlike `find_area`."""
    return session.scalar(select(Area).where(Area.slug == slug.lower()))


def areas_by_slug(session: Session, slugs: Iterable[str]) -> list[Area]:
    """The areas among `slugs` (case ignored) that exist, by name; the caller compares to see which do not."""
    wanted = {slug.lower() for slug in slugs}
    return list(session.scalars(select(Area).where(Area.slug.in_(sorted(wanted))).order_by(Area.name)))


def areas_by_id(session: Session, ids: Iterable[int], *, by_slug: bool = False) -> list[Area]:
    """The areas with these ids, by name (or by slug, as the ledger lists them)."""
    order = Area.slug if by_slug else Area.name
    return list(session.scalars(select(Area).where(Area.id.in_(list(ids))).order_by(order)))


def all_areas(session: Session) -> list[Area]:
    """Every area, public and private, by name."""
    return list(session.scalars(select(Area).order_by(Area.name)))


def create_area(
    session: Session, slug: str, name: str, *, postcodes: Iterable[str] = (), timezone: str,
    private: bool = False, moderation: Moderation | str = Moderation.OPEN, public_page: bool = True,
    languages: str | None = None, board_languages: Sequence[str] = (),
) -> Area:
    """Add an area serving the given postcode prefixes; raises `AreaError`, writing nothing, when it cannot.

    The slug is lower-cased, the name trimmed and the prefixes normalised (`se6 1` → `SE6 1`);
    a slug or prefix another area already has is refused. A private area gets no public page.
    `languages` (`cy` or `cy,en`) narrows it to some of `board_languages`; None: it speaks them all.
    """
    slug = slug.lower()
    moderation = _check_new_area(slug, timezone, moderation)
    spoken = narrowed_languages(board_languages, languages) if languages is not None else None
    prefixes = _normalised_prefixes(postcodes)
    _check_not_taken(session, slug, prefixes)
    area = Area(slug=slug, name=name.strip(), timezone=timezone, private=private, moderation=moderation,
                public_page=public_page and not private, languages=spoken)
    area.postcodes = [AreaPostcode(prefix=prefix) for prefix in prefixes]
    try:
        with session.begin_nested():  # another operator adding the same area at the same moment
            session.add(area)
    except IntegrityError:
        raise AreaError(phrase("area %(slug)r or one of its postcodes already exists.", slug=slug)) from None
    return area


def _check_new_area(slug: str, timezone: str, moderation: Moderation | str) -> Moderation:
    if not valid_slug(slug):
        raise AreaError(phrase("use lower-case letters, digits and hyphens, e.g. elm or elm-street."), field="slug")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AreaError(phrase("%(zone)r is not a time zone; use e.g. Europe/London.", zone=timezone),
                        field="timezone") from None
    try:
        return Moderation(moderation)
    except ValueError:
        raise AreaError(phrase("use one of %(choices)s.", choices=", ".join(Moderation)), field="moderation") from None


def _normalised_prefixes(postcodes: Iterable[str]) -> list[str]:
    try:
        return sorted({normalise_prefix(p) for p in postcodes})
    except ValueError as exc:
        raise AreaError(message_of(exc), field="postcode") from None


def _check_not_taken(session: Session, slug: str, prefixes: list[str]) -> None:
    if area_by_slug(session, slug) is not None:
        raise AreaError(phrase("an area with slug %(slug)r already exists.", slug=slug))
    taken = session.scalars(select(AreaPostcode.prefix).where(AreaPostcode.prefix.in_(prefixes))).all()
    if taken:
        raise AreaError(phrase("postcode prefix already served by another area: %(prefixes)s",
                               prefixes=", ".join(taken)))


def area_summaries(session: Session) -> list[AreaSummary]:
    """Every area, public and private, by slug, with its active subscriber count."""
    counts = dict(
        session.execute(
            select(Subscription.area_id, func.count())
            .where(Subscription.status == SubscriptionStatus.ACTIVE)
            .group_by(Subscription.area_id)
        ).all()
    )
    return [
        AreaSummary(
            slug=area.slug, name=area.name, subscribers=counts.get(area.id, 0), private=area.private,
            moderation=area.moderation, postcodes=tuple(p.prefix for p in area.postcodes), timezone=area.timezone,
            public_page=area.public_page, languages=area.languages,
        )
        for area in session.scalars(select(Area).order_by(Area.slug))
    ]
