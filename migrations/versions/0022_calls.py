"""calls placed: one row per call Twilio placed, and the call lane's claim index

* `calls`: each call Twilio took for an outbox row of kind `call` (its sid), with how it
  ended from Twilio's status callbacks (status, answered by, duration): what the dashboard
  counts and what a call costs (`segments`: its price in text segments, once it has ended).
* `ix_outbox_call_claim`: the sender's call lane reads queued calls straight off this index,
  apart from the texts' claim.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_QUEUED_CALL = "status = 'queued' AND kind = 'call'"


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answered_by", sa.String(24), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=True),
        sa.Column("placed_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], ondelete="CASCADE",
                                name=op.f("fk_calls_outbox_id_outbox")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_calls_call_sid")),
    )
    op.create_index(op.f("ix_calls_outbox_id"), "calls", ["outbox_id"])
    op.create_index(op.f("ix_calls_placed_at"), "calls", ["placed_at"])
    op.create_index("ix_outbox_call_claim", "outbox", ["id"], postgresql_where=sa.text(_QUEUED_CALL),
                    sqlite_where=sa.text(_QUEUED_CALL))


def downgrade() -> None:
    op.drop_index("ix_outbox_call_claim", table_name="outbox")
    op.drop_index(op.f("ix_calls_placed_at"), table_name="calls")
    op.drop_index(op.f("ix_calls_outbox_id"), table_name="calls")
    op.drop_table("calls")
