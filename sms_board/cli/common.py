"""What every command shares: the board it works on, its database session, JSON output, numbers.

Commands import the domain modules they use inside their bodies, so that
`sms-board --help` and one-shot commands do not load Flask, APScheduler or twilio.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from sms_board.plumbing.board import Board
from sms_board.plumbing.config import ConfigError, Settings
from sms_board.text.words import BIDI_CONTROLS, without_bidi

if TYPE_CHECKING:
    from sms_board.models import Area


def board_of(ctx: click.Context) -> Board:
    """The board this command works on: the one a test passed as `obj`, else one built from the environment."""
    root = ctx.find_root()
    if isinstance(root.obj, Board):
        return root.obj
    try:
        board = Board.load()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    root.obj = board
    return board


def settings_of(ctx: click.Context) -> Settings:
    return board_of(ctx).settings


def not_ready(ctx: click.Context) -> click.ClickException:
    """The one line for a database that does not answer or is not migrated, saying which and what to do."""
    from sms_board.plumbing.migrate import database_state

    engine = board_of(ctx).engine
    state = database_state(engine)
    if state.ok:  # migrated and answering, yet the command failed on it: say what the driver said
        return click.ClickException("the database refused the command; check DATABASE_URL and the server's log.")
    return click.ClickException(state.line(engine))


@contextmanager
def transaction(ctx: click.Context) -> Iterator[Session]:
    """One unit of work, committed at the end; an unreachable or unmigrated database is one line."""
    factory = board_of(ctx).sessions
    try:
        with factory.begin() as session:
            yield session
    except (OperationalError, ProgrammingError):
        raise not_ready(ctx) from None


_READY_RETRIES = 3


def require_schema(ctx: click.Context) -> None:
    """Long-running and scheduled commands stop at once, with one line, unless the database is ready."""
    import time

    from sms_board.plumbing.migrate import database_state

    engine = board_of(ctx).engine
    state = database_state(engine)
    for _ in range(_READY_RETRIES):
        if state.status != "unreachable":
            break
        # One dropped connection (a database restart, a killed backend) is not an unreachable
        # database: look again before giving up.
        time.sleep(0.5)
        state = database_state(engine)
    if not state.ok:
        raise click.ClickException(state.line(engine))


def verbose_logging() -> None:
    """Long-running processes log what they do; one-shot commands only warn."""
    os.environ.setdefault("SMS_BOARD_LOG_LEVEL", "INFO")
    logging.getLogger().setLevel(os.environ["SMS_BOARD_LOG_LEVEL"].upper())


def emit_json(document: Any) -> None:
    """The one JSON document a `--json` command writes to standard output.

    Bidi controls in it are written as `\u202e` escapes: the data is the same for a program
    reading it, and a terminal shows the text in the order it was typed.
    """
    written = json.dumps(document, ensure_ascii=False, indent=None, default=str)
    click.echo("".join(f"\\u{ord(ch):04x}" if ch in BIDI_CONTROLS else ch for ch in written))


def echo(line: str, **kwargs: Any) -> None:
    """`click.echo` for a line that holds words people wrote: without bidi controls, so a
    `\u202e0001` in a text shows as typed, not as 1000."""
    click.echo(without_bidi(line), **kwargs)


def phone_number(ctx: click.Context, number: str) -> str:
    """NUMBER in E.164, or a usage error saying how to write it."""
    from sms_board.text.phone import normalise

    phone = normalise(number, settings_of(ctx).default_region)
    if phone is None:
        raise click.BadParameter(f"{number!r} is not a phone number; write it as +447700900123.", param_hint="NUMBER")
    return phone


def no_such_area(named: str) -> click.ClickException:
    return click.ClickException(f"no area {named}; see `sms-board area list`.")


def area_or_fail(session: Session, slug: str) -> Area:
    """The area an operator named by slug, or one line pointing at `area list`."""
    from sms_board.community.areas import area_by_slug

    found = area_by_slug(session, slug)
    if found is None:
        raise no_such_area(repr(slug))
    return found
