"""A subscription's status: every change of it goes through this module.

    (new) ──JOIN, invite, accepted request, import──▶ active ──LEAVE──▶ left ──JOIN──▶ active
    active ──STOP, carrier opt-out──▶ stopped ──START (or YES)──▶ active
    (new, for a number that opted out) ──▶ stopped

A subscription moves only through `transition()`: one conditional `UPDATE … WHERE status
IN (…)` naming the states it may leave, stamping `ended_at` (cleared on the way back to
`active`). So a JOIN cannot bring back what STOP ended (only START does), a LEAVE cannot
touch a stopped or left subscription, and two texts racing cannot both move the same row.
FORGET deletes a number's subscriptions with the number.

It sits in `sending/`, below `community/`, because a carrier's opt-out (Twilio 21610, met
by the sender) ends subscriptions too (`opt_outs.opt_out`); joining, leaving and opting
back in, with their consent records, are `community.subscriptions`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Update, bindparam, update
from sqlalchemy.orm import Session

from sms_board.models import Subscriber, Subscription, SubscriptionStatus

# ── the status groups every other module speaks in ─────────────────────────

MEMBER = (SubscriptionStatus.ACTIVE,)  # hears from the area: digests, broadcasts, notices
REJOINS_FROM = (SubscriptionStatus.LEFT,)  # what JOIN (or an invite, an accepted request) brings back
RESTARTS_FROM = (SubscriptionStatus.STOPPED,)  # what START brings back, and nothing else does
LEAVES_FROM = MEMBER  # LEAVE ends only a subscription that is active
STOPS_FROM = MEMBER  # STOP ends what is active; a left area stays left after START


def transition(
    session: Session,
    which: ColumnElement[bool],
    to: SubscriptionStatus,
    *,
    allowed_from: Iterable[SubscriptionStatus],
    now: datetime,
    **values: Any,
) -> int:
    """Move the subscriptions `which` selects to `to`, but only those now in `allowed_from`; returns how many moved.

    Stamps the change: `ended_at` is when a subscription stopped being active (cleared on the way back).
    Subscriptions already loaded in the session are updated in place (evaluated, no extra statement).
    """
    stamp = {"ended_at": None if to in MEMBER else now}
    return session.execute(
        update(Subscription)
        .where(which, Subscription.status.in_(list(allowed_from)))
        .values(status=to, **stamp, **values)
        .execution_options(synchronize_session="evaluate")
    ).rowcount or 0


def initial_status(subscriber: Subscriber) -> SubscriptionStatus:
    """A new subscription is active, but one for a number that opted out waits for its START."""
    return SubscriptionStatus.STOPPED if subscriber.opted_out else SubscriptionStatus.ACTIVE


def stop_all(session: Session, subscriber_id: int, now: datetime) -> int:
    """STOP (or the carrier) ends every active subscription of a number; START brings exactly these back."""
    return transition(session, Subscription.subscriber_id == subscriber_id, SubscriptionStatus.STOPPED,
                      allowed_from=STOPS_FROM, now=now)


def stopping(subscribers: Select[tuple[int]]) -> Update:
    """`stop_all` as a statement for a `WITH` (a STOP as it is stored, `sending.opt_outs.opting_out`): every
    active subscription of the `subscribers` selected ends, stamped `:stop_at`."""
    table = Subscription.__table__
    return (
        update(table)
        .where(table.c.subscriber_id.in_(subscribers), table.c.status.in_(list(STOPS_FROM)))
        .values(status=SubscriptionStatus.STOPPED, ended_at=bindparam("stop_at"))
    )
