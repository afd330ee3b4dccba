"""the monthly report at a million subscribers: each person's first join, kept

`subscribers.first_joined_at`: the person's first join to any area (their earliest `subscribe`
consent event), indexed with the person, so the whole board's `new_members` is a range of one
index, read alone, rather than each of the month's joins looked up for an earlier one. From now
on it is written with the join (`community/subscriptions.py`, `community/roster.py`); here it is
back-filled from the consent history, in one set-based statement.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

FIRST_JOINS = """
UPDATE subscribers SET first_joined_at = firsts.at
FROM (SELECT subscriber_id AS person, min(created_at) AS at FROM consent_events
      WHERE action = 'subscribe' AND subscriber_id IS NOT NULL GROUP BY subscriber_id) AS firsts
WHERE subscribers.id = firsts.person
"""


def upgrade() -> None:
    op.add_column("subscribers", sa.Column("first_joined_at", sa.DateTime(), nullable=True))
    op.execute(FIRST_JOINS)
    op.create_index("ix_subscribers_first_joined", "subscribers", ["first_joined_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_subscribers_first_joined", table_name="subscribers")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("first_joined_at")
