"""subscribers and subscriptions leave half of each page free, for updates that stay on it

A digest run moves `last_digest_at` on every subscription it texts, and the first
digest of a month stamps `stop_reminded_at` on every subscriber. Neither column is
indexed, so PostgreSQL can write the new row version on the same page without touching
any index (a heap-only update), but only if the page has room. Packed full, each stamp
was a new version on another page and an entry in every index of the table. A table
that has been updated all over and vacuumed has this room anyway; new rows now keep it
from the start. Takes effect for rows written from now on (no rewrite). PostgreSQL
only: SQLite has no fill factor.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = ("subscribers", "subscriptions")
FILLFACTOR = 50


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
