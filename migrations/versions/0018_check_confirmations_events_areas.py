"""CHECK constraints on confirmations (resolution), reports (resolution), item and consent events (action)
and areas (moderation); item_events.action widened to 20 characters

The last status, kind and action columns without a CHECK constraint now refuse a word they
do not know, as the outbox, campaigns, items, responses, matches and subscriptions already
do (0004, 0017). A pending confirmation, and a report nobody has decided, keep a NULL
resolution. `item_events.action` was 16 characters, one short of `reports_dismissed`, which
PostgreSQL refused (an organiser's APPROVE that kept a reported post up failed there); it is
20 now.

A board whose rows already hold a word outside the list stops here with one line naming the
table and the words, instead of the database's own constraint error, so the organiser can
see what to fix before upgrading.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

from sms_board.plumbing.migrate import MigrationRefused

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# Written out here (not imported from the models) so this migration means the same thing forever.
ITEM_EVENT_ACTIONS = (
    "opened", "named", "approved", "restored", "reports_dismissed", "reported", "hidden", "join_requested",
    "join_accepted", "join_declined", "reminded", "offered", "asked", "introduced", "intro_accepted", "connected",
    "kept_open", "withdrawn", "declined", "shared_number", "relayed", "closed", "expired", "rejected", "forgotten",
    "done", "unlinked", "opted_out", "closed_ended", "expired_ended", "rejected_ended", "declined_ended",
    "forgotten_ended",
)
CHECKED: dict[str, dict[str, tuple[str, ...]]] = {
    "confirmations": {"resolution": ("confirmed", "lapsed")},
    "reports": {"resolution": ("dismissed", "upheld")},
    "item_events": {"action": ITEM_EVENT_ACTIONS},
    "consent_events": {"action": ("subscribe", "leave", "opt_out", "opt_in")},
    "areas": {"moderation": ("open", "first", "all")},
}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _refuse_unknown_words() -> None:
    """Look before adding: a bad row would otherwise surface as a raw constraint error."""
    connection = op.get_bind()
    found = []
    for table, columns in CHECKED.items():
        for column, values in columns.items():
            bad = connection.scalars(text(
                f"SELECT DISTINCT {column} FROM {table} WHERE NOT ({_in(column, values)}) ORDER BY {column}"
            )).all()
            if bad:
                found.append(f"{table}.{column} holds {', '.join(repr(v) for v in bad)}"
                             f" (allowed: {', '.join(values)})")
    if found:
        raise MigrationRefused("Migration 0018 did not run: " + "; ".join(found)
                               + ". Correct those rows, then run the upgrade again.")


def upgrade() -> None:
    _refuse_unknown_words()
    for table, columns in CHECKED.items():
        with op.batch_alter_table(table) as batch:
            if table == "item_events":
                batch.alter_column("action", existing_type=sa.String(length=16), type_=sa.String(length=20),
                                   existing_nullable=False)
            for column, values in columns.items():
                batch.create_check_constraint(column, _in(column, values))


def downgrade() -> None:
    for table, columns in CHECKED.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
            if table == "item_events":
                batch.alter_column("action", existing_type=sa.String(length=20), type_=sa.String(length=16),
                                   existing_nullable=False)
