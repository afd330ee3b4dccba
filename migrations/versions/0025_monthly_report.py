"""the monthly report: time indexes for its figures, kept months, and the organisers' monthly text

* Indexes on the times the report reads a month by (exchanges, introductions, requests that went
  up, joins, memberships that ended, texts the board acted on), so a month's figures never read
  the whole history (`community/report_figures.py`).
* `report_snapshots`: a month's figures for the board or an area, kept once the month is over,
  with the definitions version that made them.
* `report_text_runs`: one row per month whose text to organisers went (never twice).

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

HANDLED = sa.text("status = 'handled'")


def upgrade() -> None:
    op.create_index("ix_exchanges_created_at", "exchanges", ["created_at"])
    op.create_index("ix_matches_created_at", "matches", ["created_at"])
    op.create_index("ix_items_kind_published", "items", ["kind", "published_at"])
    op.create_index("ix_consent_events_action_created", "consent_events", ["action", "created_at"])
    op.create_index("ix_subscriptions_ended", "subscriptions", ["ended_at"])
    op.create_index("ix_inbound_handled", "inbound_messages", ["handled_at"],
                    postgresql_where=HANDLED, sqlite_where=HANDLED)
    op.create_table(
        "report_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("scope", sa.String(24), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("definitions_version", sa.Integer(), nullable=False),
        sa.Column("include_organisers", sa.Boolean(), nullable=False),
        sa.Column("kept_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_report_snapshots_area_id_areas"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_snapshots")),
        sa.UniqueConstraint("month", "scope", name=op.f("uq_report_snapshots_month")),
    )
    op.create_index(op.f("ix_report_snapshots_area_id"), "report_snapshots", ["area_id"])
    op.create_table(
        "report_text_runs",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_report_text_runs")),
    )


def downgrade() -> None:
    op.drop_table("report_text_runs")
    op.drop_index(op.f("ix_report_snapshots_area_id"), table_name="report_snapshots")
    op.drop_table("report_snapshots")
    op.drop_index("ix_inbound_handled", table_name="inbound_messages")
    op.drop_index("ix_subscriptions_ended", table_name="subscriptions")
    op.drop_index("ix_consent_events_action_created", table_name="consent_events")
    op.drop_index("ix_items_kind_published", table_name="items")
    op.drop_index("ix_matches_created_at", table_name="matches")
    op.drop_index("ix_exchanges_created_at", table_name="exchanges")
