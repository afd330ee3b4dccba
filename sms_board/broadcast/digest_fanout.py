"""Writing a digest run: every area's texts in one statement per chunk of subscriptions.

A run's bodies are stored first, one `DigestBatch` per group of subscribers who
share an area and a range of last-digest times (and one for each author, without
what they wrote). Then each chunk of subscription ids is joined to the run's
batches: the subscription's area and last digest pick its batch, and the rows of
every area are written at once. In the same transaction the chunk's
`last_digest_at` moves to the run's cutoff (so each item reaches each subscriber
at most once and a resumed run finds them done), those not reminded this month
are stamped, and a MORE place is cleared (a new digest is read from its first
page).

On PostgreSQL a chunk is one statement (data-modifying CTEs, all reading the
same snapshot); SQLite gets the same writes as three statements, the move last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sms_board.broadcast.fanout import DELIVERY_KEY
from sms_board.models import (
    DigestBatch,
    HearsBy,
    Outbox,
    OutboxKind,
    OutboxLane,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    UTCDateTime,
)
from sms_board.plumbing.db import PLAN_EACH_TIME, among, is_sqlite
from sms_board.sending.delivery import initial_status
from sms_board.sending.reachability import reachable

_OUTBOX_COLUMNS = (
    "to_number", "subscriber_id", "body", "kind", "status", "lane", "segments", "encoding", "attempts",
    "campaign_id", "batch_id", "created_at", "send_after",
)


def since() -> ColumnElement[datetime]:
    """A subscription's last digest; one with no digest yet counts from when its subscriber joined."""
    return func.coalesce(Subscription.last_digest_at, Subscription.consent_at)


def digest_recipients(frequencies: Sequence[str]) -> list[ColumnElement[bool]]:
    """Conditions on `Subscription` and `Subscriber` for those a run with these frequencies texts."""
    return [
        Subscription.status == SubscriptionStatus.ACTIVE,
        Subscriber.digest_frequency.in_(list(frequencies)),
        *reachable(),
    ]


def stop_line_due(month: datetime) -> ColumnElement[bool]:
    """Subscribers whose digests have not said how to stop since `month` began."""
    return (Subscriber.stop_reminded_at.is_(None)) | (Subscriber.stop_reminded_at < month)


def digest_language(board: Sequence[str]) -> ColumnElement[str]:
    """The language a subscriber's digest is in: theirs, or (not known, or one the board no longer
    speaks) the board's first. A digest is one text a person, paged by MORE, so someone whose language
    is not known gets it in the first language, not once per language (docs/translations.md)."""
    return case((Subscriber.language.in_(list(board)), Subscriber.language), else_=literal(board[0]))


@dataclass(frozen=True)
class RunWrite:
    """What every chunk of one run binds: its batches, and what it writes."""

    planned: Sequence[int]  # every batch of the plan: who has a body of their own
    writing: Sequence[int]  # the batches written now (a campaign paused at the cap is left out)
    frequencies: Sequence[str]
    cutoff: datetime
    month: datetime
    now: datetime
    send_after: datetime | None
    # The board's languages when it speaks more than one: each subscriber joins their language's batch.
    languages: Sequence[str] = ()


def _matched(session: Session, run: RunWrite, first: int | None = None, last: int | None = None,
             hears_by: HearsBy = HearsBy.SMS) -> Select:  # type: ignore[type-arg]
    """Each due subscription (ids in [first, last)) with its batch, and whether it is reminded how to stop.

    Only those who hear the board `hears_by`: texts are written for those who read them;
    the voice subscribers' calls are `digest_calls`'.

    A subscription belongs to the batch of its area whose range holds its last digest; an
    author to their own batch (`own`: none when they wrote nothing of it), everyone else to
    the batch for all. Only one of a subscriber's digests in a chunk carries the monthly line
    on how to stop. The rows stay narrow (the bodies are joined when written), so that a
    chunk is sorted and kept in memory.
    """
    # The run's batches as the join needs them (a few hundred narrow rows, read once per chunk),
    # and the authors' own among every batch of the plan.
    batch = (
        select(DigestBatch.id, DigestBatch.area_id, DigestBatch.since, DigestBatch.until, DigestBatch.author_id,
               DigestBatch.language,
               case((DigestBatch.body.is_not(None), 1), else_=0).label("sends"),
               case((DigestBatch.reminder.is_not(None), 1), else_=0).label("reminds"))
        .where(among(session, DigestBatch.id, run.writing))
        .cte("batch")
        .prefix_with("MATERIALIZED")  # computed once, not carried through the chunk's sort
    )
    own = (
        select(DigestBatch.id, DigestBatch.area_id, DigestBatch.author_id)
        .where(among(session, DigestBatch.id, run.planned), DigestBatch.author_id.is_not(None))
        .cte("own")
        .prefix_with("MATERIALIZED")
    )
    last_digest = since()
    first_of_theirs = func.row_number().over(
        partition_by=Subscription.subscriber_id, order_by=(batch.c.reminds.desc(), Subscription.id)
    ) == 1
    remind = case((and_(batch.c.reminds == 1, stop_line_due(run.month), first_of_theirs), 1), else_=0)
    clear_more = case((and_(batch.c.sends == 1, Subscriber.more_batch_id.is_not(None)), 1), else_=0)
    window = [*([Subscription.id >= first] if first is not None else []),
              *([Subscription.id < last] if last is not None else [])]
    in_their_language = [batch.c.language == digest_language(run.languages)] if len(run.languages) > 1 else []
    return (
        select(
            Subscription.id.label("subscription_id"), Subscriber.id.label("subscriber_id"), Subscriber.phone,
            batch.c.id.label("batch_id"), batch.c.sends.label("sent"), remind.label("remind"),
            clear_more.label("clear_more"),
        )
        .select_from(Subscription)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .outerjoin(own, and_(own.c.author_id == Subscription.subscriber_id, own.c.area_id == Subscription.area_id))
        .join(batch, and_(
            batch.c.area_id == Subscription.area_id,
            last_digest < batch.c.until,
            or_(batch.c.since.is_(None), last_digest >= batch.c.since),
            or_(batch.c.id == own.c.id, and_(own.c.id.is_(None), batch.c.author_id.is_(None))),
            *in_their_language,
        ))
        .where(*window, *digest_recipients(run.frequencies), Subscriber.hears_by == hears_by)
    )


def matched_subscriptions(session: Session, run: RunWrite, hears_by: HearsBy) -> Select:  # type: ignore[type-arg]
    """Every due subscription of those who hear the board `hears_by`, with its batch (see `_matched`)."""
    return _matched(session, run, hears_by=hears_by)


def count_by_batch(session: Session, run: RunWrite) -> dict[int, int]:
    """How many texts each of the run's batches would write (what the monthly cap needs to know)."""
    matched = _matched(session, run).subquery()
    return dict(session.connection().execute(
        select(matched.c.batch_id, func.count()).where(matched.c.sent == 1).group_by(matched.c.batch_id)
    ).all())


def _rows(matched, run: RunWrite) -> Select:  # type: ignore[no-untyped-def, type-arg]
    status = initial_status(run.send_after)
    return (
        select(
            matched.c.phone, matched.c.subscriber_id,
            case((matched.c.remind == 1, DigestBatch.reminder), else_=DigestBatch.body),
            literal(OutboxKind.DIGEST, Outbox.kind.type), literal(status, Outbox.status.type),
            literal(int(OutboxLane.BULK), Integer()), DigestBatch.segments, DigestBatch.encoding,
            literal(0, Integer()), DigestBatch.campaign_id, DigestBatch.id,
            literal(run.now, UTCDateTime()), literal(run.send_after, UTCDateTime()),
        )
        .select_from(matched)
        # `matched` names only the run's batches: one primary-key probe each, however many areas.
        .join(DigestBatch, DigestBatch.id == matched.c.batch_id)
        .where(matched.c.sent == 1)
    )


def _touch_subscribers(matched, run: RunWrite):  # type: ignore[no-untyped-def]
    """Stamp who was reminded how to stop; clear the MORE place of those sent a new digest."""
    people = (
        select(matched.c.subscriber_id, func.max(matched.c.remind).label("remind"),
               func.max(matched.c.clear_more).label("clear_more"))
        .group_by(matched.c.subscriber_id)
        .subquery("people")
    )
    return (
        update(Subscriber)
        .where(Subscriber.id == people.c.subscriber_id, or_(people.c.remind == 1, people.c.clear_more == 1))
        .values(
            stop_reminded_at=case((people.c.remind == 1, run.now), else_=Subscriber.stop_reminded_at),
            more_batch_id=case((people.c.clear_more == 1, None), else_=Subscriber.more_batch_id),
            more_page=case((people.c.clear_more == 1, 0), else_=Subscriber.more_page),
        )
    )


def write_chunk(session: Session, run: RunWrite, first: int, last: int) -> dict[int, tuple[int, int]]:
    """The texts of subscriptions with ids in [first, last), for every area of the run at once.

    Returns, per campaign, the (texts, segments) written now; rows already written
    (unique campaign and subscriber) are skipped.
    """
    conflict = DELIVERY_KEY  # a digest is version 0 of its campaign: one a person
    if not is_sqlite(session):
        matched = _matched(session, run, first, last).cte("matched")
        written = (
            pg_insert(Outbox).from_select(list(_OUTBOX_COLUMNS), _rows(matched, run))
            .on_conflict_do_nothing(index_elements=conflict)
            .returning(Outbox.campaign_id, Outbox.segments)
            .cte("written")
        )
        moved = (
            update(Subscription).where(Subscription.id == matched.c.subscription_id)
            .values(last_digest_at=run.cutoff).cte("moved")
        )
        touched = _touch_subscribers(matched, run).cte("touched")
        totals = (
            select(written.c.campaign_id, func.count(), func.sum(written.c.segments))
            .group_by(written.c.campaign_id)
            .add_cte(moved, touched)
        )
        # Planned for its own chunk each time, as a broadcast chunk is (`PLAN_EACH_TIME`).
        return {campaign_id: (texts, segments)
                for campaign_id, texts, segments in session.connection().execute(
                    totals, execution_options=PLAN_EACH_TIME)}
    # SQLite: the same writes one after another. The chunk is read again each time; the
    # move comes last, since it is what takes a subscription out of the chunk.
    matched = _matched(session, run, first, last).subquery("matched")
    inserted = session.connection().execute(
        sqlite_insert(Outbox).from_select(list(_OUTBOX_COLUMNS), _rows(matched, run))
        .on_conflict_do_nothing(index_elements=conflict)
        .returning(Outbox.campaign_id, Outbox.segments)
    ).all()
    session.connection().execute(_touch_subscribers(matched, run))
    session.connection().execute(
        update(Subscription)
        .where(Subscription.id.in_(select(matched.c.subscription_id)))
        .values(last_digest_at=run.cutoff)
    )
    written: dict[int, tuple[int, int]] = {}
    for campaign_id, segments in inserted:
        texts, total = written.get(campaign_id, (0, 0))
        written[campaign_id] = (texts + 1, total + segments)
    return written
