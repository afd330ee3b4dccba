"""The life cycles of items, the responses on them and the connections they make.

This module is the only writer of `items.status`, `responses.status` and `matches.status`
(a new row is created in its first state by whoever files it). Each machine moves a row
only through its `transition`: one conditional `UPDATE … WHERE id = … AND status IN (…)`
naming the states the row may leave, so two organisers deciding one post at the same
moment cannot both win, and a late text cannot move a closed item back. The loser learns
it from the `False` it gets back, and the row it holds is re-read from the database.

Items (notices, help requests, standing offers, introductions, join requests):

    unnamed ──NAME, still held──▶ pending ──APPROVE──▶ published ◀──APPROVE── hidden
       └──────NAME, not held──────────────────────────▶   │ └──REPORTs, HIDE──▶ ┘
    unnamed / pending / published / hidden ──REJECT──▶ rejected
    unnamed / pending / published / hidden ──CLOSE, DONE, FORGET, declined intro──▶ closed
    published request ──quiet too long──▶ expired
    join request: pending ──ACCEPT / NO──▶ closed

Responses (an offer on a request, an ask for an offer, one side of an introduction):

    pending ──OK──▶ accepted      pending ──NO──▶ declined
    pending ──taken back, item closed, opted out──▶ withdrawn ──offered again──▶ pending

Connections (matches):

    connected ──DONE──▶ done      connected ──opt-out, FORGET, item closed──▶ ended
    connected ──UNLINK──▶ unlinked
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from sms_board.models import (
    Item,
    ItemKind,
    ItemStatus,
    Match,
    MatchStatus,
    Response,
    ResponseStatus,
)
from sms_board.plumbing.db import move_status

I = ItemStatus  # noqa: E741 - as `S` is the outbox's status in `sending.delivery`
R = ResponseStatus
M = MatchStatus

# ── the status groups every other module speaks in ─────────────────────────

HELD = (I.UNNAMED, I.PENDING)  # kept back from neighbours: waiting for its author's NAME or an organiser
VISIBLE = (I.PUBLISHED,)  # what neighbours, digests and the public board see
OUT_OF_SIGHT = (*HELD, I.HIDDEN, I.REJECTED)  # a neighbour never sees these (nor a digest, nor the public board)
AWAITING_DECISION = (*HELD, I.HIDDEN)  # the moderation queue (with published posts that have open reports)
OPEN = (*HELD, I.PUBLISHED, I.HIDDEN)  # not finished: its author may CLOSE it, an organiser REJECT it
FINISHED = (I.CLOSED, I.REJECTED, I.EXPIRED)  # nothing moves it again

WAITING_RESPONSES = (R.PENDING,)  # waiting for the item's owner to say OK or NO
RESOLVED_RESPONSES = (R.ACCEPTED, R.DECLINED, R.WITHDRAWN)

CONNECTED = (M.CONNECTED,)  # the board relays between the two
ENDED_MATCHES = (M.DONE, M.ENDED, M.UNLINKED)


def _move(session: Session, row: Item | Response | Match, to: I | R | M, allowed_from: Iterable[I | R | M],
          values_: dict[str, Any]) -> bool:
    """The conditional UPDATE every machine shares (`plumbing.db.move_status`)."""
    return move_status(session, row, to, allowed_from, values_)


# ── items ──────────────────────────────────────────────────────────────────


def transition(session: Session, item: Item, to: ItemStatus, *, allowed_from: Iterable[ItemStatus],
               now: datetime, **values_: Any) -> bool:
    """Move `item` to `to` if it is still in `allowed_from`; False (and `item` re-read) if it was not.

    Finishing an item stamps `closed_at`.
    """
    if to in FINISHED:
        values_.setdefault("closed_at", now)
    return _move(session, item, to, allowed_from, values_)


def publish(session: Session, item: Item, *, allowed_from: Iterable[ItemStatus], request_days: int,
            now: datetime) -> bool:
    """Out for neighbours to see from now: digests pick it up as new, and a request starts ageing."""
    expires = now + timedelta(days=request_days) if item.kind == ItemKind.REQUEST else item.expires_at
    return transition(session, item, I.PUBLISHED, allowed_from=allowed_from, now=now, published_at=now,
                      last_activity_at=now, expires_at=expires)


# ── responses ──────────────────────────────────────────────────────────────


def transition_response(session: Session, response: Response, to: ResponseStatus, *,
                        allowed_from: Iterable[ResponseStatus], now: datetime) -> bool:
    """Accept, decline or withdraw a waiting response (stamping `resolved_at`), or re-open a withdrawn one."""
    stamps = {"created_at": now, "resolved_at": None} if to == R.PENDING else {"resolved_at": now}
    return _move(session, response, to, allowed_from, stamps)


# ── connections ────────────────────────────────────────────────────────────


def transition_match(session: Session, match: Match, to: MatchStatus, *, now: datetime) -> bool:
    """End an open connection (done, ended or unlinked), stamping `ended_at`; only a connected one moves."""
    return _move(session, match, to, CONNECTED, {"ended_at": now})
