"""The scheduler: `tick` runs every due job once, `clock` every minute."""

from __future__ import annotations

import click
from sqlalchemy.exc import OperationalError

from sms_board.cli.common import board_of, emit_json, require_schema, settings_of, verbose_logging


@click.command("tick")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def tick_command(ctx: click.Context, as_json: bool) -> None:
    """Run every due job once, exactly what `clock` does each minute (for cron-style hosting)."""
    from sms_board.clock.jobs import tick
    from sms_board.plumbing.utc import utcnow

    require_schema(ctx)
    counts = tick(board_of(ctx).sessions, settings_of(ctx), utcnow())
    if as_json:
        emit_json(counts)
    else:
        for name, count in counts.items():
            click.echo(f"{name}: {count}")
    if counts.get("errors"):
        click.echo(f"{counts['errors']} job(s) failed; see the log above.", err=True)
        ctx.exit(1)


@click.command()
@click.pass_context
def clock(ctx: click.Context) -> None:
    """The scheduler process: every minute, what `sms-board tick` does once. One clock at a time."""
    from sms_board.clock.scheduler import ClockLocked, clock_lock, run_clock

    verbose_logging()
    board = board_of(ctx)
    settings = board.settings
    require_schema(ctx)
    try:
        with clock_lock(board.engine, settings) as lock:
            click.echo("Clock started: due jobs run every minute (Ctrl-C to stop).", err=True)
            run_clock(board.clock_sessions, settings, lock)
    except ClockLocked as exc:
        raise click.ClickException(str(exc)) from None
    except OperationalError as exc:
        raise click.ClickException(f"cannot reach the database ({exc.orig.__class__.__name__}); check DATABASE_URL.") from None
    click.echo("Clock stopped.", err=True)
