"""Who runs the board: organisers broadcast to and moderate their areas; administrators, every area."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_board.community.subscriptions import get_or_create_subscriber
from sms_board.models import Area, Organiser, Subscriber


def appoint_organiser(session: Session, phone: str, area: Area, now: datetime) -> bool:
    """Make the number (E.164) an organiser of `area`; False when it already was one."""
    person = get_or_create_subscriber(session, phone, now)
    exists = session.scalar(select(Organiser).where(Organiser.subscriber_id == person.id, Organiser.area_id == area.id))
    if exists is not None:
        return False
    session.add(Organiser(subscriber_id=person.id, area_id=area.id))
    return True


def appoint_admin(session: Session, phone: str, now: datetime) -> Subscriber:
    """Make the number (E.164) an administrator: dashboard sign-in for every area."""
    person = get_or_create_subscriber(session, phone, now)
    person.is_admin = True
    return person


def remove_organiser(session: Session, subscriber_id: int, area: Area) -> bool:
    """The person no longer organises `area`; False when they did not. Their resident's subscription stays."""
    found = session.scalar(select(Organiser).where(Organiser.subscriber_id == subscriber_id, Organiser.area_id == area.id))
    if found is None:
        return False
    session.delete(found)
    return True
