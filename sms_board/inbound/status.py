"""The inbound life cycle: every status change of a stored text goes through this module.

    received ──routed──────────────────────────────────────────────▶ handled
        ├──not answered (short code, the board's own number,
        │   a repeat too many, an opted-out number) ────────────────▶ ignored
        ├──a flood ─────────────────────────────────────────────────▶ held
        └──a handler failed, or routing died twice ─────────────────▶ error

A text is stored `received` and leaves it once, through `transition()`: one conditional
`UPDATE … WHERE id = :id AND status IN (…)` that names the states it may leave and stamps
`handled_at`, so two processes can never both settle the same text and a late retry cannot
settle it again. The database refuses any status not named in `InboundStatus` (a CHECK
constraint). Who moves it: `inbound.routing` (routing, a handler's failure, the clock giving
up on a text that keeps killing its process).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, update
from sqlalchemy.orm import Session

from sms_board.models import InboundMessage, InboundStatus

# ── the status groups every other module speaks in ─────────────────────────

INITIAL = InboundStatus.RECEIVED  # what a text is stored as
OPEN = (InboundStatus.RECEIVED,)  # stored, not yet routed: routing (or the clock's takeover) may settle it
SETTLED = (InboundStatus.HANDLED, InboundStatus.IGNORED, InboundStatus.HELD, InboundStatus.ERROR)  # never moved again
NOT_ROUTED = (InboundStatus.IGNORED, InboundStatus.HELD)  # no handler saw it, on purpose

_INBOUND = InboundMessage.__table__


def transition(
    connection: Connection | Session,
    inbound_id: int,
    to: InboundStatus,
    *,
    allowed_from: Iterable[InboundStatus],
    now: datetime,
    along: Sequence[Insert] = (),
    **values: Any,
) -> bool:
    """Settle one text as `to` (with `values`, the other columns routing filled in), but only if it is now
    in `allowed_from`; returns whether it moved. `along`: INSERTs of the text's (its replies' rows), sent
    in the same statement on PostgreSQL (a WITH), just before it on SQLite, which has no INSERT in a WITH."""
    # On the table, not the mapped class: routing writes the text's row with this one statement,
    # and nothing here needs the ORM's synchronisation.
    statement = (
        update(_INBOUND)
        .where(_INBOUND.c.id == inbound_id, _INBOUND.c.status.in_(list(allowed_from)))
        .values({**values, "status": to, "handled_at": now})
    )
    bind = connection.get_bind() if isinstance(connection, Session) else connection
    for number, inserting in enumerate(along):
        if bind.dialect.name == "sqlite":
            connection.execute(inserting)
        else:
            statement = statement.add_cte(inserting.cte(f"along_{number}"))
    return (connection.execute(statement).rowcount or 0) == 1
