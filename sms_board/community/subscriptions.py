"""Joining, leaving, opting out and back in, each written to the consent history; and reading it back.

Every change of a subscription's status goes through `sending.subscription_status`
(its one writer): JOIN brings back a left area, LEAVE ends an active one, and only START
brings back what STOP ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, insert, or_, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from sms_board.community.hearing import first_hearing
from sms_board.models import (
    Area,
    ConsentAction,
    ConsentEvent,
    InboundMessage,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from sms_board.plumbing.db import is_sqlite
from sms_board.sending.subscription_status import (
    LEAVES_FROM,
    MEMBER,
    REJOINS_FROM,
    RESTARTS_FROM,
    initial_status,
    transition,
)
from sms_board.text.templates import Said
from sms_board.text.words import Words

# ── who hears from what ────────────────────────────────────────────────────

# Every text reads its sender and most read their areas: built once, run with new values.
_SUBSCRIBER_BY_PHONE = select(Subscriber).where(Subscriber.phone == bindparam("phone"))
_ACTIVE_AREAS = select(Area).join(Subscription, Subscription.area_id == Area.id).where(
    Subscription.subscriber_id == bindparam("subscriber"),
    Subscription.status == SubscriptionStatus.ACTIVE,
).order_by(Area.name)
# The day's hint to a text kept for the organisers (`handlers.router`) is claimed as their areas are read: the
# stamp moves only if no hint went since `hint_due` (the WHERE is checked again after a concurrent text's commit
# on PostgreSQL), so two texts at once from one number get one hint between them.
_SUBSCRIBERS = Subscriber.__table__
_CLAIM_HINT = (
    update(_SUBSCRIBERS)
    .where(
        _SUBSCRIBERS.c.id == bindparam("subscriber"),
        or_(_SUBSCRIBERS.c.last_hint_at.is_(None), _SUBSCRIBERS.c.last_hint_at <= bindparam("hint_due")),
    )
    .values(last_hint_at=bindparam("hinted_at"))
    .returning(_SUBSCRIBERS.c.id)
)
_CLAIMED = _CLAIM_HINT.cte("hinted")
_HINT_CLAIMED = select(exists(select(_CLAIMED.c.id)).label("hinted")).subquery("claim")
# One row even with no areas: whether the hint was claimed, then each area (None when there is none).
_ACTIVE_AREAS_CLAIMING_HINT = (
    select(_HINT_CLAIMED.c.hinted, Area)
    .select_from(_HINT_CLAIMED)
    .outerjoin(Subscription, and_(
        Subscription.subscriber_id == bindparam("subscriber"), Subscription.status == SubscriptionStatus.ACTIVE,
    ))
    .outerjoin(Area, Area.id == Subscription.area_id)
    .order_by(Area.name)
)
_IS_MEMBER = exists().where(
    Subscription.area_id == Area.id, Subscription.subscriber_id == bindparam("subscriber"),
    Subscription.status == SubscriptionStatus.ACTIVE,
)
# What a post may name: the sender's areas and every public one (a private area is listed nowhere).
_NAMEABLE_AREAS = select(Area, _IS_MEMBER.label("member")).where(or_(Area.private.is_(False), _IS_MEMBER)).order_by(
    Area.name
)


def get_or_create_subscriber(session: Session, phone: str, now: datetime) -> Subscriber:
    """The subscriber for a number; safe when two texts from a new number arrive at once.

    Most texts come from numbers the board knows: one read. A new number is inserted
    (doing nothing if a text racing it got there first) and read again.
    """
    subscriber = session.scalar(_SUBSCRIBER_BY_PHONE, {"phone": phone})
    if subscriber is not None:
        return subscriber
    subscriber = add_subscriber(session, phone, now) or session.scalar(_SUBSCRIBER_BY_PHONE, {"phone": phone})
    assert subscriber is not None
    return subscriber


def add_subscriber(session: Session, phone: str, now: datetime) -> Subscriber | None:
    """A subscriber row for a new number, returned by the one `INSERT … RETURNING` that adds it (None, if a
    text racing this one added it first); a landline hears the board by voice from the start
    (`community.hearing`)."""
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    return session.scalar(
        insert(Subscriber).values(**_new_subscriber(phone, now))
        .on_conflict_do_nothing(index_elements=["phone"]).returning(Subscriber)
    )


def _new_subscriber(phone: str, now: datetime) -> dict[str, Any]:
    """The row a new number starts with (`add_subscriber`, `SENDER_OR_ADDED`)."""
    return {"phone": phone, "created_at": now, "is_admin": False, "digest_frequency": "daily",
            "hears_by": first_hearing(phone)}


_NEW_SUBSCRIBER_COLUMNS = ("phone", "created_at", "is_admin", "digest_frequency", "hears_by")
# The sender of a text by their number, added when the number is new, in the `WITH` of one statement
# (`inbound.guards.sender`, PostgreSQL): the row `add_subscriber` adds, inserted only when no row has the
# number (no id is spent on a known one). A text racing this one that added the number first leaves no
# row here: the caller adds it the usual way, which then reads it.
_ADDED = (
    pg_insert(Subscriber).from_select(
        list(_NEW_SUBSCRIBER_COLUMNS),
        select(*(bindparam(f"new_{name}", type_=_SUBSCRIBERS.c[name].type) for name in _NEW_SUBSCRIBER_COLUMNS))
        .where(~exists().where(_SUBSCRIBERS.c.phone == bindparam("new_phone"))),
    )
    .on_conflict_do_nothing(index_elements=["phone"])
    .returning(*_SUBSCRIBERS.c)
    .cte("added")
)
SENDER_OR_ADDED = union_all(
    select(_SUBSCRIBERS).where(_SUBSCRIBERS.c.phone == bindparam("new_phone")), select(_ADDED),
).subquery("sender")


def sender_or_added_values(phone: str, now: datetime) -> dict[str, Any]:
    """The values `SENDER_OR_ADDED` takes for a text from `phone`."""
    return {f"new_{name}": value for name, value in _new_subscriber(phone, now).items()}


def active_areas(session: Session, subscriber: Subscriber) -> list[Area]:
    """The subscriber's active areas, by name."""
    return list(session.scalars(_ACTIVE_AREAS, {"subscriber": subscriber.id}))


def active_areas_claiming_hint(
    session: Session, subscriber: Subscriber, *, now: datetime, every: timedelta,
) -> tuple[list[Area], bool]:
    """The subscriber's active areas, and whether this text is the one that gives them the hint due
    `every` so often (stamped `now`). Claimed in the same statement on PostgreSQL, by one more on SQLite;
    of several texts at once from one number, one wins."""
    values = {"subscriber": subscriber.id, "hinted_at": now, "hint_due": now - every}
    if is_sqlite(session):  # one writer at a time: the claim and the read in turn
        hinted = session.execute(_CLAIM_HINT, values).first() is not None
        areas = list(session.scalars(_ACTIVE_AREAS, values))
    else:
        rows = session.execute(_ACTIVE_AREAS_CLAIMING_HINT, values).all()
        hinted = bool(rows[0].hinted)
        areas = [row.Area for row in rows if row.Area is not None]
    if hinted:
        set_committed_value(subscriber, "last_hint_at", now)  # written: nothing left for the session to flush
    return areas, hinted


def nameable_areas(session: Session, subscriber: Subscriber) -> tuple[list[Area], list[Area]]:
    """The subscriber's active areas, and the public areas they are not in, by name: one statement."""
    mine: list[Area] = []
    others: list[Area] = []
    for area, member in session.execute(_NAMEABLE_AREAS, {"subscriber": subscriber.id}):
        (mine if member else others).append(area)
    return mine, others


def _subscription(session: Session, subscriber: Subscriber, area: Area) -> Subscription | None:
    return session.scalar(
        select(Subscription).where(Subscription.subscriber_id == subscriber.id, Subscription.area_id == area.id)
    )


_SUBSCRIPTIONS = Subscription.__table__
_CONSENTS = ConsentEvent.__table__
_SUBSCRIPTION_COLUMNS = ("subscriber_id", "area_id", "status", "consent_at", "consent_text", "consent_channel",
                         "ended_at", "last_digest_at")
_CONSENT_COLUMNS = ("subscriber_id", "area_id", "action", "channel", "words", "wording", "inbound_id", "created_at")


def _new_subscription(insert: Any) -> Any:
    # Parameters are named apart from the columns (`new_*`), so none can join an INSERT's column list.
    return (
        insert(_SUBSCRIPTIONS)
        .values({name: bindparam(f"new_{name}", type_=_SUBSCRIPTIONS.c[name].type) for name in _SUBSCRIPTION_COLUMNS})
        .on_conflict_do_nothing(index_elements=["subscriber_id", "area_id"])
        .returning(_SUBSCRIPTIONS.c.id)
    )


_CONSENT_GIVEN = select(*(bindparam(f"given_{name}", type_=_CONSENTS.c[name].type) for name in _CONSENT_COLUMNS))
_NEW_ON_SQLITE = _new_subscription(sqlite_insert)
_ADDED = _new_subscription(pg_insert).cte("added")
# A first subscription to an area and the consent it was given with: one statement on PostgreSQL.
_SUBSCRIBE_NEW = insert(_CONSENTS).from_select(
    _CONSENT_COLUMNS, _CONSENT_GIVEN.select_from(_ADDED),
).returning(_CONSENTS.c.id)
_CONSENT_ON_SQLITE = insert(_CONSENTS).from_select(_CONSENT_COLUMNS, _CONSENT_GIVEN)
# The person's first join to any area, kept as it happens (the monthly report's `new_members`): in
# the statement that subscribes them on PostgreSQL (a no-op unless this is their first), by one more
# on SQLite, only when it is.
_FIRST_JOIN = update(_SUBSCRIBERS).where(
    _SUBSCRIBERS.c.id == bindparam("given_subscriber_id", type_=_CONSENTS.c.subscriber_id.type),
    _SUBSCRIBERS.c.first_joined_at.is_(None),
).values(first_joined_at=bindparam("given_created_at", type_=_CONSENTS.c.created_at.type))
_SUBSCRIBE_NEW = _SUBSCRIBE_NEW.add_cte(_FIRST_JOIN.where(exists(select(_ADDED.c.id))).cte("first_join"))


def _subscribed_anew(session: Session, subscription: dict[str, Any], consent: dict[str, Any], first: bool) -> bool:
    """A subscription to an area the number never had, and its consent, as Core statements; False (and
    nothing written) when the number has, or had, one there. `first`: the person never joined before
    (their first join is kept)."""
    values = {f"new_{name}": value for name, value in subscription.items()}
    given = {f"given_{name}": value for name, value in consent.items()}
    connection = session.connection()
    if is_sqlite(session):
        if connection.execute(_NEW_ON_SQLITE, values).first() is None:
            return False
        connection.execute(_CONSENT_ON_SQLITE, given)
        if first:
            connection.execute(_FIRST_JOIN, given)
        return True
    return connection.execute(_SUBSCRIBE_NEW, {**values, **given}).first() is not None


def subscribe(
    session: Session,
    subscriber: Subscriber,
    area: Area,
    *,
    words: str,
    wording: str,
    channel: str,
    now: datetime,
    inbound_id: int | None = None,
) -> bool:
    """Subscribe to an area, recording consent. False when already subscribed.

    Also False for an area STOP ended: only START brings that back (the number stays opted out).
    """
    # A (re)joining subscriber's first digest holds what is new from now on, not the past
    # (nor what was posted while they were away).
    consent = {"consent_at": now, "consent_text": words, "consent_channel": channel, "last_digest_at": now}
    given = {"subscriber_id": subscriber.id, "area_id": area.id, "action": ConsentAction.SUBSCRIBE,
             "channel": channel, "words": words, "wording": wording, "inbound_id": inbound_id, "created_at": now}
    # Most joins are a first subscription to the area: inserted with its consent at once. Otherwise the
    # subscription there decides.
    status = initial_status(subscriber)
    if _subscribed_anew(session, {"subscriber_id": subscriber.id, "area_id": area.id, "status": status,
                                  "ended_at": None if status in MEMBER else now, **consent}, given,
                        subscriber.first_joined_at is None):
        if subscriber.first_joined_at is None:
            set_committed_value(subscriber, "first_joined_at", now)  # written: nothing left to flush
        return True
    existing = _subscription(session, subscriber, area)
    if existing is not None and existing.status not in REJOINS_FROM:
        return False  # a member already; or STOP ended it, and only START brings that back
    if existing is None:  # deleted since the INSERT met it: nothing to rejoin
        return False
    if not transition(session, Subscription.id == existing.id, SubscriptionStatus.ACTIVE,
                      allowed_from=REJOINS_FROM, now=now, **consent):
        return False
    session.add(ConsentEvent(**given))
    if subscriber.first_joined_at is None:  # (a membership left before any join was kept: migration 0027)
        subscriber.first_joined_at = now
    return True


def leave(
    session: Session, subscriber: Subscriber, areas: list[Area], *, words: str, channel: str, now: datetime,
    inbound_id: int | None = None,
) -> list[Area]:
    """Leave the given areas; returns those actually left."""
    left: list[Area] = []
    for area in areas:
        if not transition(session, (Subscription.subscriber_id == subscriber.id) & (Subscription.area_id == area.id),
                          SubscriptionStatus.LEFT, allowed_from=LEAVES_FROM, now=now):
            continue
        left.append(area)
        session.add(
            ConsentEvent(
                subscriber_id=subscriber.id, area_id=area.id, action=ConsentAction.LEAVE, channel=channel,
                words=words, wording=None, inbound_id=inbound_id, created_at=now,
            )
        )
    return left


def opt_in(
    session: Session, subscriber: Subscriber, *, words: str, channel: str, now: datetime,
    inbound_id: int | None = None, wording: str | None = None,
) -> list[Area]:
    """Undo a STOP: the number may be texted again and the areas STOP ended come back."""
    subscriber.opted_out_at = None
    # No catch-up digest of everything missed while opted out.
    transition(session, Subscription.subscriber_id == subscriber.id, SubscriptionStatus.ACTIVE,
               allowed_from=RESTARTS_FROM, now=now, last_digest_at=now)
    session.add(
        ConsentEvent(
            subscriber_id=subscriber.id, area_id=None, action=ConsentAction.OPT_IN, channel=channel,
            words=words, wording=wording, inbound_id=inbound_id, created_at=now,
        )
    )
    session.flush()
    return active_areas(session, subscriber)



def start_again(session: Session, subscriber: Subscriber, inbound: InboundMessage, words: Words,
                now: datetime) -> Said:
    """START by SMS (or YES with nothing to confirm): an opted-out number opts back in; the reply to it.

    A number that never opted out is only told it is in (which changes nothing).
    """
    was_out = subscriber.opted_out
    areas = opt_in(
        session, subscriber, words=words.original or "START", channel="sms", now=now, inbound_id=inbound.id,
    ) if was_out else []
    return Said.of("start_confirm", areas=areas, was_out=was_out).because(was_out)

@dataclass(frozen=True)
class ConsentRecord:
    """One step of a number's consent history; `area` is a slug, None for STOP and START."""

    at: datetime
    action: ConsentAction
    area: str | None
    channel: str
    words: str
    wording: str | None


@dataclass(frozen=True)
class ConsentHistory:
    phone: str
    opted_out_at: datetime | None
    events: list[ConsentRecord]


def consent_history(session: Session, phone: str) -> ConsentHistory | None:
    """Every join, leave, opt-out and opt-in of a number (E.164), oldest first; None for a number never seen."""
    person = session.scalar(select(Subscriber).where(Subscriber.phone == phone))
    if person is None:
        return None
    rows = session.execute(
        select(ConsentEvent, Area.slug)
        .outerjoin(Area, Area.id == ConsentEvent.area_id)
        .where(ConsentEvent.subscriber_id == person.id)
        .order_by(ConsentEvent.id)
    ).all()
    events = [
        ConsentRecord(at=event.created_at, action=event.action, area=slug, channel=event.channel,
                      words=event.words, wording=event.wording)
        for event, slug in rows
    ]
    return ConsentHistory(phone=person.phone, opted_out_at=person.opted_out_at, events=events)
