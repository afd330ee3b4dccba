"""`sms-board serve`: the web app on the development server."""

from __future__ import annotations

import click

from sms_board.cli.common import board_of, require_schema, verbose_logging


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Run the web app (development server; production uses gunicorn, see the Procfile)."""
    verbose_logging()
    require_schema(ctx)
    from sms_board.app import build_app

    app = build_app(board=board_of(ctx))
    if "simulator" in app.blueprints:
        click.echo(f"Simulator: http://{host}:{port}/simulator", err=True)
    # werkzeug's server without Flask's "Serving Flask app / Debug mode" banner: the operator's log
    # holds the address above and the requests, nothing else.
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True, use_reloader=False)
