"""Where a number stops being texted: STOP, FORGET's erasure, or the carrier saying so.

An opted-out number (STOP, Twilio's 21610) or one that cannot take texts (21211, 21614)
is stamped on its `Subscriber` row and its waiting texts are cancelled
(`sending.delivery.cancel_waiting`); from then on `sending.reachability` keeps it out of
every fan-out and every claim.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from sms_board.models import ConsentAction, ConsentEvent, Subscriber
from sms_board.sending.delivery import cancel_waiting
from sms_board.sending.subscription_status import stop_all
from sms_board.sending.transport import opted_out_code, undeliverable_code
from sms_board.text.phone import mask

log = logging.getLogger(__name__)

# What else ends when the carrier opts a number out, told by whoever records it (the layers above
# `sending`): a trusted helper's helping and being helped, as a STOP ends them (`trusted_helpers.on_opt_out`).
OptOutHook = Callable[[Session, Subscriber, datetime], object]


def opt_out(
    session: Session, subscriber: Subscriber, *, words: str, channel: str, now: datetime,
    inbound_id: int | None = None, wording: str | None = None,
) -> bool:
    """Global opt-out: every subscription ends and nothing waiting goes out. False if already out.

    The one place a number is opted out, whether by STOP, FORGET's erasure or the carrier.
    """
    if subscriber.opted_out_at is not None:
        return False
    subscriber.opted_out_at = now
    stop_all(session, subscriber.id, now)
    cancel_waiting(session, subscriber.id, "recipient opted out", now)
    session.add(
        ConsentEvent(
            subscriber_id=subscriber.id, area_id=None, action=ConsentAction.OPT_OUT, channel=channel,
            words=words, wording=wording, inbound_id=inbound_id, created_at=now,
        )
    )
    return True


def mark_recipient(session: Session, subscriber_id: int | None, error_code: str | None, now: datetime, *,
                   on_opt_out: OptOutHook | None = None) -> int:
    """Twilio says the number opted out (21610) or cannot take texts (21211, 21614).

    Marks the subscriber and cancels their other waiting texts; returns how many. `on_opt_out`: called
    once, when the number is first opted out here.
    """
    subscriber = session.get(Subscriber, subscriber_id) if subscriber_id else None
    if subscriber is None:
        return 0
    if opted_out_code(error_code) and subscriber.opted_out_at is None:
        cancelled = cancel_waiting(session, subscriber.id, f"recipient opted out (Twilio {error_code})", now)
        opt_out(session, subscriber, words=f"Twilio error {error_code}", channel="carrier", now=now)
        if on_opt_out is not None:
            on_opt_out(session, subscriber, now)
        log.warning("%s opted out at the carrier (Twilio %s)", mask(subscriber.phone), error_code)
        return cancelled
    if undeliverable_code(error_code) and subscriber.undeliverable_at is None:
        subscriber.undeliverable_at = now
        log.warning("%s cannot receive texts (Twilio %s)", mask(subscriber.phone), error_code)
        return cancel_waiting(session, subscriber.id, f"number cannot receive texts (Twilio {error_code})", now)
    return 0
