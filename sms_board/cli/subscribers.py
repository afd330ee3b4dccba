"""`subscribers add`, `import` and `export`: one resident enrolled by an organiser, a paper list in,
the consent records out."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sms_board.cli.common import area_or_fail, emit_json, phone_number, settings_of, transaction

if TYPE_CHECKING:
    from sms_board.community.roster import ImportReport


class _NothingWritten(Exception):
    """Rolls the import's transaction back (a dry run, or a row that failed)."""


@click.group()
def subscribers() -> None:
    """Subscriber lists with their consent: import a CSV, export one."""


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option("--area", "area_slug", default=None, help="The area of rows whose area column is empty.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def import_command(ctx: click.Context, file: Path, dry_run: bool, area_slug: str | None, as_json: bool) -> None:
    """Subscribe the numbers in FILE.csv (number,area,name,consent_source,consent_at); all rows or none."""
    from sms_board.community.roster import import_subscribers
    from sms_board.plumbing.utc import utcnow

    try:
        lines = file.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    except UnicodeDecodeError:
        raise click.ClickException(f"{file.name} is not UTF-8 text: save it as \"CSV UTF-8\" and try again.") from None
    report: ImportReport | None = None
    try:
        with transaction(ctx) as session, click.progressbar(
            length=max(len(lines) - 1, 0), label="Checking rows", file=sys.stderr,
        ) as bar:
            chosen = area_or_fail(session, area_slug) if area_slug else None
            report = import_subscribers(session, settings_of(ctx), lines, utcnow(), area=chosen, dry_run=dry_run,
                                        source_name=file.name, progress=bar.update)
            if not report.written:
                raise _NothingWritten
    except _NothingWritten:
        pass
    assert report is not None
    if as_json:
        emit_json(report.as_dict())
    else:
        _show(report)
    if report.errors:
        ctx.exit(1)


def _show(report: ImportReport) -> None:
    for note in report.errors:
        click.echo(f"line {note.line}: {note.number or '-'}: {note.message}", err=True)
    for note in report.refused:
        click.echo(f"line {note.line}: {note.number}: {note.message}", err=True)
    if report.errors:
        click.echo(f"{len(report.errors)} row(s) failed: nothing was imported. Fix them and run it again.", err=True)
        return
    verb = "would be subscribed (dry run: nothing written)" if report.dry_run else "subscribed, each sent a welcome"
    click.echo(f"{report.imported} of {report.rows} rows {verb}; {report.already} already subscribed, "
               f"{len(report.refused)} refused.", err=True)


@subscribers.command("add")
@click.argument("number")
@click.argument("area_slug", metavar="AREA")
@click.option("--voice", is_flag=True, help="Digests read by a telephone call (a landline must have it).")
@click.option("--name", default="", help="Their first name.")
@click.option("--language", default="", help="A code of the board's languages (e.g. cy).")
@click.option("--consent", default="", help='Where and how they agreed, e.g. "phoned by Ruth, 3 Dec".')
@click.pass_context
def add_command(ctx: click.Context, number: str, area_slug: str, voice: bool, name: str, language: str,
                consent: str) -> None:
    """Subscribe one NUMBER to AREA with the consent they gave an organiser (recorded as for an import)."""
    from sms_board.community.roster import enrol_one
    from sms_board.models import HearsBy
    from sms_board.plumbing.utc import utcnow
    from sms_board.text.phone import mask

    phone = phone_number(ctx, number)
    if not consent.strip():
        raise click.ClickException('say how they agreed with --consent, e.g. --consent "phoned by Ruth, 3 Dec".')
    fields = {"number": phone, "name": name, "language": language, "consent_source": consent,
              "hears_by": HearsBy.VOICE if voice else ""}  # without --voice: as they hear it now (texts, if new)
    with transaction(ctx) as session:
        report = enrol_one(session, settings_of(ctx), fields, area_or_fail(session, area_slug), utcnow(),
                                ask_for_voice="add --voice")
    problem = next(iter(report.errors + report.refused), None)
    if problem is not None:
        raise click.ClickException(problem.message)
    if report.already:
        click.echo(f"{mask(phone)} is already subscribed to {area_slug}: nothing changed.", err=True)
    elif voice:
        click.echo(f"{mask(phone)} subscribed to {area_slug}; their digests will be read to them by a call.", err=True)
    else:
        click.echo(f"{mask(phone)} subscribed to {area_slug} and sent a welcome.", err=True)


@subscribers.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--area", "area_slug", default=None, help="Only this area.")
@click.pass_context
def export_command(ctx: click.Context, file: Path | None, area_slug: str | None) -> None:
    """Active subscriptions as CSV, full numbers and consent source; to standard output unless FILE is given."""
    from sms_board.community.roster import EXPORT_COLUMNS, export_rows
    from sms_board.plumbing.spreadsheet import write_csv
    from sms_board.plumbing.utc import utcnow

    with transaction(ctx) as session:
        chosen = area_or_fail(session, area_slug) if area_slug else None
        rows = list(export_rows(session, chosen, now=utcnow()))
    if file is None:
        write_csv(sys.stdout, EXPORT_COLUMNS, rows)
        return
    with file.open("w", encoding="utf-8", newline="") as out:
        write_csv(out, EXPORT_COLUMNS, rows)
    click.echo(f"{len(rows)} subscriptions written to {file}.", err=True)
