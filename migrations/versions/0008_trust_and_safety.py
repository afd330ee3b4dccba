"""trust and safety: reports, the audit log, invites, organiser notices, held and hidden items

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Written out here (not imported from the models) so this migration means the same thing forever.
ITEM_STATUSES = ("unnamed", "pending", "published", "hidden", "closed", "rejected", "expired")
ITEM_KINDS = ("notice", "request", "offer", "intro", "join")
OLD_ITEM_STATUSES = ("pending", "published", "closed", "rejected", "expired")
OLD_ITEM_KINDS = ("notice", "request", "offer", "intro")
AUDIT_ACTIONS = ("approve", "reject", "hide", "restore", "broadcast", "urgent", "intro", "unlink", "invite",
                 "join_accept", "join_decline", "import", "export")
INVITE_OUTCOMES = ("joined", "wrong", "expired", "used_up")
NOTICE_KINDS = ("held", "reported", "hidden", "join")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _item_checks(statuses: tuple[str, ...], kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_constraint(op.f("ck_items_status"), type_="check")
        batch.drop_constraint(op.f("ck_items_kind"), type_="check")
        batch.create_check_constraint("status", _in("status", statuses))
        batch.create_check_constraint("kind", _in("kind", kinds))


def upgrade() -> None:
    _item_checks(ITEM_STATUSES, ITEM_KINDS)
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("stop_reminded_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("consent_events") as batch:
        batch.add_column(sa.Column("given_at", sa.DateTime(), nullable=True))

    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolution", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_reports_item_id_items"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reporter_id"], ["subscribers.id"], name=op.f("fk_reports_reporter_id_subscribers"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("item_id", "reporter_id", name=op.f("uq_reports_item_id")),
    )
    op.create_index(op.f("ix_reports_item_id"), "reports", ["item_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=60), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.CheckConstraint(_in("action", AUDIT_ACTIONS), name=op.f("ck_audit_log_action")),
        sa.ForeignKeyConstraint(["actor_id"], ["subscribers.id"], name=op.f("fk_audit_log_actor_id_subscribers"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_audit_log_area_id_areas"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_audit_log_item_id_items"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_area_created", "audit_log", ["area_id", "created_at"])

    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("uses_left", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_invites_area_id_areas"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invites")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invites_code_hash")),
    )
    op.create_index(op.f("ix_invites_area_id"), "invites", ["area_id"])

    op.create_table(
        "invite_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("invite_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(_in("outcome", INVITE_OUTCOMES), name=op.f("ck_invite_attempts_outcome")),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"],
                                name=op.f("fk_invite_attempts_subscriber_id_subscribers"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_invite_attempts_area_id_areas"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["invite_id"], ["invites.id"], name=op.f("fk_invite_attempts_invite_id_invites"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite_attempts")),
    )
    op.create_index("ix_invite_attempts_subscriber_created", "invite_attempts", ["subscriber_id", "created_at"])

    op.create_table(
        "organiser_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(_in("kind", NOTICE_KINDS), name=op.f("ck_organiser_notices_kind")),
        sa.ForeignKeyConstraint(["organiser_id"], ["subscribers.id"],
                                name=op.f("fk_organiser_notices_organiser_id_subscribers"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_organiser_notices_item_id_items"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organiser_notices")),
    )
    op.create_index("ix_organiser_notices_organiser_sent", "organiser_notices", ["organiser_id", "sent_at"])
    op.create_index(op.f("ix_organiser_notices_item_id"), "organiser_notices", ["item_id"])


def downgrade() -> None:
    op.drop_table("organiser_notices")
    op.drop_table("invite_attempts")
    op.drop_table("invites")
    op.drop_table("audit_log")
    op.drop_table("reports")
    with op.batch_alter_table("consent_events") as batch:
        batch.drop_column("given_at")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("stop_reminded_at")
    op.execute("DELETE FROM items WHERE kind = 'join'")
    op.execute("UPDATE items SET status = 'pending' WHERE status IN ('unnamed', 'hidden')")
    _item_checks(OLD_ITEM_STATUSES, OLD_ITEM_KINDS)
