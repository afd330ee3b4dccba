"""A demo neighbourhood: three areas, an organiser, residents and notices.

Only Ofcom's drama numbers (+44 7700 900000–900999) are used, so no real
person can ever be texted by a demo. The organiser is an administrator too, so
whoever tries the board signs in as her and sees every page the README shows
(Administration and the Audit log included).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_board.community.people import appoint_admin
from sms_board.community.subscriptions import get_or_create_subscriber, subscribe
from sms_board.models import Area, AreaPostcode, Item, ItemKind, ItemStatus, Organiser
from sms_board.plumbing.config import Settings
from sms_board.plumbing.utc import utcnow

AREAS = [
    ("elm", "Elm Street", ["SE6 1", "SE6 2"]),
    ("oak", "Oak Road", ["SE6 3", "SE6 4"]),
    ("river", "Riverside", ["SE10"]),
]
ORGANISER = ("+447700900001", "Ruth", "elm")
# What `sms-board demo` (and so `make run`) says: who to sign in as, and what she may do.
SIGN_IN = "sign in at /login as Ruth, 07700 900001: organiser of Elm Street and an administrator"
RESIDENTS = [
    ("+447700900123", "Sam", "elm"),
    ("+447700900456", "Priya", "elm"),
    ("+447700900789", "Joe", "oak"),
    ("+447700900321", "Ada", "river"),
]
NOTICES = [
    ("+447700900456", "elm", "Plant swap on Saturday 10am by the community garden. Bring cuttings!"),
    ("+447700900001", "elm", "The Elm St residents' meeting is Tuesday 7pm at St Mark's hall. All welcome."),
    ("+447700900789", "oak", "Found: a set of keys with a blue fob near the Oak Rd bus stop. Text me via the board."),
]


def seed(session: Session, settings: Settings) -> bool:
    """Create the demo data unless it is there already; True when something was created."""
    if session.scalar(select(Area).where(Area.slug == "elm")) is not None:
        return False
    now = utcnow()
    areas: dict[str, Area] = {}
    for slug, name, prefixes in AREAS:
        area = Area(slug=slug, name=name, timezone=settings.timezone, private=False, moderation="open")
        area.postcodes = [AreaPostcode(prefix=p) for p in prefixes]
        session.add(area)
        areas[slug] = area
    session.flush()
    people = {}
    for phone, name, slug in [ORGANISER, *RESIDENTS]:
        person = get_or_create_subscriber(session, phone, now - timedelta(days=30))
        person.name = name
        subscribe(session, person, areas[slug], words=f"JOIN {slug.upper()}", wording="demo data",
                  channel="cli", now=now - timedelta(days=30))
        people[phone] = person
    session.add(Organiser(subscriber_id=people[ORGANISER[0]].id, area_id=areas[ORGANISER[2]].id))
    appoint_admin(session, ORGANISER[0], now)
    for i, (phone, slug, body) in enumerate(NOTICES):
        when = now - timedelta(hours=6 * (len(NOTICES) - i))
        session.add(Item(
            kind=ItemKind.NOTICE, area_id=areas[slug].id, author_id=people[phone].id,
            author_name=people[phone].name, body=body, status=ItemStatus.PUBLISHED,
            created_at=when, published_at=when,
        ))
    return True
