"""Digest calls: a voice subscriber's digest is one call that reads the news of all their areas.

A run plans its groups with everyone in them, voice subscribers too (their last digests
decide which bodies exist), and writes texts only to those who hear the board by text
(`digest_fanout`). Then, once per run, with voice on, each voice subscriber due in it gets
one outbox row of kind `call`: its `DigestBatch` (kind of its own: no pages, `until` empty,
so a resumed run never takes it for one of its groups) lists the items it reads, area by
area, each area's items in the order its text digest shows them; `body` is the script's plain
words. In the same transaction their subscriptions' last digest moves to the run's cutoff, so
a resumed run finds them done. A voice subscriber whose areas run at different times (another
time zone) gets one call per run.

With voice off nobody is called and nothing moves: the voice subscribers due are counted
(`DigestReport.calls_waiting`), and their news waits for voice to be turned on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from sms_board.broadcast.digest_fanout import RunWrite, matched_subscriptions
from sms_board.models import Area, DigestBatch, HearsBy, Item, Subscriber, Subscription
from sms_board.plumbing.config import Settings
from sms_board.plumbing.db import among
from sms_board.sending.outbox import enqueue_call
from sms_board.voice.listing import listing_of
from sms_board.voice.script import digest_call_of, script_words


@dataclass
class CallPlan:
    """One voice subscriber's call in a run: the subscriptions it settles and the items it reads."""

    subscriber_id: int
    language: str | None
    subscription_ids: list[int] = field(default_factory=list)
    items: list[tuple[int, int, list[int]]] = field(default_factory=list)  # (area, campaign, item ids)

    @property
    def item_ids(self) -> list[int]:
        seen: dict[int, None] = {}
        for _, _, ids in sorted(self.items):
            seen.update(dict.fromkeys(ids))
        return list(seen)

    @property
    def campaign_id(self) -> int:
        """The campaign of the first of their areas with news: the call counts there."""
        return min(self.items)[1]


def plan_calls(session: Session, run: RunWrite) -> list[CallPlan]:
    """Every voice subscriber due in this run, with what their call reads; one query."""
    matched = matched_subscriptions(session, run, HearsBy.VOICE).subquery()
    rows = session.execute(
        select(matched.c.subscriber_id, matched.c.subscription_id, matched.c.sent, DigestBatch.area_id,
               DigestBatch.campaign_id, DigestBatch.item_ids, Subscriber.language)
        .join(DigestBatch, DigestBatch.id == matched.c.batch_id)
        .join(Subscriber, Subscriber.id == matched.c.subscriber_id)
        .order_by(matched.c.subscriber_id, DigestBatch.area_id)
    ).all()
    plans: dict[int, CallPlan] = {}
    for subscriber_id, subscription_id, sent, area_id, campaign_id, item_ids, language in rows:
        plan = plans.setdefault(subscriber_id, CallPlan(subscriber_id, language))
        plan.subscription_ids.append(subscription_id)
        if sent and item_ids:
            plan.items.append((area_id, campaign_id, list(item_ids)))
    return list(plans.values())


def write_calls(session: Session, settings: Settings, run: RunWrite, plans: Sequence[CallPlan],
                zones: Mapping[int, str]) -> dict[int, int]:
    """A call for each plan with news, its batch, and every planned subscription moved to the cutoff.

    Each call waits for quiet hours to end and call hours to open on its first area's clock (`zones`).
    Returns the calls written per campaign (a call already written, by a run that stopped
    halfway, is not written again: the outbox's delivery key).
    """
    calling = [plan for plan in plans if plan.items]
    items = _items(session, [item_id for plan in calling for item_id in plan.item_ids])
    people = {s.id: s for s in session.scalars(
        select(Subscriber).where(among(session, Subscriber.id, [plan.subscriber_id for plan in calling])))}
    # A call none of whose posts is still up is about its first area: those areas, in one statement.
    bare = {min(plan.items)[0] for plan in calling if not listing_of(plan.item_ids, items, None).items}
    areas = {area.id: area for area in session.scalars(select(Area).where(among(session, Area.id, list(bare))))} \
        if bare else {}
    written: dict[int, int] = {}
    for plan in calling:
        area_id = min(plan.items)[0]
        item_ids = [item_id for item_id in plan.item_ids if item_id in items]
        batch_id = session.execute(insert(DigestBatch).values(
            campaign_id=plan.campaign_id, area_id=area_id, since=None, until=None, author_id=None,
            item_ids=item_ids, pages=[], body=None,
            reminder=None, segments=0, encoding="voice", created_at=run.now, language=plan.language,
        ).returning(DigestBatch.id)).scalar_one()
        person = people[plan.subscriber_id]
        row = enqueue_call(session, settings, person, "", zone_name=zones.get(area_id),
                           campaign_id=plan.campaign_id, batch_id=batch_id, now=run.now)
        if row is not None:
            # The outbox's body is the script's words, as the call will say them (`outbox --json`): the
            # listing the call will read, built from the posts read once for the whole run.
            listing = listing_of(item_ids, items, areas.get(area_id))
            row.body = script_words(digest_call_of(settings, row, person, listing))
            written[plan.campaign_id] = written.get(plan.campaign_id, 0) + 1
    subscription_ids = [s for plan in plans for s in plan.subscription_ids]
    if subscription_ids:
        session.execute(update(Subscription).where(among(session, Subscription.id, subscription_ids))
                        .values(last_digest_at=run.cutoff))
    session.flush()
    return written


def count_waiting(session: Session, run: RunWrite) -> int:
    """How many voice subscribers this run would call (voice off: they wait)."""
    matched = matched_subscriptions(session, run, HearsBy.VOICE).subquery()
    return session.scalar(select(func.count(func.distinct(matched.c.subscriber_id))).where(matched.c.sent == 1)) or 0


def _items(session: Session, item_ids: list[int]) -> dict[int, Item]:
    if not item_ids:
        return {}
    return {item.id: item for item in session.scalars(
        select(Item).where(among(session, Item.id, item_ids)).options(selectinload(Item.area),
                                                                       selectinload(Item.author)))}


