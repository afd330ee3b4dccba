"""delivery core: outbox lanes, replies in the outbox, CHECK constraints on every status

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Written out here (not imported from the models) so this migration means the same thing forever.
OUTBOX_STATUSES = ("held", "queued", "sending", "sent", "delivered", "undelivered", "failed", "unknown", "cancelled")
OUTBOX_KINDS = ("digest", "broadcast", "notify", "relay", "reply")
CAMPAIGN_STATUSES = ("draft", "confirmed", "fanning_out", "sending", "done", "paused", "cancelled")
ITEM_STATUSES = ("pending", "published", "closed", "rejected", "expired")
ITEM_KINDS = ("notice", "request", "offer", "intro")
INBOUND_STATUSES = ("received", "handled", "ignored", "held", "error")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("lane", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("inbound_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_outbox_inbound_id_inbound_messages"), "inbound_messages", ["inbound_id"], ["id"],
            ondelete="SET NULL",
        )
        batch.create_check_constraint("status", _in("status", OUTBOX_STATUSES))
        batch.create_check_constraint("kind", _in("kind", OUTBOX_KINDS))
        batch.create_check_constraint("lane", "lane IN (0, 1, 2)")
    op.create_index(op.f("ix_outbox_inbound_id"), "outbox", ["inbound_id"])
    # Texts already waiting keep their place: broadcasts and digests behind texts to one person.
    op.execute("UPDATE outbox SET lane = 2 WHERE kind IN ('digest', 'broadcast')")
    op.execute(
        "UPDATE outbox SET lane = 1 WHERE kind = 'broadcast' AND campaign_id IN "
        "(SELECT id FROM campaigns WHERE urgent)"
    )
    op.create_index(
        "ix_outbox_claim", "outbox", ["lane", "id"],
        postgresql_where=sa.text("status = 'queued'"), sqlite_where=sa.text("status = 'queued'"),
    )
    with op.batch_alter_table("campaigns") as batch:
        batch.create_check_constraint("status", _in("status", CAMPAIGN_STATUSES))
        batch.create_check_constraint("kind", _in("kind", ("digest", "broadcast")))
    with op.batch_alter_table("items") as batch:
        batch.create_check_constraint("status", _in("status", ITEM_STATUSES))
        batch.create_check_constraint("kind", _in("kind", ITEM_KINDS))
    with op.batch_alter_table("inbound_messages") as batch:
        batch.create_check_constraint("status", _in("status", INBOUND_STATUSES))


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_constraint("ck_inbound_messages_status", type_="check")
    with op.batch_alter_table("items") as batch:
        batch.drop_constraint("ck_items_status", type_="check")
        batch.drop_constraint("ck_items_kind", type_="check")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_constraint("ck_campaigns_status", type_="check")
        batch.drop_constraint("ck_campaigns_kind", type_="check")
    op.drop_index("ix_outbox_claim", table_name="outbox")
    op.drop_index(op.f("ix_outbox_inbound_id"), table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("ck_outbox_status", type_="check")
        batch.drop_constraint("ck_outbox_kind", type_="check")
        batch.drop_constraint("ck_outbox_lane", type_="check")
        batch.drop_constraint(op.f("fk_outbox_inbound_id_inbound_messages"), type_="foreignkey")
        batch.drop_column("inbound_id")
        batch.drop_column("lane")
