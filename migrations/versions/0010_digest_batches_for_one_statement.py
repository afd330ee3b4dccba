"""digest batches carry what one statement needs to write a whole digest run

Each batch says whose digest it is (area, the [since, until) range of last-digest
times, the author it leaves out) and what they receive (the first page as sent, the
same page with how to stop, segments, encoding). Existing batches keep NULLs: they
only serve MORE, which reads `pages`.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digest_batches") as batch:
        batch.add_column(sa.Column("area_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("author_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reminder", sa.Text(), nullable=True))
        batch.add_column(sa.Column("segments", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("encoding", sa.String(length=6), nullable=True))
        batch.create_foreign_key(op.f("fk_digest_batches_area_id_areas"), "areas", ["area_id"], ["id"],
                                 ondelete="CASCADE")
        batch.create_foreign_key(op.f("fk_digest_batches_author_id_subscribers"), "subscribers", ["author_id"],
                                 ["id"], ondelete="CASCADE")


def downgrade() -> None:
    with op.batch_alter_table("digest_batches") as batch:
        batch.drop_constraint(op.f("fk_digest_batches_author_id_subscribers"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_digest_batches_area_id_areas"), type_="foreignkey")
        for column in ("encoding", "segments", "reminder", "body", "author_id", "until", "area_id"):
            batch.drop_column(column)
