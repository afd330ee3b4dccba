"""The help exchange: requests, offers, introductions, connections and the ledger.

Neighbours never see each other's numbers: once two are connected on an item
the board relays between them. Every state change is written to `item_events`
(the neighbourhood's memory); finished help is written to `exchanges`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, or_, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from sms_board.community.item_lifecycle import (
    CONNECTED,
    OPEN,
    WAITING_RESPONSES,
    transition,
    transition_match,
    transition_response,
)
from sms_board.community.people import acting_helper
from sms_board.community.report_figures import Period, Scope, exchange_figures, new_connections
from sms_board.models import (
    Area,
    Exchange,
    Item,
    ItemEvent,
    ItemEventAction,
    ItemKind,
    ItemStatus,
    Match,
    MatchStatus,
    Outbox,
    OutboxKind,
    Response,
    ResponseKind,
    ResponseStatus,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from sms_board.plumbing.db import is_sqlite
from sms_board.sending.delivery import about, cancel_about, told_about
from sms_board.text.templates import NEIGHBOUR

ANONYMOUS = NEIGHBOUR  # worded in the reader's language by the templates' `who` filter
_HOURS = re.compile(r"^(\d{1,3}(?:[.,]\d{1,2})?)\s*(H|HR|HRS|HOUR|HOURS|M|MIN|MINS|MINUTES)?$", re.IGNORECASE)


def display_name(person: Subscriber | None) -> str:
    return (person.name if person is not None and person.name else None) or ANONYMOUS


# What the board itself does to an item is history, not the neighbours' activity:
# it must not keep a quiet request from ageing.
_BOARD_ACTIONS = frozenset({ItemEventAction.REMINDED, ItemEventAction.EXPIRED, ItemEventAction.EXPIRED_ENDED})


def record(
    session: Session, item: Item, action: ItemEventAction, now: datetime, *, actor: Subscriber | None = None,
    match: Match | None = None, **detail: object,
) -> None:
    session.add(ItemEvent(
        item_id=item.id, match_id=match.id if match else None, actor_id=actor.id if actor else None,
        action=action, detail=_detail(session, detail), created_at=now,
    ))
    if action not in _BOARD_ACTIONS:
        item.last_activity_at = now
        # A new quiet spell starts: the requester may be asked again after it.
        item.reminded_at = None


def _detail(session: Session, detail: dict[str, object]) -> dict[str, object]:
    helper = acting_helper(session)
    return {**detail, "by_helper": helper} if helper else dict(detail)


_ITEMS = Item.__table__
_EVENTS = ItemEvent.__table__
# Parameters are named apart from the columns (`new_*`), so none can join an INSERT's column list.
_INSERT_ITEM = (
    insert(_ITEMS)
    .values({column.key: bindparam(f"new_{column.key}", type_=column.type) for column in _ITEMS.c if column.key != "id"})
    .returning(_ITEMS.c.id)
)
_OPENED_BY = select(bindparam("new_actor", type_=_EVENTS.c.actor_id.type),
                    bindparam("new_action", type_=_EVENTS.c.action.type),
                    bindparam("new_detail", type_=_EVENTS.c.detail.type),
                    bindparam("new_at", type_=_EVENTS.c.created_at.type))
_EVENT_COLUMNS = ("item_id", "actor_id", "action", "detail", "created_at")
_NEW_ITEM = _INSERT_ITEM.cte("new_item")
# One statement on PostgreSQL: the item, and its first event.
_OPEN_ITEM = insert(_EVENTS).from_select(
    _EVENT_COLUMNS, select(_NEW_ITEM.c.id, *_OPENED_BY.selected_columns).select_from(_NEW_ITEM),
).returning(_EVENTS.c.item_id)
_FIRST_EVENT = insert(_EVENTS).from_select(
    _EVENT_COLUMNS, select(bindparam("new_item", type_=_EVENTS.c.item_id.type), *_OPENED_BY.selected_columns),
)


def open_item(session: Session, item: Item, now: datetime, *, actor: Subscriber, area: Area) -> Item:
    """A new item (built, not yet added) stored with its first event, `opened` by `actor`, as `record` writes
    it: one statement on PostgreSQL, with no unit of work (texts post often). Returns the item, in the session.

    The item's activity is `now` already: its first event changes nothing more on its row."""
    values = {f"new_{column.key}": getattr(item, column.key) for column in _ITEMS.c if column.key != "id"}
    event_values = {"new_actor": actor.id, "new_action": ItemEventAction.OPENED, "new_detail": _detail(session, {}),
                    "new_at": now}
    connection = session.connection()
    if is_sqlite(session):
        item.id = connection.execute(_INSERT_ITEM, values).scalar_one()
        connection.execute(_FIRST_EVENT, {**event_values, "new_item": item.id})
    else:
        item.id = connection.execute(_OPEN_ITEM, {**values, **event_values}).scalar_one()
    make_transient_to_detached(item)
    session.add(item)
    set_committed_value(item, "area", area)  # already loaded: the reply that names it needs no query
    return item


def is_member(session: Session, person: Subscriber, area_id: int) -> bool:
    return session.scalar(
        select(Subscription.id).where(
            Subscription.subscriber_id == person.id, Subscription.area_id == area_id,
            Subscription.status == SubscriptionStatus.ACTIVE,
        )
    ) is not None


def parse_hours(text: str) -> float | None:
    """`2`, `2h`, `1.5 hours`, `90m` → hours; None when the text is not a duration."""
    match = _HOURS.match(text.strip())
    if not match:
        return None
    value = float(match.group(1).replace(",", "."))
    unit = (match.group(2) or "H").upper()
    hours = value / 60 if unit.startswith("M") else value
    return round(hours, 2) if 0 < hours <= 100 else None


# ── responses: offers on requests, asks for offers, sides of an introduction ──


def pending_responses(session: Session, item: Item) -> list[Response]:
    return list(session.scalars(
        select(Response).where(Response.item_id == item.id, Response.status == ResponseStatus.PENDING)
        .order_by(Response.number)
    ))


def respond(session: Session, item: Item, person: Subscriber, kind: ResponseKind, now: datetime) -> Response | None:
    """A new response from `person`, or None if they already responded to this item."""
    # Two neighbours offering at the same moment must get different numbers (OK R7 1 / OK R7 2):
    # hold the item's row while numbering. SQLite's BEGIN IMMEDIATE already serialises writers.
    session.execute(select(Item.id).where(Item.id == item.id).with_for_update())
    existing = session.scalar(select(Response).where(Response.item_id == item.id, Response.responder_id == person.id))
    if existing is not None:
        reopened = transition_response(session, existing, ResponseStatus.PENDING,
                                       allowed_from=(ResponseStatus.WITHDRAWN,), now=now)
        return existing if reopened else None
    number = (session.scalar(select(func.max(Response.number)).where(Response.item_id == item.id)) or 0) + 1
    response = Response(item_id=item.id, responder_id=person.id, kind=kind, number=number,
                        status=ResponseStatus.PENDING, created_at=now)
    session.add(response)
    session.flush()
    return response


def pick_response(responses: list[Response], selector: str) -> Response | None:
    """`OK R7 2` or `OK R7 SAM`: the response meant, when exactly one fits."""
    if selector.isdigit():
        return next((r for r in responses if r.number == int(selector)), None)
    fits = [r for r in responses if r.responder is not None and (r.responder.name or "").upper() == selector.upper()]
    return fits[0] if len(fits) == 1 else None


def resolve(session: Session, response: Response, status: ResponseStatus, now: datetime) -> bool:
    """The waiting response is accepted, declined or withdrawn: a notice announcing it that still waits is moot.

    False when it was no longer waiting (taken back, or answered, a moment ago): nothing changes.
    """
    if not transition_response(session, response, status, allowed_from=WAITING_RESPONSES, now=now):
        return False
    cancel_about(session, about(response_id=response.id),
                 f"the {response.kind} was {status}", now)
    return True


def withdraw_responses(session: Session, person: Subscriber, now: datetime,
                       area_ids: list[int] | None = None) -> int:
    """Take back everything `person` offered or asked for and is still waiting on (in these areas)."""
    query = select(Response).where(Response.responder_id == person.id,
                                   Response.status == ResponseStatus.PENDING)
    if area_ids is not None:
        query = query.join(Item, Item.id == Response.item_id).where(Item.area_id.in_(area_ids))
    responses = list(session.scalars(query))
    for response in responses:
        resolve(session, response, ResponseStatus.WITHDRAWN, now)
    return len(responses)


def taken_back(session: Session, item: Item) -> Response | None:
    """The response to `item` taken back most recently, if none is waiting and it came after any reminder.

    `OK R8` then reads as accepting it: the requester is told it was taken back. After a
    reminder ("do you still need help?"), `OK R8` keeps the request open as ever.
    """
    last = session.scalar(
        select(Response).where(Response.item_id == item.id, Response.status == ResponseStatus.WITHDRAWN)
        .order_by(Response.resolved_at.desc(), Response.id.desc()).limit(1)
    )
    if last is None or (item.reminded_at is not None and last.resolved_at is not None and last.resolved_at < item.reminded_at):
        return None
    return last


# ── connections ───────────────────────────────────────────────────────────


def connect(session: Session, item: Item, owner: Subscriber, helper: Subscriber, now: datetime) -> Match:
    match = Match(item_id=item.id, owner_id=owner.id, helper_id=helper.id, status=MatchStatus.CONNECTED,
                  created_at=now)
    session.add(match)
    session.flush()
    record(session, item, ItemEventAction.CONNECTED, now, actor=owner, match=match)
    return match


def active_matches(session: Session, person: Subscriber, item: Item | None = None) -> list[Match]:
    query = select(Match).where(
        Match.status == MatchStatus.CONNECTED, or_(Match.owner_id == person.id, Match.helper_id == person.id)
    ).order_by(Match.id)
    if item is not None:
        query = query.where(Match.item_id == item.id)
    return list(session.scalars(query))


def other_party(match: Match, person: Subscriber) -> Subscriber | None:
    return match.helper if match.owner_id == person.id else match.owner


def end_match(session: Session, match: Match, status: MatchStatus, now: datetime, actor: Subscriber | None,
              reason: ItemEventAction) -> set[int] | None:
    """End a connection; returns the parties who never heard of it (nobody tells them it ended).

    A connection ended before it was done (not DONE) takes its waiting texts with it: a
    "Connected with Priya" still held for the morning is cancelled, and so Sam never heard.
    None when it had already ended (a moment ago, by the other side or an organiser).
    """
    if not transition_match(session, match, status, now=now):
        return None
    record(session, match.item, reason, now, actor=actor, match=match)
    if status == MatchStatus.DONE:
        # Its texts were true when sent; a bridged call still waiting would ring about a finished thing.
        cancel_about(session, and_(about(match_id=match.id), Outbox.kind == OutboxKind.CALL), "the connection done",
                     now)
        return set()
    texts = about(match_id=match.id)
    return cancel_about(session, texts, f"the connection {status}", now) - told_about(session, texts)


def end_connections_of(session: Session, person: Subscriber, now: datetime,
                       reason: ItemEventAction) -> list[tuple[Match, Subscriber]]:
    """End every open connection of someone who opted out or forgot; returns whom to tell."""
    ended: list[tuple[Match, Subscriber]] = []
    for match in active_matches(session, person):
        unaware = end_match(session, match, MatchStatus.ENDED, now, person, reason)
        other = other_party(match, person)
        if unaware is not None and other is not None and other.id not in unaware:
            ended.append((match, other))
    withdraw_responses(session, person, now)
    return ended


def close_item(session: Session, item: Item, status: ItemStatus, now: datetime, actor: Subscriber | None,
               action: ItemEventAction, *, allowed_from: tuple[ItemStatus, ...] = OPEN) -> list[tuple[Match, Subscriber]] | None:
    """Close an item; open connections on it end. Returns (match, person to tell) for each ended one.

    What still waits to be sent about the item (an offer on it, a reminder) is cancelled.
    None when the item was not in `allowed_from` (closed, or decided, a moment ago): nothing changes.
    """
    if not transition(session, item, status, allowed_from=allowed_from, now=now):
        return None
    record(session, item, action, now, actor=actor)
    told: list[tuple[Match, Subscriber]] = []
    for match in session.scalars(select(Match).where(Match.item_id == item.id,
                                                     Match.status.in_(CONNECTED))):
        unaware = end_match(session, match, MatchStatus.ENDED, now, actor, action.ended)
        if unaware is None:
            continue
        for party in (match.owner, match.helper):
            if party is not None and (actor is None or party.id != actor.id) and party.id not in unaware:
                told.append((match, party))
    for response in pending_responses(session, item):
        resolve(session, response, ResponseStatus.WITHDRAWN, now)
    cancel_about(session, about(item_id=item.id), f"#{item.ref} was {action}", now)
    return told


def giver_and_receiver(match: Match) -> tuple[Subscriber | None, Subscriber | None]:
    """Who gave and who received: the helper gives on a request, the owner gives on an offer."""
    if match.item.kind == ItemKind.OFFER:
        return match.owner, match.helper
    return match.helper, match.owner


def complete(session: Session, match: Match, hours: float, now: datetime, actor: Subscriber) -> Exchange | None:
    """The connection is done: the ledger gets one row. None when it had already ended (two DONEs at once)."""
    giver, receiver = giver_and_receiver(match)
    item = match.item
    if end_match(session, match, MatchStatus.DONE, now, actor, ItemEventAction.DONE) is None:
        return None
    exchange = Exchange(
        item_id=item.id, match_id=match.id, area_id=item.area_id,
        giver_id=giver.id if giver else None, receiver_id=receiver.id if receiver else None,
        description=item.body, hours=hours, created_at=now,
    )
    session.add(exchange)
    if item.kind == ItemKind.REQUEST and transition(session, item, ItemStatus.CLOSED,
                                                               allowed_from=OPEN, now=now):
        for response in pending_responses(session, item):
            resolve(session, response, ResponseStatus.WITHDRAWN, now)
    return exchange


def balance(session: Session, person: Subscriber) -> tuple[float, float, int, int]:
    """Hours given, hours received, and how many exchanges of each."""
    given = session.execute(
        select(func.coalesce(func.sum(Exchange.hours), 0.0), func.count()).where(Exchange.giver_id == person.id)
    ).one()
    received = session.execute(
        select(func.coalesce(func.sum(Exchange.hours), 0.0), func.count()).where(Exchange.receiver_id == person.id)
    ).one()
    return float(given[0]), float(received[0]), int(given[1]), int(received[1])


# ── the ledger (reports for councils and funders) ────────────────────────────

# The columns of a ledger row, as `sms-board ledger --csv` and the dashboard's ledger.csv write them.
LEDGER_COLUMNS = ("when", "area", "ref", "giver", "receiver", "hours", "description")


@dataclass(frozen=True)
class LedgerRows:
    rows: list[dict[str, object]]  # LEDGER_COLUMNS, names never numbers
    people: int  # everyone who gave or received
    withheld: int  # rows of private areas left out of a ledger for everyone


def ledger(session: Session, area: Area | None = None, since: datetime | None = None) -> dict[str, object]:
    """Exchanges, hours, givers, receivers, people who did both, and new connections.

    The figures it shares with the monthly report are the report's own (`community/report_figures.py`),
    over [since, now), with organisers and administrators counted as people (the ledger is
    everyone who helped): `givers`, `receivers` and `both` are the report's `people_who_gave`,
    `people_who_received` and `gave_and_received` with `SMS_BOARD_REPORT_INCLUDE_ORGANISERS=on`.
    """
    listed = ledger_rows(session, area, since)
    scope, period = Scope.of(area.id if area else None, include_organisers=True), Period(since, None)
    shared = exchange_figures(session, scope, period)
    return {
        "exchanges": shared["exchanges"],
        "hours": shared["hours"],
        "givers": shared["people_who_gave"],
        "receivers": shared["people_who_received"],
        "both": shared["gave_and_received"],
        "people": listed.people,
        "new_connections": new_connections(session, scope, period),
        "area": area.slug if area else None,
        "since": since.date().isoformat() if since else None,
        "rows": listed.rows,
        "private_rows_withheld": listed.withheld,
    }


def ledger_rows(session: Session, area: Area | None = None, since: datetime | None = None) -> LedgerRows:
    """Who helped whom, one row per exchange.

    A private area's exchanges count in the totals, but its rows (what was done, by whom)
    are listed only when that area is asked for by name: a ledger for everyone (a funder's
    report) never shows what a tenants' committee or a carers' network did.
    """
    query = select(Exchange).order_by(Exchange.created_at, Exchange.id)
    if area is not None:
        query = query.where(Exchange.area_id == area.id)
    if since is not None:
        query = query.where(Exchange.created_at >= since)
    exchanges = list(session.scalars(query))
    private = set(session.scalars(select(Area.id).where(Area.private.is_(True)))) if area is None else set()
    listed = [e for e in exchanges if e.area_id not in private]
    people = {e.giver_id for e in exchanges if e.giver_id} | {e.receiver_id for e in exchanges if e.receiver_id}
    names = {s.id: display_name(s) for s in session.scalars(
        select(Subscriber).where(Subscriber.id.in_(people))
    )} if people else {}
    areas = {a.id: a.slug for a in session.scalars(select(Area))}
    item_ids = {e.item_id for e in exchanges if e.item_id}
    # Refs as residents know them: #R7 for a request, #O3 for an offer.
    refs = {item.id: f"#{item.ref}" for item in session.scalars(select(Item).where(Item.id.in_(item_ids)))} \
        if item_ids else {}
    rows: list[dict[str, object]] = [
        {
            "when": e.created_at.isoformat(timespec="minutes"), "area": areas.get(e.area_id or 0),
            "ref": refs.get(e.item_id) if e.item_id else None,
            "giver": names.get(e.giver_id or 0, ANONYMOUS), "receiver": names.get(e.receiver_id or 0, ANONYMOUS),
            "hours": e.hours, "description": e.description,
        }
        for e in listed
    ]
    return LedgerRows(rows, len(people), len(exchanges) - len(listed))
