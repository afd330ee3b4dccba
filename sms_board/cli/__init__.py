"""The `sms-board` command line. Its commands are a contract (README, "Command line"): scripts rely on them.

With `--json`, standard output is exactly one JSON document; logs and progress
go to standard error. Each module holds the commands of one concern and only
wires the domain to the terminal: it parses, calls, prints.
"""

from __future__ import annotations

import sys

import click

from sms_board.cli import (
    campaign_commands,
    clock,
    database,
    helpers,
    people,
    posters,
    reports,
    subscribers,
    texts,
    twilio,
    voice,
    web,
)
from sms_board.plumbing.config import ConfigError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sms-board")
def cli() -> None:
    """sms-board: an SMS-first neighbourhood noticeboard."""


cli.add_command(web.serve)
cli.add_command(database.db)
cli.add_command(database.demo)
cli.add_command(people.area)
cli.add_command(people.organiser)
cli.add_command(people.admin)
cli.add_command(people.consent)
cli.add_command(helpers.helper)
cli.add_command(texts.simulate)
cli.add_command(texts.outbox)
cli.add_command(texts.send)
cli.add_command(texts.segments)
cli.add_command(campaign_commands.digest_command)
cli.add_command(campaign_commands.broadcast_command)
cli.add_command(clock.tick_command)
cli.add_command(clock.clock)
cli.add_command(reports.report)
cli.add_command(reports.ledger)
cli.add_command(reports.audit)
cli.add_command(posters.poster)
cli.add_command(subscribers.subscribers)
cli.add_command(twilio.twilio)
cli.add_command(voice.call_script)


def main() -> None:
    import os

    from sms_board.plumbing.logs import configure

    configure(os.environ.get("SMS_BOARD_LOG_LEVEL") or "WARNING")
    try:
        cli(prog_name="sms-board")
    except ConfigError as exc:  # a setting read outside `board_of`, which turns it into one line itself
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
