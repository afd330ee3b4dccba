"""the organisers' voice messages: key 0 on a call leaves one, kept as an inbox item

* `voice_messages`: one row a recording, known by Twilio's `RecordingSid` (unique: a retried
  callback stores it once); the audio stays at Twilio until FORGET or retention deletes it there.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voice_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_sid", sa.String(64), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), sa.ForeignKey("subscribers.id", ondelete="SET NULL",
                                                               name=op.f("fk_voice_messages_subscriber_id_subscribers"))),
        sa.Column("from_number", sa.String(20)),
        sa.Column("duration", sa.Integer()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("dealt_with_at", sa.DateTime()),
        sa.Column("erase_requested_at", sa.DateTime()),
        sa.Column("deleted_at", sa.DateTime()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_messages")),
        sa.UniqueConstraint("recording_sid", name=op.f("uq_voice_messages_recording_sid")),
    )
    op.create_index(op.f("ix_voice_messages_subscriber_id"), "voice_messages", ["subscriber_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_voice_messages_subscriber_id"), table_name="voice_messages")
    op.drop_table("voice_messages")
