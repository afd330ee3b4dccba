"""Applying Alembic migrations from code (`sms-board db upgrade`, tests), and asking whether a database is ready."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from sms_board.plumbing.paths import resource_dir

UPGRADE_HINT = "run `sms-board db upgrade`"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to `revision`, in one transaction.

    On SQLite a migration that changes a constraint copies the table, drops the old one and
    renames the copy (Alembic's batch mode). With foreign keys enforced, dropping a table
    deletes its rows first, and that delete cascades: rebuilding `areas` would delete every
    subscription and item, rebuilding `matches` would unlink every event and ledger row. So
    SQLite migrates with enforcement off (it can only be switched outside a transaction), and
    the finished schema's foreign keys are checked before the transaction commits.
    """
    config = alembic_config(engine)
    with engine.connect() as connection, _foreign_keys_off(connection), connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        _refuse_broken_references(connection)


@contextmanager
def _foreign_keys_off(connection: Connection) -> Iterator[None]:
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection
    raw.execute("PRAGMA foreign_keys=OFF")  # before the transaction begins, or SQLite ignores it
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _refuse_broken_references(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = sorted({f"{row[0]} → {row[2]}" for row in broken})
        raise MigrationRefused(f"the migration left rows pointing at rows that are gone ({', '.join(tables)});"
                               " nothing was changed.")


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the models (a developer tool)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


@cache
def head_revision() -> str | None:
    """The newest migration this code ships (read once: the files do not change while it runs)."""
    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    return ScriptDirectory.from_config(config).get_current_head()


@dataclass(frozen=True)
class DatabaseState:
    """Whether the board can use its database: `ok`, `unreachable` or `not migrated`."""

    status: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def line(self, engine: Engine) -> str:
        """One line for an operator: what is wrong and what to do."""
        where = engine.url.render_as_string(hide_password=True)
        if self.status == "unreachable":
            return f"cannot reach the database at {where} ({self.detail}): check DATABASE_URL."
        return f"the database at {where} is not migrated ({self.detail}): {UPGRADE_HINT}."


def database_state(engine: Engine) -> DatabaseState:
    """Reachable, and at the newest migration? One cheap query (Alembic's version table)."""
    _quiet_alembic()
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        return DatabaseState("unreachable", f"{cause.__class__.__name__}: {str(cause).strip().splitlines()[0][:120]}")
    head = head_revision()
    if current is None:
        return DatabaseState("not migrated", "no schema yet")
    if current != head:
        return DatabaseState("not migrated", f"at revision {current}, this board needs {head}")
    return DatabaseState("ok")


def _quiet_alembic() -> None:
    # Asking the version writes two INFO lines on every /healthz and every start: not news.
    # (Alembic's "setup plugin" lines come as it is imported: `logs.quiet_library_chatter`.)
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)


class MigrationRefused(RuntimeError):
    """A migration found stored rows it cannot carry over; the message names them, in one line for an operator."""


class DatabaseNotReady(RuntimeError):
    """The database cannot be reached or is not migrated; the message is one line for an operator."""


def require_ready(engine: Engine) -> None:
    """Stop a process at start with one clear line unless its database is reachable and migrated."""
    state = database_state(engine)
    if not state.ok:
        raise DatabaseNotReady(state.line(engine))
