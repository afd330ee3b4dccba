"""Who is subscribed to an organiser's areas: masked numbers, names, when they joined, their state.

Two statements a page (the rows and the count), whatever the number of subscribers.
Searching is by the last digits of a number, which is what a resident can tell an
organiser on the phone without giving the whole of it, or by a whole number. Never by
more of a number than its mask shows (`phone.SHOWN_DIGITS`): searching a digit more at
a time would unmask anyone in 50 searches. A search is a form POST, so no number goes
into an address (and a server's log of it), and an organiser may search at most
`SEARCHES` times; the searches are counted in the database, the same for every web process.

Each row shows the subscriber's language on a board of several, and an organiser may change it
(`set_language`): kept in their language history as any choice is (`community.languages.choose`,
channel `dashboard`, its wording naming the organiser), for someone in one of the organiser's areas.
On a board that places calls each row shows how the person hears the board (by text or by telephone,
`community.hearing`), and an organiser of their areas may change it (`set_hears_by`, with the same
refusals as everywhere: a landline is never switched to texts).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, select, text
from sqlalchemy.orm import Session

from sms_board.community.hearing import HEARS_BY_NAMES, change
from sms_board.community.languages import choose
from sms_board.community.people import actor_label
from sms_board.dashboard.scope import Viewer
from sms_board.dashboard.signin import Limits, wait_under_limits
from sms_board.models import (
    Area,
    HearsBy,
    Subscriber,
    SubscriberSearch,
    Subscription,
    SubscriptionStatus,
)
from sms_board.plumbing.config import Settings
from sms_board.plumbing.db import is_sqlite
from sms_board.text.phone import SHOWN_DIGITS, mask, normalise
from sms_board.text.phrases import phrase

PAGE_SIZE = 50
SEARCHES: Limits = ((timedelta(minutes=10), 30),)
# The first key of PostgreSQL's two-key advisory locks taken while counting one organiser's searches.
_SEARCH_LOCK = 0x5EA4


class State(enum.StrEnum):
    ACTIVE = "active"
    LEFT = "left"
    OPTED_OUT = "opted out"
    UNDELIVERABLE = "undeliverable"


# The states and digest choices in the organiser's words (the form sends the State's value).
STATE_NAMES = {State.ACTIVE: phrase("active"), State.LEFT: phrase("left"), State.OPTED_OUT: phrase("opted out"),
               State.UNDELIVERABLE: phrase("undeliverable")}
DIGEST_NAMES = {"daily": phrase("daily"), "weekly": phrase("weekly"), "off": phrase("off")}

_STATE_WHERE: dict[State, ColumnElement[bool]] = {
    State.ACTIVE: and_(Subscription.status == SubscriptionStatus.ACTIVE, Subscriber.opted_out_at.is_(None),
                       Subscriber.undeliverable_at.is_(None)),
    State.LEFT: and_(Subscription.status != SubscriptionStatus.ACTIVE, Subscriber.opted_out_at.is_(None)),
    State.OPTED_OUT: Subscriber.opted_out_at.is_not(None),
    State.UNDELIVERABLE: and_(Subscriber.undeliverable_at.is_not(None), Subscriber.opted_out_at.is_(None)),
}


def state_of(status: str, opted_out_at: datetime | None, undeliverable_at: datetime | None) -> State:
    if opted_out_at is not None:
        return State.OPTED_OUT
    if status != SubscriptionStatus.ACTIVE:
        return State.LEFT
    if undeliverable_at is not None:
        return State.UNDELIVERABLE
    return State.ACTIVE


@dataclass(frozen=True)
class SubscriberRow:
    number: str  # masked
    name: str | None
    area: str
    joined: datetime
    digest: str
    state: State
    subscriber_id: int = 0
    language: str | None = None  # None: not known yet
    hears_by: HearsBy = HearsBy.SMS

    @property
    def hears_by_name(self) -> str:
        return HEARS_BY_NAMES[self.hears_by]

    @property
    def state_name(self) -> str:
        return STATE_NAMES[self.state]

    @property
    def digest_name(self) -> str:
        return DIGEST_NAMES.get(self.digest, self.digest)


@dataclass(frozen=True)
class SubscriberPage:
    rows: list[SubscriberRow]
    total: int
    page: int
    pages: int


class SearchRefused(ValueError):
    """A search the page does not run; its message is the one line the organiser reads."""


@dataclass(frozen=True)
class Search:
    """What an organiser searched for: the last digits a mask shows, or one whole number (E.164)."""

    ending: str = ""
    number: str | None = None

    def __bool__(self) -> bool:
        return bool(self.ending or self.number)


def read_search(typed: str | None, region: str = "GB") -> Search:
    """The search an organiser typed, or SearchRefused for more digits than a mask shows but not a whole number."""
    typed = (typed or "").strip()
    if not typed:
        return Search()
    digits = typed.replace(" ", "")
    if digits.isascii() and digits.isdigit() and len(digits) <= SHOWN_DIGITS:
        return Search(ending=digits)
    number = normalise(typed, region)
    if number is None:
        raise SearchRefused(phrase("Search by the last %(digits)s digits a resident tells you, or by their whole number.",
                                   digits=SHOWN_DIGITS))
    return Search(number=number)


def count_search(session: Session, searcher_id: int, now: datetime) -> timedelta | None:
    """Count one search by `searcher_id`, or return how long to wait when it would be over `SEARCHES`."""
    if not is_sqlite(session):
        # Two searches at the same moment in two processes must not both slip under the limit
        # (SQLite's BEGIN IMMEDIATE already lets one writer in at a time).
        session.execute(text("SELECT pg_advisory_xact_lock(:kind, :who)"), {"kind": _SEARCH_LOCK, "who": searcher_id})
    longest = max(window for window, _ in SEARCHES)
    mine = SubscriberSearch.searcher_id == searcher_id
    earlier = list(session.scalars(select(SubscriberSearch.created_at).where(mine,
                                                                           SubscriberSearch.created_at > now - longest)))
    wait = wait_under_limits(earlier, SEARCHES, now)
    if wait is not None:
        return wait
    # Only the window is needed: each organiser's own searches keep the table small.
    session.execute(delete(SubscriberSearch).where(mine, SubscriberSearch.created_at <= now - longest))
    session.add(SubscriberSearch(searcher_id=searcher_id, created_at=now))
    return None


def subscriber_page(
    session: Session, area_ids: Sequence[int], *, search: Search = Search(), state: State | None = None,
    page: int = 1,
) -> SubscriberPage:
    where = [Subscription.area_id.in_(list(area_ids))]
    if search.ending:
        where.append(Subscriber.phone.like(f"%{search.ending}"))
    if search.number:
        where.append(Subscriber.phone == search.number)
    if state is not None:
        where.append(_STATE_WHERE[state])
    base = select(Subscription).join(Subscriber, Subscriber.id == Subscription.subscriber_id).where(*where)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = session.execute(
        select(Subscriber.phone, Subscriber.name, Area.name, Subscription.consent_at, Subscriber.digest_frequency,
               Subscription.status, Subscriber.opted_out_at, Subscriber.undeliverable_at, Subscriber.id,
               Subscriber.language, Subscriber.hears_by)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .join(Area, Area.id == Subscription.area_id)
        .where(*where)
        .order_by(Subscription.consent_at.desc(), Subscription.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return SubscriberPage(
        [SubscriberRow(mask(phone), name, area, joined, digest, state_of(status, opted, undeliverable), person, language,
                       hears_by)
         for phone, name, area, joined, digest, status, opted, undeliverable, person, language, hears_by in rows],
        total, page, pages,
    )


def listed_for(session: Session, viewer: Viewer, subscriber_id: int) -> Subscriber | None:
    """The subscriber if the viewer's subscriber page lists them (someone in one of their areas), else None:
    whom an organiser may act for."""
    person = session.get(Subscriber, subscriber_id)
    if person is None:
        return None
    listed_here = session.scalar(select(Subscription.id).where(
        Subscription.subscriber_id == subscriber_id, Subscription.area_id.in_(viewer.area_ids)).limit(1))
    return person if listed_here is not None else None


# How a language set here is kept in the person's language history (`language_choices.channel`).
CHANNEL = "dashboard"


def set_language(session: Session, viewer: Viewer, subscriber_id: int, language: str,
                 now: datetime) -> tuple[str, bool] | None:
    """Set a subscriber's language for the viewer, kept with who did it: their masked number and whether it
    changed; None when they are not someone the viewer's subscriber page lists (another area's, or nobody).

    `language` must be one of the board's (`community.languages.board_language` checks what was sent)."""
    person = listed_for(session, viewer, subscriber_id)
    if person is None:
        return None
    organiser = session.get(Subscriber, viewer.subscriber_id)
    changed = choose(session, person, language, wording=f"set on the dashboard by {actor_label(organiser)}",
                     channel=CHANNEL, now=now)
    return mask(person.phone), changed


# How the page asks for a landline to be rung (the end of its refusal).
ASK_FOR_VOICE = phrase("choose “by telephone”")


def set_hears_by(session: Session, settings: Settings, viewer: Viewer, subscriber_id: int,
                 hears_by: HearsBy) -> tuple[str, bool] | None:
    """Set how a subscriber hears the board: their masked number and whether it changed; None when the
    viewer's page does not list them. ValueError with the refusal (`community.hearing.change`)."""
    person = listed_for(session, viewer, subscriber_id)
    if person is None:
        return None
    return mask(person.phone), change(settings, person, hears_by, ask_for_voice=ASK_FOR_VOICE)
