"""Applying Alembic migrations from code (`sms-board db upgrade`, tests), and checking they were applied."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from sms_board.models import Campaign, Heartbeat
from sms_board.paths import resource_dir

# Tables the clock's jobs read first: a database without them has not been upgraded.
_PROBED = (Campaign, Heartbeat)


class SchemaNotReady(Exception):
    """The database has not been migrated, or cannot be asked: `sms-board db upgrade` first."""

    def __init__(self, error: DBAPIError) -> None:
        # The driver's word for it: OperationalError, UndefinedTable, …
        self.reason = error.orig.__class__.__name__
        # PostgreSQL answers a missing table with a ProgrammingError. An OperationalError is
        # SQLite's missing table, but also a database that does not answer at all.
        self.may_be_unreachable = not isinstance(error, ProgrammingError)
        super().__init__(f"the database is not ready ({self.reason})")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the models (a developer tool)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


def check_schema(factory: sessionmaker[Session]) -> None:
    """Raise `SchemaNotReady` unless the database answers and has been migrated.

    Long-running and scheduled processes call this before they start, so an
    unmigrated database stops them at once instead of failing a minute later.
    """
    try:
        with factory.begin() as session:
            for model in _PROBED:
                session.scalar(select(func.count()).select_from(model))
    except (OperationalError, ProgrammingError) as exc:
        raise SchemaNotReady(exc) from exc
