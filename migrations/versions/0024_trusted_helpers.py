"""trusted helpers: a neighbour or relative who reads and answers the board for a resident

* `trusted_helpers`: one row per proposal, from `proposed` to `active`, `declined`, `lapsed` or
  `ended`, with both consents (who asked, how, in what words; what the helper was told and answered).
  Its id is the `H<n>` ref both people are told, a sequence of its own.
* `outbox.kind` may be `copy`: a resident's digest copied to their helper, a row of its own under the
  delivery key (campaign, subscriber, kind, version), its version the helper's `trusted_helpers.id`.
* `audit_log.action` may be `helper_add` (an organiser recorded a resident's helper) and
  `helper_end` (an organiser ended one).

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# Written out here (not imported from the models) so this migration means the same thing forever.
OLD_AUDIT_ACTIONS = ("approve", "reject", "hide", "restore", "broadcast", "urgent", "intro", "unlink", "invite",
                     "join_accept", "join_decline", "import", "export", "area_add", "organiser_add",
                     "organiser_remove", "area_change", "admin_add")
AUDIT_ACTIONS = (*OLD_AUDIT_ACTIONS, "helper_add", "helper_end")
STATUSES = ("proposed", "active", "declined", "lapsed", "ended")
OLD_KINDS = ("digest", "broadcast", "notify", "relay", "reply", "call")
KINDS = (*OLD_KINDS, "copy")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _actions(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint(op.f("ck_audit_log_action"), type_="check")
        batch.create_check_constraint("action", _in("action", values))


def _kinds(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("ck_outbox_kind"), type_="check")
        batch.create_check_constraint("kind", _in("kind", values))


def upgrade() -> None:
    op.create_table(
        "trusted_helpers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("helper_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("asked_by", sa.String(60), nullable=False),
        sa.Column("resident_channel", sa.String(8), nullable=False),
        sa.Column("resident_words", sa.Text(), nullable=False),
        sa.Column("proposal_wording", sa.Text(), nullable=True),
        sa.Column("helper_answered_at", sa.DateTime(), nullable=True),
        sa.Column("helper_words", sa.Text(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("reconfirm_asked_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("ended_by", sa.String(60), nullable=True),
        sa.CheckConstraint(_in("status", STATUSES), name=op.f("ck_trusted_helpers_status")),
        sa.ForeignKeyConstraint(["resident_id"], ["subscribers.id"], ondelete="CASCADE",
                                name=op.f("fk_trusted_helpers_resident_id_subscribers")),
        sa.ForeignKeyConstraint(["helper_id"], ["subscribers.id"], ondelete="CASCADE",
                                name=op.f("fk_trusted_helpers_helper_id_subscribers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_helpers")),
    )
    op.create_index("ix_trusted_helpers_resident_id", "trusted_helpers", ["resident_id", "status"])
    op.create_index("ix_trusted_helpers_helper_id", "trusted_helpers", ["helper_id", "status"])
    _actions(AUDIT_ACTIONS)
    _kinds(KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE kind = 'copy'")
    _kinds(OLD_KINDS)
    op.execute("DELETE FROM audit_log WHERE action IN ('helper_add', 'helper_end')")
    _actions(OLD_AUDIT_ACTIONS)
    op.drop_index("ix_trusted_helpers_helper_id", table_name="trusted_helpers")
    op.drop_index("ix_trusted_helpers_resident_id", table_name="trusted_helpers")
    op.drop_table("trusted_helpers")
