"""the monthly report at a million subscribers: indexes led by area, and by person

* An area's report reads only that area's rows: its exchanges, requests and joins of the month
  by area then time, and each member's texts acted on by person (`ix_inbound_subscriber_handled`),
  so it costs the same whatever the size of the rest of the board.
* The whole board's report reads the month's texts acted on from one index alone
  (`ix_inbound_acted_on`), each join's earlier joins by person, and the administrators (left
  out of the people counts) from a partial index rather than a pass over every subscriber
  (`community/report_figures.py`, `bench/bench_report.py`).

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

HANDLED = sa.text("status = 'handled'")
ACTED_ON = sa.text("status = 'handled' AND handler <> 'inbox'")
ADMIN = sa.text("is_admin")


def upgrade() -> None:
    op.create_index("ix_subscribers_admin", "subscribers", ["id"], postgresql_where=ADMIN, sqlite_where=ADMIN)
    op.create_index("ix_exchanges_area_created", "exchanges", ["area_id", "created_at"])
    op.create_index("ix_items_area_kind_published", "items", ["area_id", "kind", "published_at"])
    op.create_index("ix_consent_events_area_action_created", "consent_events", ["area_id", "action", "created_at"])
    op.create_index("ix_consent_events_subscriber_action_created", "consent_events",
                    ["subscriber_id", "action", "created_at"])
    op.create_index("ix_inbound_acted_on", "inbound_messages", ["handled_at", "subscriber_id"],
                    postgresql_where=ACTED_ON, sqlite_where=ACTED_ON)
    op.create_index("ix_inbound_subscriber_handled", "inbound_messages", ["subscriber_id", "handled_at"],
                    postgresql_where=HANDLED, sqlite_where=HANDLED)


def downgrade() -> None:
    op.drop_index("ix_inbound_subscriber_handled", table_name="inbound_messages")
    op.drop_index("ix_inbound_acted_on", table_name="inbound_messages")
    op.drop_index("ix_consent_events_subscriber_action_created", table_name="consent_events")
    op.drop_index("ix_consent_events_area_action_created", table_name="consent_events")
    op.drop_index("ix_items_area_kind_published", table_name="items")
    op.drop_index("ix_exchanges_area_created", table_name="exchanges")
    op.drop_index("ix_subscribers_admin", table_name="subscribers")
