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
