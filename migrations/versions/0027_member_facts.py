"""the monthly report at a million subscribers: each person's first join and first exchange, kept

* `subscribers.first_joined_at`: the person's first join to any area (their earliest `subscribe`
  consent event), indexed, so the whole board's `new_members` is a range count over one index
  rather than each of the month's joins looked up for an earlier one.
* `subscribers.first_exchange_at`: their first exchange as giver or receiver (their earliest
  ledger row), so `isolated_members` reads one column of each member rather than anti-joining
  the memberships with every exchange the board ever recorded.

From now on both are written as they happen (`community/subscriptions.py`, `community/roster.py`,
`community/exchange.py`); here they are back-filled from the history, in one set-based statement.

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

# Both facts in one pass over the people (each row written once): every join and every exchange
# side, grouped by person.
FACTS = """
UPDATE subscribers SET first_joined_at = facts.joined, first_exchange_at = facts.exchanged
FROM (SELECT person, min(joined) AS joined, min(exchanged) AS exchanged FROM (
          SELECT subscriber_id AS person, created_at AS joined, CAST(NULL AS TIMESTAMP) AS exchanged
          FROM consent_events WHERE action = 'subscribe' AND subscriber_id IS NOT NULL
          UNION ALL SELECT giver_id, NULL, created_at FROM exchanges WHERE giver_id IS NOT NULL
          UNION ALL SELECT receiver_id, NULL, created_at FROM exchanges WHERE receiver_id IS NOT NULL) AS history
      GROUP BY person) AS facts
WHERE subscribers.id = facts.person
"""


def upgrade() -> None:
    op.add_column("subscribers", sa.Column("first_joined_at", sa.DateTime(), nullable=True))
    op.add_column("subscribers", sa.Column("first_exchange_at", sa.DateTime(), nullable=True))
    op.execute(FACTS)
    op.create_index("ix_subscribers_first_joined", "subscribers", ["first_joined_at"])


def downgrade() -> None:
    op.drop_index("ix_subscribers_first_joined", table_name="subscribers")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("first_exchange_at")
        batch.drop_column("first_joined_at")
