"""outbox by recipient: loop protection counts the replies to one number and finds its latest texts

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_to_number_sent", "outbox", ["to_number", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_to_number_sent", table_name="outbox")
