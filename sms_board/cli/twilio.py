"""`sms-board twilio check`: the account's credentials and where the number sends incoming texts."""

from __future__ import annotations

import click

from sms_board.cli.common import board_of, settings_of


@click.group()
def twilio() -> None:
    """The Twilio account and the number's webhooks."""


@twilio.command("check")
@click.option("--fix", is_flag=True, help="Point the number's (or service's) incoming-text URL at this board.")
@click.pass_context
def twilio_check(ctx: click.Context, fix: bool) -> None:
    """Check the credentials and where the number sends incoming texts; exits 1 if something is wrong."""
    from sms_board.sending.twilio_account import check, make_client

    settings = settings_of(ctx)
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        raise click.ClickException("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set: nothing to check "
                                   "(the console transport needs no account).")
    # Tests and benchmarks plant a client aimed at a local fake Twilio; the real API is never called then.
    client = board_of(ctx).twilio_client or make_client(settings)
    try:
        findings = check(client, settings, fix=fix)
    except Exception as exc:
        raise click.ClickException(f"could not reach Twilio: {exc.__class__.__name__}: {exc}") from None
    for finding in findings:
        click.echo(f"{'ok ' if finding.ok else 'NO '} {finding.text}")
    if not all(finding.ok for finding in findings):
        ctx.exit(1)
