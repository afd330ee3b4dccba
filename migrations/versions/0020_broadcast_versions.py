"""broadcast versions: a broadcast's texts, one per language, and an outbox row per version

A broadcast on a board of several languages may be written once per language (`BROADCAST CY …`
then `BROADCAST EN …`): each version is a row of `campaign_versions`, and someone whose language
is not known gets every version, so the outbox's delivery key becomes (campaign, subscriber,
version). Every other text is version 0, as every row already written is.

Every broadcast already stored gets one version for every reader (`language` NULL) holding its
body, so a broadcast confirmed before the upgrade goes out after it exactly as written.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sms_board.text.segments import analyse

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.String(6), nullable=False),
        sa.Column("readers", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            ondelete="CASCADE",
            name=op.f("fk_campaign_versions_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_versions")),
        sa.UniqueConstraint("campaign_id", "position", name="uq_campaign_versions_position"),
    )
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(
            sa.Column("by_language", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
        batch.drop_constraint("uq_outbox_campaign_subscriber", type_="unique")
        batch.create_unique_constraint(
            "uq_outbox_campaign_subscriber_version", ["campaign_id", "subscriber_id", "version"]
        )

    connection = op.get_bind()
    stored = connection.execute(
        sa.text(
            "SELECT id, body, segments, audience FROM campaigns WHERE kind = 'broadcast' AND body IS NOT NULL ORDER BY id"
        )
    ).all()
    insert = sa.text(
        "INSERT INTO campaign_versions (campaign_id, position, language, text, body, segments, encoding, readers) "
        "VALUES (:campaign, 0, NULL, :body, :body, :segments, :encoding, :readers)"
    )
    for campaign_id, body, segments, audience in stored:
        measured = analyse(body)
        connection.execute(
            insert,
            {
                "campaign": campaign_id,
                "body": body,
                "segments": segments or measured.segments,
                "encoding": measured.encoding,
                "readers": audience,
            },
        )


def downgrade() -> None:
    # The old key holds one text a person: a later version's texts are kept, as texts of no campaign.
    op.execute("UPDATE outbox SET campaign_id = NULL WHERE version <> 0")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_campaign_subscriber_version", type_="unique")
        batch.create_unique_constraint(
            "uq_outbox_campaign_subscriber", ["campaign_id", "subscriber_id"]
        )
        batch.drop_column("version")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("by_language")
    op.drop_table("campaign_versions")
