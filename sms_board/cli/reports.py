"""Reports for operators: `ledger` (who helped whom) and `audit` (what organisers did)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import click

from sms_board.cli.common import area_or_fail, echo, emit_json, transaction


@click.command()
@click.option("--area", "area_slug", default=None, help="Only this area.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="From this date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True, help="One row per exchange (names, never numbers).")
@click.pass_context
def ledger(ctx: click.Context, area_slug: str | None, since: datetime | None, as_json: bool, as_csv: bool) -> None:
    """Who helped whom: exchanges, hours, givers, receivers and new connections."""
    from sms_board.community.exchange import LEDGER_COLUMNS
    from sms_board.community.exchange import ledger as build_ledger
    from sms_board.plumbing.spreadsheet import write_csv

    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv.")
    with transaction(ctx) as session:
        chosen = area_or_fail(session, area_slug) if area_slug else None
        report = build_ledger(session, chosen, since.replace(tzinfo=UTC) if since else None)
    if as_json:
        emit_json(report)
    elif as_csv:
        write_csv(sys.stdout, LEDGER_COLUMNS, report["rows"])
    else:
        _show_ledger(report, area_slug)


def _show_ledger(report: dict[str, Any], area_slug: str | None) -> None:
    scope = f" in {area_slug}" if area_slug else ""
    period = f" since {report['since']}" if report["since"] else ""
    click.echo(f"Ledger{scope}{period}:")
    click.echo(f"  exchanges        {report['exchanges']}")
    click.echo(f"  hours            {report['hours']:g}")
    click.echo(f"  people who gave  {report['givers']}")
    click.echo(f"  who received     {report['receivers']}")
    click.echo(f"  who did both     {report['both']}")
    click.echo(f"  new connections  {report['new_connections']}")


@click.command()
@click.option("--area", "area_slug", default=None, help="Only this area.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def audit(ctx: click.Context, area_slug: str | None, as_json: bool) -> None:
    """Organisers' and administrators' actions: who, what, when, which item."""
    from sms_board.community.audit import audit_log

    with transaction(ctx) as session:
        chosen = area_or_fail(session, area_slug) if area_slug else None
        entries = audit_log(session, chosen)
    rows = [{"at": e.at.isoformat(timespec="seconds"), "who": e.who, "channel": e.channel, "action": e.action,
             "area": e.area, "item": e.item, "detail": e.detail} for e in entries]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("Nothing in the audit log yet.", err=True)
    for row in rows:
        item = f"#{row['item']}" if row["item"] else ""
        detail = " ".join(f"{key}={value}" for key, value in row["detail"].items())
        echo(f"{row['at']}  {row['action']:<12} {row['area'] or '-':<12} {item:<7} {row['who']} "
             f"via {row['channel']}  {detail}".rstrip())
