"""inbound takeover: routing attempts and replies sent by REST

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("replies_queued", sa.Boolean(), server_default=sa.false(), nullable=False))
    # The clock looks for texts left `received`: few rows, found by this index however many are handled.
    op.create_index(
        "ix_inbound_received", "inbound_messages", ["received_at"],
        postgresql_where=sa.text("status = 'received'"), sqlite_where=sa.text("status = 'received'"),
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_received", table_name="inbound_messages")
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_column("replies_queued")
        batch.drop_column("attempts")
