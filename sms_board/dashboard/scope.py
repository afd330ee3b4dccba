"""Who is looking at the dashboard, and which areas they may see and act for.

An organiser sees the areas they organise; an administrator sees every area. Both are
read afresh on every page, so removing an organiser takes effect at their next click.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_board.models import Area, Moderation, Organiser, Subscriber


@dataclass(frozen=True)
class AreaRef:
    """An area as pages show it, detached from any database session."""

    id: int
    slug: str
    name: str
    timezone: str
    private: bool
    moderation: Moderation

    @classmethod
    def of(cls, area: Area) -> AreaRef:
        return cls(area.id, area.slug, area.name, area.timezone, area.private, area.moderation)


@dataclass(frozen=True)
class Viewer:
    subscriber_id: int
    phone: str
    name: str | None
    is_admin: bool
    areas: tuple[AreaRef, ...]

    @property
    def area_ids(self) -> list[int]:
        return [area.id for area in self.areas]

    @property
    def may_use_dashboard(self) -> bool:
        return self.is_admin or bool(self.areas)

    def area(self, slug: str | None) -> AreaRef | None:
        return next((area for area in self.areas if area.slug == (slug or "").lower()), None)

    def chosen(self, slugs: Iterable[str]) -> list[AreaRef]:
        """The viewer's areas among `slugs`, in the viewer's order; slugs they may not see are dropped."""
        wanted = {slug.lower() for slug in slugs}
        return [area for area in self.areas if area.slug in wanted]

    def covers(self, area_ids: Iterable[int]) -> bool:
        mine = set(self.area_ids)
        ids = list(area_ids)
        return bool(ids) and all(area_id in mine for area_id in ids)


def viewer_of(session: Session, person: Subscriber) -> Viewer:
    """The person as the dashboard sees them: every area for an administrator, else those they organise."""
    query = select(Area).order_by(Area.name)
    if not person.is_admin:
        query = query.join(Organiser, Organiser.area_id == Area.id).where(Organiser.subscriber_id == person.id)
    areas = tuple(AreaRef.of(area) for area in session.scalars(query))
    return Viewer(person.id, person.phone, person.name, person.is_admin, areas)
