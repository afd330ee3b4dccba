"""subscriber_searches: each search of the subscribers page by number, for its rate limit

An organiser may search by the last digits a masked number shows, or by a whole
number, at most `dashboard.subscribers.SEARCHES` times; the count is kept in the
database so that every web process counts against the same limit.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscriber_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("searcher_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["searcher_id"], ["subscribers.id"],
                                name=op.f("fk_subscriber_searches_searcher_id_subscribers"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriber_searches")),
    )
    op.create_index("ix_subscriber_searches_searcher", "subscriber_searches", ["searcher_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_subscriber_searches_searcher", table_name="subscriber_searches")
    op.drop_table("subscriber_searches")
