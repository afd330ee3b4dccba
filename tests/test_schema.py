"""The schema comes from Alembic migrations, and they match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sms_board.models import Base


def test_migrations_match_the_models(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"models and migrations differ; add a migration: {differences}"


def test_db_upgrade_creates_a_fresh_sqlite_file(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from sms_board.cli import cli

    target = tmp_path / "fresh" / "board.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{target}")
    monkeypatch.setenv("SMS_BOARD_INSTANCE_PATH", str(tmp_path / "instance"))
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SMS_BOARD_TRANSPORT"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert target.exists()
    again = CliRunner().invoke(cli, ["area", "list", "--json"])
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == "[]"


def test_the_tables_a_digest_updates_leave_room_for_heap_only_updates(db):
    """Migration 0011: the stamps a digest run writes (`last_digest_at`, `stop_reminded_at`)
    touch no indexed column, so with room on the page they are heap-only updates."""
    if db.backend != "postgresql":
        return
    from sqlalchemy import text

    with db.engine.connect() as connection:
        options = dict(connection.execute(text(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN ('subscribers', 'subscriptions') "
            "AND relnamespace = current_schema()::regnamespace"
        )).all())
        indexed = connection.scalars(text(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid IN ('subscribers'::regclass, 'subscriptions'::regclass)"
        )).all()
    assert options == {"subscribers": ["fillfactor=50"], "subscriptions": ["fillfactor=50"]}
    assert not {"stop_reminded_at", "last_digest_at", "more_batch_id", "more_page"} & set(indexed)
