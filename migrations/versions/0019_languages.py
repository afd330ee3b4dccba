"""languages: a person's language and its history, an area's languages, a digest batch's language

Every subscriber a board already has was texted in English (the only language a board spoke
before packs): they keep it, recorded as chosen by this migration, so a board that adds Welsh
goes on texting them in English; only people new to the board start with no language known.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=True))
    with op.batch_alter_table("areas") as batch:
        batch.add_column(sa.Column("languages", sa.String(64), nullable=True))
    with op.batch_alter_table("digest_batches") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=True))
    op.create_table(
        "language_choices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subscriber_id", sa.Integer(), sa.ForeignKey("subscribers.id", ondelete="CASCADE",
                                                              name=op.f("fk_language_choices_subscriber_id_subscribers")),
                  nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_language_choices")),
    )
    op.create_index(op.f("ix_language_choices_subscriber_id"), "language_choices", ["subscriber_id"])
    op.execute("UPDATE subscribers SET language = 'en'")
    op.get_bind().execute(
        sa.text(
            "INSERT INTO language_choices (subscriber_id, language, wording, channel, created_at) "
            "SELECT id, 'en', 'texted in English before the board had languages', 'migration', :now FROM subscribers"
        ),
        {"now": datetime.now(UTC).replace(tzinfo=None)},  # naive UTC, as the board stores every time
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_language_choices_subscriber_id"), table_name="language_choices")
    op.drop_table("language_choices")
    with op.batch_alter_table("digest_batches") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("areas") as batch:
        batch.drop_column("languages")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("language")
