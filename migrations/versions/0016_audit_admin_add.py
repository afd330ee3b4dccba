"""audit log: `sms-board admin add` (an administrator appointed) is written to it, as `admin_add`

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Written out here (not imported from the models) so this migration means the same thing forever.
OLD_AUDIT_ACTIONS = ("approve", "reject", "hide", "restore", "broadcast", "urgent", "intro", "unlink", "invite",
                     "join_accept", "join_decline", "import", "export", "area_add", "organiser_add",
                     "organiser_remove", "area_change")
AUDIT_ACTIONS = (*OLD_AUDIT_ACTIONS, "admin_add")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _actions(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint(op.f("ck_audit_log_action"), type_="check")
        batch.create_check_constraint("action", _in("action", values))


def upgrade() -> None:
    _actions(AUDIT_ACTIONS)


def downgrade() -> None:
    op.execute("DELETE FROM audit_log WHERE action = 'admin_add'")
    _actions(OLD_AUDIT_ACTIONS)
