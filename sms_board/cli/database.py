"""`sms-board db upgrade` and `sms-board demo`: the schema, and a neighbourhood to try it on."""

from __future__ import annotations

import click
from sqlalchemy.exc import OperationalError

from sms_board.cli.common import board_of, settings_of, transaction


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply Alembic migrations (creates the SQLite file if needed)."""
    from sms_board.plumbing.migrate import MigrationRefused, database_state, head_revision, upgrade

    engine = board_of(ctx).engine
    where = engine.url.render_as_string(hide_password=True)
    before = database_state(engine)
    if before.status == "unreachable":
        raise click.ClickException(before.line(engine))
    try:
        upgrade(engine)
    except OperationalError as exc:
        raise click.ClickException(f"cannot reach the database: {exc.orig}. Check DATABASE_URL.") from None
    except MigrationRefused as exc:
        raise click.ClickException(str(exc)) from None
    if before.ok:
        click.echo(f"Database is up to date ({where}).", err=True)
    elif before.detail == "no schema yet":
        click.echo(f"Created the board's tables at migration {head_revision()} ({where}).", err=True)
    else:
        click.echo(f"Upgraded the database to migration {head_revision()} ({where}).", err=True)


@click.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Seed a demo neighbourhood (Ofcom drama numbers only); safe to run twice."""
    from sms_board.demo import SIGN_IN, seed

    with transaction(ctx) as session:
        created = seed(session, settings_of(ctx))
    click.echo(f"Demo neighbourhood {'ready' if created else 'already there'}: {SIGN_IN} "
               "(the code is texted to the console).", err=True)
