"""People: organisers broadcast to and moderate their areas; administrators, every area; NAMEs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import regex
from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_board.community.subscriptions import get_or_create_subscriber
from sms_board.models import Area, Organiser, Subscriber
from sms_board.text.phone import mask

MAX_NAME = 20
# Letters, marks, spaces, apostrophes and hyphens: a name, not a number or a link.
_NAME = regex.compile(r"[\p{L}\p{M}][\p{L}\p{M} '’.-]*")


def is_name(text: str) -> bool:
    """Whether `text` can be the NAME shown on someone's posts."""
    return bool(_NAME.fullmatch(text))


def appoint_organiser(session: Session, phone: str, area: Area, now: datetime) -> bool:
    """Make the number (E.164) an organiser of `area`; False when it already was one."""
    person = get_or_create_subscriber(session, phone, now)
    exists = session.scalar(select(Organiser).where(Organiser.subscriber_id == person.id, Organiser.area_id == area.id))
    if exists is not None:
        return False
    session.add(Organiser(subscriber_id=person.id, area_id=area.id))
    return True


def appoint_admin(session: Session, phone: str, now: datetime) -> bool:
    """Make the number (E.164) an administrator: dashboard sign-in for every area; False when it already was one."""
    person = get_or_create_subscriber(session, phone, now)
    if person.is_admin:
        return False
    person.is_admin = True
    return True


def remove_organiser(session: Session, subscriber_id: int, area: Area) -> bool:
    """The person no longer organises `area`; False when they did not. Their resident's subscription stays."""
    found = session.scalar(select(Organiser).where(Organiser.subscriber_id == subscriber_id, Organiser.area_id == area.id))
    if found is None:
        return False
    session.delete(found)
    return True
def is_organiser(session: Session, person: Subscriber, area_id: int) -> bool:
    return session.scalar(
        select(Organiser.id).where(Organiser.subscriber_id == person.id, Organiser.area_id == area_id)
    ) is not None


def may_moderate(session: Session, person: Subscriber, area_id: int) -> bool:
    """Organisers of the area, and administrators, decide on its posts, reports and join requests."""
    return person.is_admin or is_organiser(session, person, area_id)


def organisers_to_tell(session: Session, area_id: int) -> list[Subscriber]:
    """Who hears about an area's posts, reports and join requests: its organisers, else the administrators.

    An area nobody organises yet must not leave a held post unseen.
    """
    organisers = list(session.scalars(
        select(Subscriber).join(Organiser, Organiser.subscriber_id == Subscriber.id)
        .where(Organiser.area_id == area_id).order_by(Subscriber.id)
    ))
    if organisers:
        return organisers
    return list(session.scalars(select(Subscriber).where(Subscriber.is_admin.is_(True)).order_by(Subscriber.id)))


def actor_label(person: Subscriber | None) -> str:
    """How the audit log names who did something: their NAME and masked number, never the number."""
    if person is None:
        return "the board"
    return f"{person.name} {mask(person.phone)}" if person.name else mask(person.phone)


# While a trusted helper acts for a resident (`FOR ROSE …`, docs/helpers.md), the session carries who
# they are: the item's history and the audit log record the resident as the person, "by" the helper.
_ACTING_HELPER = "sms_board.acting_helper"


@contextmanager
def acting_as_helper(session: Session, helper: Subscriber, resident: Subscriber) -> Iterator[None]:
    session.info[_ACTING_HELPER] = f"{actor_label(helper)} as {resident.name}'s helper"[:120]
    try:
        yield
    finally:
        session.info.pop(_ACTING_HELPER, None)


def acting_helper(session: Session) -> str | None:
    """"Sam +44 7•••• ••222 as Rose's helper" while a helper acts for a resident, else None."""
    return session.info.get(_ACTING_HELPER)
