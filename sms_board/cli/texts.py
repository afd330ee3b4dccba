"""Texts in and out: `simulate`, `outbox`, `send` and `segments`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from sms_board.cli.common import (
    board_of,
    echo,
    emit_json,
    not_ready,
    require_schema,
    settings_of,
    transaction,
    verbose_logging,
)

if TYPE_CHECKING:
    from sms_board.plumbing.board import Board
    from sms_board.sending.sender import DrainReport


def _as_the_webhook_reads(argument: str) -> str:
    """An argument as the webhook reads the same bytes from Twilio's form: bytes that are not UTF-8
    stay visible as %XX (werkzeug's way), so the text is stored and answered, never a traceback.

    Python hands the CLI such bytes as lone surrogates (U+DCE9 for a Latin-1 é); a lone
    surrogate that came from no byte is read as its UTF-8 bytes (U+D800 as %ED%A0%80).
    """
    try:
        raw = argument.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = argument.encode("utf-8", "surrogatepass")
    parts: list[str] = []
    while raw:
        try:
            parts.append(raw.decode("utf-8"))
            break
        except UnicodeDecodeError as bad:
            parts.append(raw[:bad.start].decode("utf-8") + "".join(f"%{byte:02X}" for byte in raw[bad.start:bad.end]))
            raw = raw[bad.end:]
    return "".join(parts)


@click.command()
@click.argument("from_number", metavar="FROM")
@click.argument("body")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def simulate(ctx: click.Context, from_number: str, body: str, as_json: bool) -> None:
    """Run one inbound text through the webhook's pipeline and print the replies."""
    from sms_board.inbound import new_message_sid, receive
    from sms_board.text.phone import normalise, not_a_number

    settings = settings_of(ctx)
    factory = board_of(ctx).sessions
    params = {
        "MessageSid": new_message_sid(), "From": _as_the_webhook_reads(from_number),
        "To": settings.board_number or "+447700900000", "Body": _as_the_webhook_reads(body), "NumMedia": "0",
        "SmsStatus": "received",
    }
    try:
        result = receive(factory, settings, params)
    except (OperationalError, ProgrammingError):
        raise not_ready(ctx) from None
    answerable = normalise(params["From"], settings.default_region) is not None
    if not answerable:
        # The webhook's way, not the simulator's refusal: stored, never answered (README, "Command line": exit 0 once stored).
        click.echo(f"{not_a_number(from_number)}. The board stored the text and did not answer it, as it does "
                   "every text from a sender that is not a phone number (a short code, a name).", err=True)
    if as_json:
        emit_json({"replies": result.replies})
        return
    if answerable and not result.replies:
        click.echo("(no reply)", err=True)
    for reply in result.replies:
        echo(reply)


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--status", "status", default=None, help="Only rows with this status.")
@click.pass_context
def outbox(ctx: click.Context, as_json: bool, status: str | None) -> None:
    """Queued and sent texts (full numbers: the CLI is for operators)."""
    from sms_board.models import OutboxStatus
    from sms_board.sending.outbox import list_outbox

    if status and status not in {s.value for s in OutboxStatus}:
        raise click.BadParameter(f"use one of {', '.join(s.value for s in OutboxStatus)}.", param_hint="--status")
    with transaction(ctx) as session:
        rows = [
            {
                "id": r.id, "to": r.to_number, "body": r.body, "kind": r.kind, "status": r.status,
                "segments": r.segments, "encoding": r.encoding, "attempts": r.attempts,
                "error_code": r.error_code, "created_at": r.created_at.isoformat(),
            }
            for r in list_outbox(session, status)
        ]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("The outbox is empty.", err=True)
    for row in rows:
        first_line = row["body"].splitlines()[0] if row["body"] else ""
        echo(f"{row['id']:>6} {row['status']:<11} {row['kind']:<9} {row['to']:<16} "
             f"{row['segments']}×{row['encoding']:<5} {first_line[:60]}")


@click.command()
@click.option("--forever", is_flag=True, help="Keep draining as texts arrive (the Procfile worker).")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between looks at an empty outbox.")
@click.pass_context
def send(ctx: click.Context, forever: bool, poll: float) -> None:
    """Drain the outbox through the transport at SMS_BOARD_RATE."""
    if forever:
        verbose_logging()
    require_schema(ctx)
    board = board_of(ctx)
    try:
        if forever:
            _send_until_stopped(board, poll)
        else:
            _send_once(board)
    except KeyboardInterrupt:
        click.echo("\nStopped.", err=True)
    except (OperationalError, ProgrammingError):
        raise not_ready(ctx) from None


def _send_once(board: Board) -> None:
    from sms_board.community.trusted_helpers import on_opt_out
    from sms_board.sending.sender import drain

    live = sys.stderr.isatty()
    report = drain(board.sender_sessions, board.transport, board.settings, progress=_show_progress if live else None,
                   on_opt_out=on_opt_out(board.settings))
    if live and report.handled:
        click.echo("", err=True)
    if report.stopped_because:
        raise click.ClickException(_refused(report))
    click.echo(f"Done: {_counts(report)}.", err=True)
    if report.failed or report.unknown:
        click.echo("See them with: sms-board outbox --status failed (or unknown)", err=True)


def _send_until_stopped(board: Board, poll: float) -> None:
    from sms_board.community.trusted_helpers import on_opt_out
    from sms_board.sending.sender import run_forever

    run_forever(board.sender_sessions, board.transport, board.settings, poll=poll, report_to=_report_drain,
                on_opt_out=on_opt_out(board.settings))
    click.echo("Stopped.", err=True)


def _report_drain(report: DrainReport) -> None:
    if report.stopped_because:
        click.echo(f"{_refused(report)} Trying again in a minute.", err=True)
    else:
        click.echo(_counts(report), err=True)


def _show_progress(report: DrainReport) -> None:
    click.echo(f"\r{_counts(report)}", err=True, nl=False)


def _refused(report: DrainReport) -> str:
    return f"Twilio refused the account: {report.stopped_because}. Check the TWILIO_* settings."


def _counts(report: DrainReport) -> str:
    return (f"{report.sent} sent, {report.retried} to retry, {report.failed} failed, "
            f"{report.unknown} unknown, {report.cancelled} cancelled")


@click.command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True)
@click.option("--smart", is_flag=True,
              help="Measure the text as sent: punctuation and spaces with GSM-7 look-alikes replaced, letters kept.")
def segments(text: str, as_json: bool, smart: bool) -> None:
    """How many SMS segments TEXT costs, and in which encoding."""
    from sms_board.text.segments import analyse, smart_encode

    info = analyse(smart_encode(text) if smart else text)
    document = info.as_dict()
    if not smart:
        document["text"] = text
    if as_json:
        emit_json(document)
        return
    click.echo(f"{info.segments} segment{'s' if info.segments != 1 else ''}, {info.encoding}, "
               f"{info.characters} characters")
    if smart:
        click.echo(info.text)
