"""Set-based fan-out: one `INSERT … SELECT` writes a chunk of a broadcast's outbox rows.

(Digests write every area's rows of a chunk at once: `digest_fanout`.)

No Python object is made per recipient: the database copies phone numbers from
`subscribers` into `outbox`, with the body and everything else the same for the
group bound once as parameters. `ON CONFLICT DO NOTHING` on the unique
(campaign, subscriber) pair makes every write safe to repeat.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, Select, String, Text, literal
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sms_board.models import Outbox, OutboxKind, OutboxLane, UTCDateTime
from sms_board.plumbing.db import PLAN_EACH_TIME, is_sqlite
from sms_board.sending.delivery import initial_status
from sms_board.sending.outbox import Body

_OUTBOX_COLUMNS = (
    "to_number", "subscriber_id", "body", "kind", "status", "lane", "segments", "encoding", "attempts",
    "campaign_id", "batch_id", "created_at", "send_after",
)


def write_outbox(
    session: Session,
    recipients: Select,  # type: ignore[type-arg]
    body: Body,
    *,
    kind: OutboxKind,
    lane: OutboxLane,
    campaign_id: int,
    now: datetime,
    send_after: datetime | None,
    batch_id: int | None = None,
) -> int:
    """Insert one outbox row per recipient; returns how many were new.

    `recipients` selects `(Subscriber.phone, Subscriber.id)` and may carry its own
    WHERE, ORDER BY and LIMIT. Rows already written for this campaign are skipped.
    """
    rows = recipients.add_columns(
        literal(body.text, Text()),
        literal(kind, Outbox.kind.type),
        literal(initial_status(send_after), Outbox.status.type),
        literal(int(lane), Integer()),
        literal(body.segments, Integer()),
        literal(body.encoding, String()),
        literal(0, Integer()),
        literal(campaign_id, Integer()),
        literal(batch_id, Integer()),
        literal(now, UTCDateTime()),
        literal(send_after, UTCDateTime()),
    )
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    statement = insert(Outbox).from_select(list(_OUTBOX_COLUMNS), rows).on_conflict_do_nothing(
        index_elements=["campaign_id", "subscriber_id"]
    )
    # Core execution (no ORM bookkeeping per statement); SQLAlchemy keeps an INSERT's row
    # count only when asked to. Planned for its own chunk each time (`PLAN_EACH_TIME`).
    result = session.connection().execute(statement, execution_options={"preserve_rowcount": True,
                                                                        **PLAN_EACH_TIME})
    return max(result.rowcount, 0)
