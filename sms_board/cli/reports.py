"""Reports for operators: `report` (the month's figures), `ledger` (who helped whom) and `audit` (what organisers did)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from sms_board.cli.common import area_or_fail, echo, emit_json, settings_of, transaction

if TYPE_CHECKING:
    from sms_board.community.monthly_report import MonthlyReport


@click.command()
@click.option("--area", "area_slug", default=None, help="Only this area (default: the whole board).")
@click.option("--month", default=None, help="YYYY-MM on the board's clock (default: the last complete month).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
@click.option("--csv", "as_csv", is_flag=True, help="One row (without --area: each area, then the board).")
@click.option("--shareable", is_flag=True, help="For councils and funders: counts from 1 to 4 left out.")
@click.pass_context
def report(ctx: click.Context, area_slug: str | None, month: str | None, as_json: bool, as_csv: bool,
           shareable: bool) -> None:
    """The month's figures: connections, exchanges, requests and members (docs/reports.md)."""
    from sqlalchemy import select

    from sms_board.community.monthly_report import BadMonth, area_rows, monthly_report, parse_month
    from sms_board.models import Area
    from sms_board.plumbing.utc import utcnow

    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv.")
    settings, now = settings_of(ctx), utcnow()
    try:
        first_day = parse_month(month, settings, now)
    except BadMonth as exc:
        raise click.ClickException(str(exc)) from None
    with transaction(ctx) as session:
        chosen = area_or_fail(session, area_slug) if area_slug else None
        board = monthly_report(session, settings, chosen, first_day, now)
        if as_csv and chosen is None:
            each = [monthly_report(session, settings, area, first_day, now)
                    for area in session.scalars(select(Area).order_by(Area.slug))]
            rows = area_rows([*each, board]) if shareable else [*each, board]
        else:
            rows = [board.shareable() if shareable else board]
        names = {area.slug: area.name for area in session.scalars(select(Area))}
    if as_json:
        emit_json(rows[0].document(shareable=shareable))
    elif as_csv:
        _report_csv(rows, shareable)
    else:
        _show_report(rows[0], names.get(rows[0].area or ""), shareable)


def _report_csv(rows: list[MonthlyReport], shareable: bool) -> None:
    from sms_board.community.monthly_report import write_report_csv

    write_report_csv(sys.stdout, rows, shareable)


def _show_report(shown: MonthlyReport, area_name: str | None, shareable: bool) -> None:
    from sms_board.community.monthly_report import SMALLEST_SHAREABLE
    from sms_board.community.report_figures import DEFINITIONS

    where = f"{area_name} ({shown.area})" if shown.area else "the whole board"
    state = "final (kept)" if shown.final else "provisional: kept four days after the month ends"
    click.echo(f"Report for {where}, {datetime.strptime(shown.month, '%Y-%m'):%B %Y}: {state}; "
               f"definitions version {shown.definitions_version}.")
    for key, meaning in DEFINITIONS.items():
        value = shown.figures[key]
        if value is None:
            written = f"fewer than {SMALLEST_SHAREABLE}" if key in shown.suppressed else "none"
        else:
            written = f"{value:g}" if isinstance(value, float) else str(value)
        click.echo(f"  {key.replace('_', ' '):<28} {written:>14}   {meaning}")
    if shareable:
        click.echo(f"Shareable: counts from 1 to {SMALLEST_SHAREABLE - 1} are shown as fewer than {SMALLEST_SHAREABLE}.")


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
