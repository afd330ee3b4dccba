"""dashboard: sign-in codes, web sessions, inbox "dealt with", an index on outbox creation times

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number_hash", sa.String(length=64), nullable=False),
        sa.Column("ip_hash", sa.String(length=64), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("wrong_tries", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_at", sa.DateTime(), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("redacted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"],
                                name=op.f("fk_login_codes_subscriber_id_subscribers"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name=op.f("fk_login_codes_outbox_id_outbox"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_codes")),
    )
    op.create_index("ix_login_codes_number", "login_codes", ["number_hash", "created_at"])
    op.create_index("ix_login_codes_ip", "login_codes", ["ip_hash", "created_at"])
    op.create_index(op.f("ix_login_codes_subscriber_id"), "login_codes", ["subscriber_id"])

    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"],
                                name=op.f("fk_web_sessions_subscriber_id_subscribers"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    op.create_index(op.f("ix_web_sessions_subscriber_id"), "web_sessions", ["subscriber_id"])

    with op.batch_alter_table("inbound_messages") as batch:
        batch.add_column(sa.Column("dealt_with_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("dealt_with_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_inbound_messages_dealt_with_by_id_subscribers"), "subscribers", ["dealt_with_by_id"], ["id"],
            ondelete="SET NULL",
        )
    op.create_index("ix_inbound_inbox", "inbound_messages", ["id"],
                    postgresql_where=sa.text("in_inbox"), sqlite_where=sa.text("in_inbox"))
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_created_at", table_name="outbox")
    op.drop_index("ix_inbound_inbox", table_name="inbound_messages")
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_constraint(op.f("fk_inbound_messages_dealt_with_by_id_subscribers"), type_="foreignkey")
        batch.drop_column("dealt_with_by_id")
        batch.drop_column("dealt_with_at")
    op.drop_index(op.f("ix_web_sessions_subscriber_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index(op.f("ix_login_codes_subscriber_id"), table_name="login_codes")
    op.drop_index("ix_login_codes_ip", table_name="login_codes")
    op.drop_index("ix_login_codes_number", table_name="login_codes")
    op.drop_table("login_codes")
