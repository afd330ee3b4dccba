"""outbox rows say which response or connection they are about; inbound texts that may be urgent

A notice about an offer ("Sam can help with #R8"), a connection or a post is cancelled
when that is withdrawn before the notice goes (STOP, LEAVE, FORGET, NO, CLOSE, UNLINK,
REJECT): `outbox.response_id` and `outbox.match_id` join `outbox.item_id` to say what a
text is about, each with a partial index (digests and broadcasts, about nothing, stay out
of it). `inbound_messages.urgent` marks a text that may be a cry for help (first in the
inbox), and `organisers_alerted_at` when the organisers were texted about it.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_ABOUT = (("item_id", None), ("response_id", "responses"), ("match_id", "matches"))


def _index(column: str) -> str:
    return f"ix_outbox_{column.removesuffix('_id')}"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        for column, table in _ABOUT:
            if table is None:
                continue
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_outbox_{column}_{table}"), table, [column], ["id"], ondelete="SET NULL")
    for column, _table in _ABOUT:
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(_index(column), "outbox", [column], postgresql_where=where, sqlite_where=where)
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("urgent", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("organisers_alerted_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_column("organisers_alerted_at")
        batch_op.drop_column("urgent")
    for column, _table in _ABOUT:
        op.drop_index(_index(column), table_name="outbox")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        for column, table in reversed(_ABOUT):
            if table is None:
                continue
            batch_op.drop_constraint(f"fk_outbox_{column}_{table}", type_="foreignkey")
            batch_op.drop_column(column)
