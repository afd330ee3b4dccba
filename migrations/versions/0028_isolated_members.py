"""the monthly report at a million subscribers: whether each member was ever in an exchange, from indexes alone

* `ix_subscriptions_active_person`: the active memberships by person, with when each began (partial:
  active only). The whole board's `isolated_members` reads them from the index alone, in person order.
* `ix_exchanges_giver` and `ix_exchanges_receiver` (the person, the other person, the time) take the
  place of the indexes on `giver_id` and `receiver_id` alone (the same lookups by person, and one write
  each as before): the isolated members are those memberships merge anti-joined with both, read alone
  in the same order (no sort and no hash of the board's exchanges), and a pair's earlier exchanges are
  looked up each way round from an index alone.
* `ix_exchanges_created` (the time, then the area, both people and the hours) takes the place of the
  one on the time alone: the month's exchanges, with all the report reads of them, from the index alone
  (`community/report_figures.py`, `bench/bench_report.py`).

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    op.create_index("ix_subscriptions_active_person", "subscriptions", ["subscriber_id", "consent_at"],
                    postgresql_where=ACTIVE, sqlite_where=ACTIVE)
    op.create_index("ix_exchanges_giver", "exchanges", ["giver_id", "receiver_id", "created_at"])
    op.create_index("ix_exchanges_receiver", "exchanges", ["receiver_id", "giver_id", "created_at"])
    op.create_index("ix_exchanges_created", "exchanges", ["created_at", "area_id", "giver_id", "receiver_id", "hours"])
    op.drop_index("ix_exchanges_giver_id", table_name="exchanges")
    op.drop_index("ix_exchanges_receiver_id", table_name="exchanges")
    op.drop_index("ix_exchanges_created_at", table_name="exchanges")


def downgrade() -> None:
    op.create_index("ix_exchanges_created_at", "exchanges", ["created_at"])
    op.create_index("ix_exchanges_receiver_id", "exchanges", ["receiver_id"])
    op.create_index("ix_exchanges_giver_id", "exchanges", ["giver_id"])
    op.drop_index("ix_exchanges_created", table_name="exchanges")
    op.drop_index("ix_exchanges_receiver", table_name="exchanges")
    op.drop_index("ix_exchanges_giver", table_name="exchanges")
    op.drop_index("ix_subscriptions_active_person", table_name="subscriptions")
