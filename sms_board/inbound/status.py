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

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Insert, Select, Update, bindparam, select, update
from sqlalchemy.orm import Session

from sms_board.models import InboundMessage, InboundStatus

# ── the status groups every other module speaks in ─────────────────────────

INITIAL = InboundStatus.RECEIVED  # what a text is stored as
OPEN = (InboundStatus.RECEIVED,)  # stored, not yet routed: routing (or the clock's takeover) may settle it
SETTLED = (InboundStatus.HANDLED, InboundStatus.IGNORED, InboundStatus.HELD, InboundStatus.ERROR)  # never moved again
NOT_ROUTED = (InboundStatus.IGNORED, InboundStatus.HELD)  # no handler saw it, on purpose

_INBOUND = InboundMessage.__table__


def taking(*columns: ColumnElement[Any]) -> Select[Any]:
    """The stored text `:row`'s `columns`, locked for routing while it is still `received` (no row once it is not).

    PostgreSQL locks the row as an `UPDATE` would (`FOR NO KEY UPDATE`: rows naming it may still be written), with
    no new version of the row nor of its indexes' entries; a delivery of the same text waits on the lock, then
    finds it settled. SQLite renders no lock (it has no row locks): routing takes its one write lock instead.
    """
    return select(*columns).where(_INBOUND.c.id == bindparam("row"), _INBOUND.c.status == INITIAL).with_for_update(
        key_share=True
    )


def transition(
    connection: Connection | Session,
    inbound_id: int,
    to: InboundStatus,
    *,
    allowed_from: Iterable[InboundStatus],
    now: datetime,
    along: Sequence[Insert] = (),
    along_parameters: Mapping[str, Any] | None = None,
    **values: Any,
) -> bool:
    """Settle one text as `to` (with `values`, the other columns routing filled in), but only if it is now
    in `allowed_from`; returns whether it moved. `along`: INSERTs of the text's (its replies' rows, with
    `along_parameters`), sent in the same statement on PostgreSQL (a WITH), just before it on SQLite, which
    has no INSERT in a WITH."""
    bind = connection.get_bind() if isinstance(connection, Session) else connection
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        for inserting in along:
            connection.execute(inserting, along_parameters)
    statement = _settling(tuple(sorted(values)), tuple(allowed_from), () if sqlite else tuple(along))
    parameters = {f"settled_{name}": value for name, value in values.items()}
    parameters.update(settled_row=inbound_id, settled_status=to, settled_handled_at=now, **(along_parameters or {}))
    return (connection.execute(statement, parameters).rowcount or 0) == 1


@lru_cache(maxsize=256)
def _settling(columns: tuple[str, ...], allowed_from: tuple[InboundStatus, ...], along: tuple[Insert, ...]) -> Update:
    # On the table, not the mapped class: routing writes the text's row with this one statement, and nothing
    # here needs the ORM's synchronisation. Built once for each set of columns, with parameters named apart
    # from the columns (a parameter named after one would join the SET).
    # One state to leave (routing's `OPEN`) is compared as a plain `=`: an `IN (…)` list is written out again on
    # every execution, and the statement's text then differs from the prepared one's.
    leaving = _INBOUND.c.status == allowed_from[0] if len(allowed_from) == 1 else _INBOUND.c.status.in_(allowed_from)
    statement = (
        update(_INBOUND)
        .where(_INBOUND.c.id == bindparam("settled_row"), leaving)
        .values({name: bindparam(f"settled_{name}") for name in (*columns, "status", "handled_at")})
    )
    for number, inserting in enumerate(along):
        statement = statement.add_cte(inserting.cte(f"along_{number}"))
    return statement
