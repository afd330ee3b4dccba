"""CHECK constraints on responses (status, kind), matches (status) and subscriptions (status)

The outbox, campaigns, items and inbound texts already refuse a status they do not know
(0004); these three state machines now do too. A board whose rows already hold a word
outside the list stops here with one line naming the table and the words, instead of the
database's own constraint error, so the organiser can see what to fix before upgrading.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from sms_board.plumbing.migrate import MigrationRefused

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Written out here (not imported from the models) so this migration means the same thing forever.
CHECKED: dict[str, dict[str, tuple[str, ...]]] = {
    "responses": {
        "status": ("pending", "accepted", "declined", "withdrawn"),
        "kind": ("offer", "ask", "intro"),
    },
    "matches": {"status": ("connected", "done", "ended", "unlinked")},
    "subscriptions": {"status": ("active", "left", "stopped")},
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
        raise MigrationRefused("Migration 0017 did not run: " + "; ".join(found)
                           + ". Correct those rows, then run the upgrade again.")


def upgrade() -> None:
    _refuse_unknown_words()
    for table, columns in CHECKED.items():
        with op.batch_alter_table(table) as batch:
            for column, values in columns.items():
                batch.create_check_constraint(column, _in(column, values))


def downgrade() -> None:
    for table, columns in CHECKED.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
