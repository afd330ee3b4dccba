"""Administration on the dashboard: the organisers it lists, and its actions, each written to the audit log.

The same domain functions as `sms-board area add`, `area set`, `organiser add` and `area invite`
(`community.areas`, `community.people`, `community.invites`); here the administrator is the
actor and the channel is `web`. Each action runs inside the caller's transaction: an action
refused (`AreaError`, `InviteError`) or aimed at something that is not there writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_board.community import audit as audit_log_of
from sms_board.community.areas import area_by_slug, create_area, set_public_page
from sms_board.community.invites import make_invite
from sms_board.community.people import appoint_organiser, remove_organiser
from sms_board.models import Area, AuditAction, Moderation, Organiser, Subscriber
from sms_board.plumbing.config import Settings
from sms_board.text.phone import mask

CHANNEL = "web"


@dataclass(frozen=True)
class OrganiserShown:
    """One organiser of one area, as the Administration page lists them: masked, never the number."""

    id: int  # the subscriber's id, for "Remove"
    number: str
    name: str | None
    area: str
    slug: str


def organisers(session: Session) -> list[OrganiserShown]:
    """Every organiser of every area, by area name, then name. One statement."""
    return [
        OrganiserShown(organiser.subscriber_id, mask(phone), name, area_name, slug)
        for organiser, phone, name, area_name, slug in session.execute(
            select(Organiser, Subscriber.phone, Subscriber.name, Area.name, Area.slug)
            .join(Subscriber, Subscriber.id == Organiser.subscriber_id).join(Area, Area.id == Organiser.area_id)
            .order_by(Area.name, Subscriber.name, Organiser.id)
        )
    ]


def _admin(session: Session, admin_id: int) -> Subscriber:
    person = session.get(Subscriber, admin_id)
    assert person is not None  # the signed-in viewer
    return person


def add_area(session: Session, admin_id: int, slug: str, name: str, now: datetime, *, postcodes: Sequence[str],
             timezone: str, private: bool, moderation: Moderation | str, public_page: bool) -> Area:
    """`create_area` (raises `AreaError`), logged."""
    area = create_area(session, slug, name, postcodes=postcodes, timezone=timezone, private=private,
                       moderation=moderation, public_page=public_page)
    audit_log_of.area_added(session, area, now, actor=_admin(session, admin_id), channel=CHANNEL)
    return area


def turn_public_page(session: Session, admin_id: int, slug: str, on: bool, now: datetime) -> Area | None:
    """Turn the area's public page on or off (`set_public_page`, raises `AreaError`); None when no such area."""
    area = area_by_slug(session, slug)
    if area is None:
        return None
    if set_public_page(area, on):
        audit_log_of.area_changed(session, area, now, actor=_admin(session, admin_id), channel=CHANNEL,
                                  public_page=on)
    return area


def appoint(session: Session, admin_id: int, phone: str, slug: str, now: datetime) -> tuple[Area, bool] | None:
    """Make `phone` an organiser of the area: the area and whether they were new; None when no such area."""
    area = area_by_slug(session, slug)
    if area is None:
        return None
    added = appoint_organiser(session, phone, area, now)
    if added:
        audit_log_of.organiser_added(session, area, phone, now, actor=_admin(session, admin_id), channel=CHANNEL)
    return area, added


def remove(session: Session, admin_id: int, subscriber_id: int, slug: str, now: datetime) -> Area | None:
    """The person no longer organises the area; None when the area, the person, or that role is not there."""
    area = area_by_slug(session, slug)
    removed = session.get(Subscriber, subscriber_id)
    if area is None or removed is None or not remove_organiser(session, subscriber_id, area):
        return None
    audit_log_of.record(session, AuditAction.ORGANISER_REMOVE, now, actor=_admin(session, admin_id), channel=CHANNEL,
                        area_id=area.id, organiser=mask(removed.phone))
    return area


def invite(session: Session, settings: Settings, admin_id: int, slug: str, uses: int, days: int,
           now: datetime) -> dict[str, Any] | None:
    """A new code for a private area (`make_invite`, raises `InviteError`), to show once; None when no such area."""
    area = area_by_slug(session, slug)
    if area is None:
        return None
    me = _admin(session, admin_id)
    code = make_invite(session, settings, area, now, uses=uses, days=days, actor=me,
                       label=audit_log_of.actor_label(me), channel=CHANNEL)
    return {"code": code, "area": area.name, "slug": area.slug, "uses": uses, "days": days}
