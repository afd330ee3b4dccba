"""the board by telephone: how each subscriber hears it, and calls as outbox rows of their own

* `subscribers.hears_by`: `sms` (texts, as every row already stored) or `voice` (digests read to
  them by a call; a landline resident only ever hears the board this way).
* `outbox.kind` may be `call`: a digest read to someone by telephone is a row of the outbox like
  a text, claimed by the sender's call lane.
* The outbox's delivery key becomes (campaign, subscriber, kind, version), so a text and a call
  (and, later, a helper's copy) for the same campaign each have their own row, and never-twice
  still holds per row.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# Written out here (not imported from the models) so this migration means the same thing forever.
OLD_KINDS = ("digest", "broadcast", "notify", "relay", "reply")
KINDS = (*OLD_KINDS, "call")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("hears_by", sa.String(8), server_default="sms", nullable=False))
        batch.create_check_constraint("hears_by", "hears_by IN ('sms', 'voice')")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("ck_outbox_kind"), type_="check")
        batch.create_check_constraint("kind", _in("kind", KINDS))
        batch.drop_constraint("uq_outbox_campaign_subscriber_version", type_="unique")
        batch.create_unique_constraint(
            "uq_outbox_campaign_subscriber_kind_version", ["campaign_id", "subscriber_id", "kind", "version"]
        )


def downgrade() -> None:
    # The old key holds one row a person and version: calls are dropped (they were never texts).
    op.execute("DELETE FROM outbox WHERE kind = 'call'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_campaign_subscriber_kind_version", type_="unique")
        batch.create_unique_constraint(
            "uq_outbox_campaign_subscriber_version", ["campaign_id", "subscriber_id", "version"]
        )
        batch.drop_constraint(op.f("ck_outbox_kind"), type_="check")
        batch.create_check_constraint("kind", _in("kind", OLD_KINDS))
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_constraint(op.f("ck_subscribers_hears_by"), type_="check")
        batch.drop_column("hears_by")
