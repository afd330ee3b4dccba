"""areas.public_page: whether an area has a public page (`/board/<slug>`), and area changes in the audit log

An area's posts, with their authors' first names, are on its public page for anyone to
read; an administrator can now turn that off (`area add --no-public-page`, `area set`, the
dashboard's Administration), and the change is written to the audit log (`area_change`).
Existing public areas keep their page (they had one); private areas never had one.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# Written out here (not imported from the models) so this migration means the same thing forever.
OLD_AUDIT_ACTIONS = ("approve", "reject", "hide", "restore", "broadcast", "urgent", "intro", "unlink", "invite",
                     "join_accept", "join_decline", "import", "export", "area_add", "organiser_add",
                     "organiser_remove")
AUDIT_ACTIONS = (*OLD_AUDIT_ACTIONS, "area_change")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _actions(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint(op.f("ck_audit_log_action"), type_="check")
        batch.create_check_constraint("action", _in("action", values))


def upgrade() -> None:
    with op.batch_alter_table("areas") as batch:
        batch.add_column(sa.Column("public_page", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute(sa.text("UPDATE areas SET public_page = :off WHERE private = :on").bindparams(off=False, on=True))
    _actions(AUDIT_ACTIONS)


def downgrade() -> None:
    op.execute("DELETE FROM audit_log WHERE action = 'area_change'")
    _actions(OLD_AUDIT_ACTIONS)
    with op.batch_alter_table("areas") as batch:
        batch.drop_column("public_page")
