"""Set-based fan-out: one `INSERT … SELECT` writes a chunk of a broadcast's outbox rows.

(Digests write every area's rows of a chunk at once: `digest_fanout`.)

No Python object is made per recipient: the database copies phone numbers from
`subscribers` into `outbox`, joined to the broadcast's versions (`campaign_versions`: one
row per language at most, each body stored once), so each recipient gets the version of
their language, or each version when their language is not known, in the same statement.
`ON CONFLICT DO NOTHING` on the unique (campaign, subscriber, kind, version) makes every write safe
to repeat.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Integer, Select, and_, literal
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sms_board.models import (
    CampaignVersion,
    Outbox,
    OutboxKind,
    OutboxLane,
    Subscriber,
    UTCDateTime,
)
from sms_board.plumbing.db import PLAN_EACH_TIME, is_sqlite
from sms_board.sending.delivery import initial_status

_OUTBOX_COLUMNS = (
    "to_number",
    "subscriber_id",
    "body",
    "kind",
    "status",
    "lane",
    "segments",
    "encoding",
    "attempts",
    "campaign_id",
    "batch_id",
    "created_at",
    "send_after",
    "version",
)
# The outbox's delivery key: one text per person and version of a campaign.
DELIVERY_KEY = ["campaign_id", "subscriber_id", "kind", "version"]


def write_versions(
    session: Session,
    recipients: Select,  # type: ignore[type-arg]
    reads: ColumnElement[bool],
    *,
    kind: OutboxKind,
    lane: OutboxLane,
    campaign_id: int,
    now: datetime,
    send_after: datetime | None,
) -> int:
    """Insert one outbox row per recipient and version they get; returns how many were new.

    `recipients` selects `(Subscriber.phone, Subscriber.id)` and may carry its own WHERE;
    `reads` (`versions.gets_version`) says which of the campaign's versions each gets. Rows
    are written person by person, each person's versions in order, so the first language's
    text has the lower id and is sent first. Rows already written for this campaign are skipped.
    """
    rows = (
        recipients.join(CampaignVersion, and_(CampaignVersion.campaign_id == campaign_id, reads))
        .add_columns(
            CampaignVersion.body,
            literal(kind, Outbox.kind.type),
            literal(initial_status(send_after), Outbox.status.type),
            literal(int(lane), Integer()),
            CampaignVersion.segments,
            CampaignVersion.encoding,
            literal(0, Integer()),
            literal(campaign_id, Integer()),
            literal(None, Integer()),
            literal(now, UTCDateTime()),
            literal(send_after, UTCDateTime()),
            CampaignVersion.position,
        )
        .order_by(Subscriber.id, CampaignVersion.position)
    )
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    statement = (
        insert(Outbox)
        .from_select(list(_OUTBOX_COLUMNS), rows)
        .on_conflict_do_nothing(index_elements=DELIVERY_KEY)
    )
    # Core execution (no ORM bookkeeping per statement); SQLAlchemy keeps an INSERT's row
    # count only when asked to. Planned for its own chunk each time (`PLAN_EACH_TIME`).
    result = session.connection().execute(
        statement, execution_options={"preserve_rowcount": True, **PLAN_EACH_TIME}
    )
    return max(result.rowcount, 0)
