"""The monthly report's figures: each defined once, here, and read by `report` and `ledger` alike.

Every figure is for one scope (an area, or the whole board when `area_id` is None) and one
period on the board's clock (`Period`: a calendar month in `settings.timezone`, or the
ledger's "since" with no end). Each is a few set-based statements over indexed columns
(migration 0025 adds the time indexes they read; 0026 those led by area and by person, so that
an area's figures read only its own rows; 0028 those that let the whole board's exchanges and
active memberships be read from indexes alone): no loop over people in Python, and never a read of
every connection the board ever made. `docs/reports.md` prints the definitions;
`DEFINITIONS` is the wording every report prints, and `DEFINITIONS_VERSION` changes
whenever one of them does (a kept month says which version made it).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    and_,
    case,
    distinct,
    exists,
    func,
    intersect,
    literal,
    or_,
    select,
    text,
    true,
    type_coerce,
    union,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from sms_board.models import (
    ConsentAction,
    ConsentEvent,
    Exchange,
    InboundMessage,
    Item,
    ItemKind,
    Match,
    Organiser,
    Response,
    ResponseKind,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from sms_board.models.messaging import InboundStatus
from sms_board.text.phrases import phrase

DEFINITIONS_VERSION = 1

# A request with no offer this long after it went up waited, unanswered: the quietest voices.
UNANSWERED_AFTER = timedelta(hours=72)
# Someone who joined this long before the month ended and was never in an exchange is isolated.
ISOLATED_AFTER = timedelta(days=90)

# The figures, in the order every report prints them, each with the words it is printed with (a Phrase:
# English here and on the command line, in the page's language on the dashboard's Reports page).
DEFINITIONS: dict[str, str] = {
    "new_connections": phrase("pairs of people who completed their first exchange with each other ever in the month "
                       "(a DONE, or an organiser's INTRO both accepted); each pair counted once in the board's "
                       "lifetime, in the area of that first exchange"),
    "exchanges": phrase("exchanges marked DONE in the month"),
    "hours": phrase("hours given in those exchanges"),
    "people_who_gave": phrase("people who gave help in an exchange of the month"),
    "people_who_received": phrase("people who received help in an exchange of the month"),
    "gave_and_received": phrase("people who both gave and received in the month"),
    "repeat_givers": phrase("people who gave to two or more different people in the month"),
    "requests": phrase("help requests that went up (were published) in the month"),
    "requests_with_offer": phrase("of those, requests a neighbour offered to help with (CAN), at any time"),
    "requests_unanswered_3_days": phrase("of those, requests with no offer within 72 hours of going up "
                                  "(counted once their 72 hours are over)"),
    "median_hours_to_first_offer": phrase("median hours from a request going up to its first offer, "
                                   "over the month's requests that had one (null with none)"),
    "active_members": phrase("members who sent a text the board acted on (not one only kept for the organisers), "
                      "or took part in an exchange, in the month"),
    "new_members": phrase("people who joined for the first time in the month (a first JOIN, invite, "
                   "accepted request or import)"),
    "left": phrase("people whose membership ended in the month (LEAVE or STOP) and who are no longer members"),
    "isolated_members": phrase("members who joined 90 or more days before the month ended and were never in an exchange "
                        "up to its end"),
}
# The figures that count people: organisers and administrators are left out of them
# (unless SMS_BOARD_REPORT_INCLUDE_ORGANISERS=on); their exchanges and hours still count.
PEOPLE_COUNTS = ("people_who_gave", "people_who_received", "gave_and_received", "repeat_givers",
                 "active_members", "new_members", "left", "isolated_members")
# The figures that are counts (all but the hours and the median): what `--shareable` may suppress.
COUNTS = tuple(key for key in DEFINITIONS if key not in ("hours", "median_hours_to_first_offer"))

Figures = dict[str, int | float | None]


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC; `end` None: up to now (the ledger's `--since`)."""

    start: datetime | None
    end: datetime | None

    def holds(self, column: ColumnElement[datetime]) -> ColumnElement[bool]:
        bounds = [column.is_not(None)]
        if self.start is not None:
            bounds.append(column >= self.start)
        if self.end is not None:
            bounds.append(column < self.end)
        return and_(*bounds)


def month_period(month: date, zone: ZoneInfo) -> Period:
    """The calendar month that `month` falls in, midnight to midnight on the board's clock."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(_midnight(first, zone), _midnight(following, zone))


def last_complete_month(now: datetime, zone: ZoneInfo) -> date:
    """The first day of the calendar month before the one `now` falls in, on the board's clock."""
    this_month = now.astimezone(zone).date().replace(day=1)
    return (this_month - timedelta(days=1)).replace(day=1)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Scope:
    """What the figures are about: some areas (None: the whole board) and whether staff are people too."""

    area_ids: tuple[int, ...] | None
    include_organisers: bool = False

    @classmethod
    def of(cls, area_id: int | None, include_organisers: bool = False) -> Scope:
        """One area, or the whole board (None)."""
        return cls(None if area_id is None else (area_id,), include_organisers)

    def holds(self, column: ColumnElement[int | None]) -> ColumnElement[bool]:
        """`column` names an area of the scope."""
        return true() if self.area_ids is None else column.in_(self.area_ids)

    def people(self, column: ColumnElement[int | None]) -> ColumnElement[bool]:
        """`column` names a person who counts: someone (not erased), and not staff unless asked for."""
        if self.include_organisers:
            return column.is_not(None)
        return and_(column.is_not(None), column.not_in(_staff()))


def _staff() -> Select[tuple[int]]:
    """Organisers of any area, and administrators (through their partial index, `ix_subscribers_admin`:
    never a pass over everyone)."""
    return union(select(Organiser.subscriber_id), select(Subscriber.id).where(Subscriber.is_admin))  # type: ignore[return-value]


def figures(session: Session, scope: Scope, period: Period, now: datetime) -> Figures:
    """Every figure of `DEFINITIONS` for the scope and period: four statements, whatever the board's size."""
    if session.get_bind().dialect.name == "postgresql":
        # The month's statements are a few index and hash passes planned at a high cost (the whole
        # board's memberships): JIT compiling them costs more than it saves, up to seconds. For this
        # transaction only.
        session.execute(text("SET LOCAL jit = off"))
        # The people counts sort their people (`_count_people`): up to the whole board's eligible
        # memberships. Room to sort them in memory rather than on disk; for this transaction only.
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    found: Figures = {}
    found.update(exchange_figures(session, scope, period))
    found["new_connections"] = new_connections(session, scope, period)
    found.update(request_figures(session, scope, period, now))
    found.update(member_figures(session, scope, period, now))
    return {key: found[key] for key in DEFINITIONS}


# ── exchanges, hours and the people in them ──────────────────────────────────


def _exchanges_in(scope: Scope, period: Period) -> Select[tuple[int | None, int | None]]:
    return select(Exchange.giver_id, Exchange.receiver_id).where(period.holds(Exchange.created_at),
                                                                 scope.holds(Exchange.area_id))


def exchange_figures(session: Session, scope: Scope, period: Period) -> Figures:
    """`exchanges`, `hours`, `people_who_gave`, `people_who_received`, `gave_and_received`, `repeat_givers`."""
    month = _exchanges_in(scope, period).add_columns(Exchange.hours).cte("month_exchanges")
    givers = select(month.c.giver_id).where(scope.people(month.c.giver_id))
    receivers = select(month.c.receiver_id).where(scope.people(month.c.receiver_id))
    both = intersect(givers, receivers).subquery()
    repeat = (select(month.c.giver_id).where(scope.people(month.c.giver_id), month.c.receiver_id.is_not(None))
              .group_by(month.c.giver_id).having(func.count(distinct(month.c.receiver_id)) >= 2).subquery())
    row = session.execute(select(
        select(func.count()).select_from(month).scalar_subquery(),
        select(func.coalesce(func.sum(month.c.hours), 0.0)).scalar_subquery(),
        _count_people(givers), _count_people(receivers),
        select(func.count()).select_from(both).scalar_subquery(),
        select(func.count()).select_from(repeat).scalar_subquery(),
    )).one()
    exchanges, hours, gave, received, gave_and_received, repeat_givers = row
    return {"exchanges": int(exchanges), "hours": round(float(hours), 2), "people_who_gave": int(gave),
            "people_who_received": int(received), "gave_and_received": int(gave_and_received),
            "repeat_givers": int(repeat_givers)}


# ── new connections: a pair's first exchange ever ────────────────────────────


def _pair(a: ColumnElement[int | None], b: ColumnElement[int | None]) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """The two people of a pair, lower id first: one unordered pair whichever way the help went."""
    return case((a < b, a), else_=b), case((a < b, b), else_=a)


def _same_pair(a: ColumnElement[int | None], b: ColumnElement[int | None],
               low: ColumnElement[int], high: ColumnElement[int]) -> ColumnElement[bool]:
    return or_(and_(a == low, b == high), and_(a == high, b == low))


def new_connections(session: Session, scope: Scope, period: Period) -> int:
    """`new_connections`: pairs whose first completed exchange (or accepted INTRO) ever falls in the period.

    The period's exchanges and accepted introductions are looked up by time, and each pair's
    earlier history by its people (both indexed): never every connection ever made.
    """
    intro = aliased(Item)
    done = select(*_pair(Exchange.giver_id, Exchange.receiver_id), Exchange.created_at.label("at"),
                  Exchange.area_id.label("area_id")).where(
        period.holds(Exchange.created_at), scope.holds(Exchange.area_id), Exchange.giver_id.is_not(None),
        Exchange.receiver_id.is_not(None))
    introduced = select(*_pair(Match.owner_id, Match.helper_id), Match.created_at.label("at"),
                        intro.area_id.label("area_id")).join(intro, intro.id == Match.item_id).where(
        period.holds(Match.created_at), scope.holds(intro.area_id), intro.kind == ItemKind.INTRO,
        Match.owner_id.is_not(None), Match.helper_id.is_not(None))
    bonds = union_all(done, introduced).subquery("bonds")
    low, high = bonds.c[0], bonds.c[1]
    # Each way round on its own index (`ix_exchanges_giver`, `ix_exchanges_receiver`: person, other person,
    # time), read alone: one OR of both would read each exchange's row for its other person and time.
    earlier_given = exists().where(Exchange.giver_id == low, Exchange.receiver_id == high, Exchange.created_at < bonds.c.at)
    earlier_received = exists().where(Exchange.receiver_id == low, Exchange.giver_id == high,
                                      Exchange.created_at < bonds.c.at)
    earlier_intro = exists(select(literal(1)).select_from(Match).join(intro, intro.id == Match.item_id).where(
        intro.kind == ItemKind.INTRO, _same_pair(Match.owner_id, Match.helper_id, low, high),
        Match.created_at < bonds.c.at))
    firsts = select(low, high).distinct().where(~earlier_given, ~earlier_received, ~earlier_intro)
    return int(session.scalar(select(func.count()).select_from(firsts.subquery())) or 0)


# ── requests and how soon they were answered ─────────────────────────────────


def request_figures(session: Session, scope: Scope, period: Period, now: datetime) -> Figures:
    """`requests`, `requests_with_offer`, `requests_unanswered_3_days`, `median_hours_to_first_offer`.

    One statement: each of the period's requests with its first offer's time (one row per
    request of the month, not per person).
    """
    # Read as the database's naive UTC (`DateTime`, not the models' aware `UTCDateTime`) on the connection,
    # not through the ORM: at a million subscribers a month has 16,000 requests, and making each of their
    # times aware, row by row through the ORM's loading, cost more than the statement.
    naive = DateTime()
    first_offer = (select(func.min(Response.created_at)).where(Response.item_id == Item.id,
                                                               Response.kind == ResponseKind.OFFER)
                   .scalar_subquery())
    rows: Sequence[tuple[datetime, datetime | None]] = session.connection().execute(
        select(type_coerce(Item.published_at, naive), type_coerce(first_offer, naive)).where(
            Item.kind == ItemKind.REQUEST, period.holds(Item.published_at), scope.holds(Item.area_id))
    ).all()  # type: ignore[assignment]
    now = now.astimezone(UTC).replace(tzinfo=None)
    waits = [(offered - published) for published, offered in rows if offered is not None]
    unanswered = sum(1 for published, offered in rows if published + UNANSWERED_AFTER <= now
                     and (offered is None or offered - published > UNANSWERED_AFTER))
    median = round(statistics.median(w.total_seconds() for w in waits) / 3600, 1) if waits else None
    return {"requests": len(rows), "requests_with_offer": len(waits), "requests_unanswered_3_days": unanswered,
            "median_hours_to_first_offer": median}


# ── members ──────────────────────────────────────────────────────────────────


def _subscriptions_of(scope: Scope) -> Select[tuple[int]]:
    return select(Subscription.subscriber_id).where(scope.holds(Subscription.area_id))


def member_figures(session: Session, scope: Scope, period: Period, now: datetime) -> Figures:
    """`active_members`, `new_members`, `left`, `isolated_members`: one statement."""
    return dict(zip(("active_members", "new_members", "left", "isolated_members"), (int(n) for n in session.execute(
        select(_count_people(_active(scope, period)),
               _count_people(_new(scope, period), scope), _count_people(_left(scope, period)),
               _count_passed(lambda counted: _isolated(counted, period, now), scope))
    ).one()), strict=True))


def _count_passed(people_of: Callable[[Scope], Select[tuple[int | None]]], scope: Scope) -> ColumnElement[int]:
    """The people of the whole board's long pass (the active memberships, `_isolated`), counted as
    everyone less the staff among them: the same number as leaving staff out row by row, with no
    lookup per row. The staff among them are found from the staff, each looked up on the indexes by
    person (a handful of rows). (Not for the month's texts: there the staff would be joined with
    every text of the month, a second pass.)"""
    if scope.area_ids is not None or scope.include_organisers:
        return _count_people(people_of(scope))
    everyone = replace(scope, include_organisers=True)
    among = people_of(everyone).subquery()
    return _count_people(people_of(everyone)) - _count_people(select(among.c[0]).where(among.c[0].in_(_staff())))


def _count_people(people: Select[tuple[int | None]], one_row_each: Scope | None = None) -> ColumnElement[int]:
    # count(DISTINCT …): one sort of the people, in memory (`figures` gives the transaction the room), where
    # a DISTINCT or GROUP BY below a count(*) hashes them: measured at a million subscribers, hashing the
    # month's 160,000 texters took twice as long as sorting them, and the isolated members' 700,000
    # memberships arrive in person order from `ix_subscriptions_active_person` already.
    # `one_row_each`: for the whole board the rows are subscribers (`_new`), already one a person: counted as they are.
    found = people.subquery()
    if one_row_each is not None and one_row_each.area_ids is None:
        return select(func.count()).select_from(found).scalar_subquery()
    return select(func.count(distinct(found.c[0]))).scalar_subquery()


def _active(scope: Scope, period: Period) -> Select[tuple[int | None]]:
    acted_on = [InboundMessage.status == InboundStatus.HANDLED, period.holds(InboundMessage.handled_at),
                InboundMessage.handler.is_not(None), InboundMessage.handler != "inbox"]
    if scope.area_ids is None:  # anyone: the month's texts, by time
        texted = select(InboundMessage.subscriber_id.label("person")).where(*acted_on)
    else:  # a member of the area: the area's members, each one's texts by person (not the board's month)
        texted = select(Subscription.subscriber_id.label("person")).where(
            scope.holds(Subscription.area_id),
            exists().where(InboundMessage.subscriber_id == Subscription.subscriber_id, *acted_on))
    month = _exchanges_in(scope, period).subquery()
    # All of them as they come (UNION ALL): `_count_people` makes them distinct, once.
    people = union_all(texted, select(month.c.giver_id), select(month.c.receiver_id)).subquery()
    return select(people.c.person).where(scope.people(people.c.person))


def _new(scope: Scope, period: Period) -> Select[tuple[int | None]]:
    if scope.area_ids is None:
        # New to the board: each person's first join is kept as it happens (`Subscriber.first_joined_at`,
        # migration 0027), so the month's are one range of `ix_subscribers_first_joined`.
        return select(Subscriber.id).where(period.holds(Subscriber.first_joined_at), scope.people(Subscriber.id))
    # New to the area: their first join ever to it is this one: per join of the month, the
    # earliest of that person's joins, read from `ix_consent_events_subscriber_action_created`
    # (never a pass over every join the board ever had).
    earlier = aliased(ConsentEvent)
    before = [earlier.subscriber_id == ConsentEvent.subscriber_id, earlier.action == ConsentAction.SUBSCRIBE,
              earlier.area_id == ConsentEvent.area_id]
    first = select(func.min(earlier.created_at)).where(*before).scalar_subquery()
    return select(ConsentEvent.subscriber_id).where(
        ConsentEvent.action == ConsentAction.SUBSCRIBE, period.holds(ConsentEvent.created_at),
        scope.holds(ConsentEvent.area_id), scope.people(ConsentEvent.subscriber_id), ConsentEvent.created_at <= first)


def _left(scope: Scope, period: Period) -> Select[tuple[int | None]]:
    still = aliased(Subscription)
    member_still = exists().where(still.subscriber_id == Subscription.subscriber_id,
                                  still.status == SubscriptionStatus.ACTIVE, scope.holds(still.area_id))
    return select(Subscription.subscriber_id).where(
        Subscription.status.in_([SubscriptionStatus.LEFT, SubscriptionStatus.STOPPED]),
        period.holds(Subscription.ended_at), scope.holds(Subscription.area_id),
        scope.people(Subscription.subscriber_id), ~member_still)


def _isolated(scope: Scope, period: Period, now: datetime) -> Select[tuple[int | None]]:
    end = period.end or now
    # Each eligible membership looked up as giver and as receiver, each on its index (migration 0028:
    # `ix_exchanges_giver`, `ix_exchanges_receiver`). For the whole board the memberships
    # come from `ix_subscriptions_active_person`, read alone and in person order, so both lookups are
    # merge anti-joins with those indexes read in the same order: no sort, no hash, one pass over each.
    never = [~exists().where(Exchange.giver_id == Subscription.subscriber_id, Exchange.created_at < end),
             ~exists().where(Exchange.receiver_id == Subscription.subscriber_id, Exchange.created_at < end)]
    return select(Subscription.subscriber_id).where(
        Subscription.status == SubscriptionStatus.ACTIVE, Subscription.consent_at <= end - ISOLATED_AFTER,
        scope.holds(Subscription.area_id), scope.people(Subscription.subscriber_id), *never)
