"""the monthly report at a million subscribers: each person's first join and first exchange, kept

* `subscribers.first_joined_at`: the person's first join to any area (their earliest `subscribe`
  consent event), indexed, so the whole board's `new_members` is a range count over one index
  rather than each of the month's joins looked up for an earlier one.
* `subscribers.first_exchange_at`: their first exchange as giver or receiver (their earliest
  ledger row), so `isolated_members` reads one column of each member rather than anti-joining
  the memberships with every exchange the board ever recorded.

From now on both are written as they happen (`community/subscriptions.py`, `community/roster.py`,
`community/exchange.py`); here they are back-filled from the history, one set-based statement each.

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
FIRST_EXCHANGES = """
UPDATE subscribers SET first_exchange_at = firsts.at
FROM (SELECT person, min(at) AS at FROM (
          SELECT giver_id AS person, created_at AS at FROM exchanges WHERE giver_id IS NOT NULL
          UNION ALL SELECT receiver_id, created_at FROM exchanges WHERE receiver_id IS NOT NULL) AS sides
      GROUP BY person) AS firsts
WHERE subscribers.id = firsts.person
"""


def upgrade() -> None:
    op.add_column("subscribers", sa.Column("first_joined_at", sa.DateTime(), nullable=True))
    op.add_column("subscribers", sa.Column("first_exchange_at", sa.DateTime(), nullable=True))
    op.execute(FIRST_JOINS)
    op.execute(FIRST_EXCHANGES)
    op.create_index("ix_subscribers_first_joined", "subscribers", ["first_joined_at"])


def downgrade() -> None:
    op.drop_index("ix_subscribers_first_joined", table_name="subscribers")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("first_exchange_at")
        batch.drop_column("first_joined_at")
