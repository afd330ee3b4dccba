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


@db.command("copy")
@click.argument("target_url")
@click.option("--yes", is_flag=True, help="Copy without asking.")
@click.option("--dry-run", is_flag=True, help="Check and count everything; write nothing.")
@click.pass_context
def db_copy(ctx: click.Context, target_url: str, yes: bool, dry_run: bool) -> None:
    """Copy the whole board into an empty PostgreSQL at TARGET_URL (docs/operations.md)."""
    import os
    import sys

    from sms_board.plumbing.db_copy import CopyRefused, KeysToCarry, check_keys, copy, prepare
    from sms_board.plumbing.utc import utcnow

    board = board_of(ctx)
    settings = board.settings
    try:
        check_keys(settings.secret_key, settings.suppression_key, settings.instance_path, os.environ)
        plan = prepare(board.engine, target_url, utcnow())
    except KeysToCarry as exc:
        click.echo(str(exc), err=True)
        ctx.exit(1)
    except CopyRefused as exc:
        raise click.ClickException(str(exc)) from None
    source, target = plan.where(plan.source), plan.where(plan.target)
    migration = (f"migrate it to {plan.revision}" if plan.target_revision != plan.revision
                 else f"it is at migration {plan.revision}")
    click.echo(f"{'Checking' if dry_run else 'Copying'} the board at {source} into {target} ({migration}): "
               f"{plan.total} rows in {len(plan.counts)} tables.", err=True)
    held = [f"{name} {count}" for name, count in plan.counts.items() if count]
    if held:
        click.echo(f"  {', '.join(held)}", err=True)
    if not dry_run and not yes:
        if not sys.stdin.isatty():
            plan.target.dispose()
            raise click.ClickException("no terminal to ask on: run it again with --yes to copy (or --dry-run to check).")
        if not click.confirm("Copy now? (the board's web, sender and clock processes must be stopped)", err=True):
            plan.target.dispose()
            raise click.ClickException("nothing was copied.")
    try:
        with click.progressbar(length=plan.total, label="Checking rows" if dry_run else "Copying rows",
                               file=sys.stderr) as bar:
            report = copy(plan, dry_run=dry_run, now=utcnow(), progress=bar.update)
    except CopyRefused as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        plan.target.dispose()
    width = max(len(table.name) for table in report.tables)
    click.echo(f"{'table':<{width}}  {'rows':>9}  {'source':<16}  {'target':<16}")
    for table in report.copied:
        shown_target = "(dry run)" if dry_run else table.target_checksum
        mark = "" if dry_run or table.matches else "  DIFFERENT"
        click.echo(f"{table.name:<{width}}  {table.rows:>9}  {table.source_checksum:<16}  {shown_target:<16}{mark}")
    if report.apart:
        click.echo("Deliberately not copied or changed:")
        for table in report.apart:
            click.echo(f"  {table.name}: {table.note}.")
    copied = sum(table.rows for table in report.copied)
    if dry_run:
        click.echo(f"Dry run: {copied} rows checked, nothing written. Run it without --dry-run to copy.", err=True)
        return
    click.echo(f"Copied {copied} rows into {target}; every table's count and checksum match. Next: stop using "
               f"the old database, set DATABASE_URL to the target and start the board (docs/operations.md).", err=True)
