"""`helper add|list|end`: trusted helpers recorded and ended by an organiser (docs/helpers.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from sms_board.cli.common import emit_json, phone_number, settings_of, transaction

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sms_board.models import Subscriber, TrustedHelper


@click.group()
def helper() -> None:
    """Trusted helpers: someone who reads and answers the board for a resident (docs/helpers.md)."""


@helper.command("add")
@click.argument("resident")
@click.argument("helper_number", metavar="HELPER")
@click.option("--consent", required=True, metavar="TEXT",
              help='How the resident agreed, e.g. "asked in person by Ruth, 3 Dec".')
@click.pass_context
def helper_add(ctx: click.Context, resident: str, helper_number: str, consent: str) -> None:
    """Ask HELPER (a mobile) to be RESIDENT's helper, with the resident's consent as the organiser took it.

    The helper is texted the proposal and must reply OK H<n>; nothing changes until they do.
    """
    from sms_board.community.trusted_helpers import record_for_resident
    from sms_board.plumbing.utc import utcnow
    from sms_board.text.templates import render

    if not consent.strip():
        raise click.BadParameter("say how the resident agreed, e.g. \"asked in person by Ruth, 3 Dec\".",
                                 param_hint="--consent")
    with transaction(ctx) as session:
        person = _person(session, phone_number(ctx, resident))
        said = record_for_resident(session, settings_of(ctx), person, helper_number, consent.strip(), utcnow(),
                                   actor=None, channel="cli")
        if not said.changed:
            raise click.ClickException(render(said.template, **said.data))
    click.echo(f"Asked {said.data['helper']} to be the helper of {person.name} ({said.data['ref']}): nothing "
               f"changes until they reply OK {said.data['ref']} (within 48 hours).", err=True)


@helper.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def helper_list(ctx: click.Context, as_json: bool) -> None:
    """Every helper, asked, agreed or finished, newest first (numbers masked)."""
    from sms_board.community.trusted_helpers import every_helper
    from sms_board.text.phone import mask

    with transaction(ctx) as session:
        listed = [{"ref": row.ref, "status": str(row.status), "resident": row.resident.name or "",
                   "resident_number": mask(row.resident.phone), "helper": row.helper.name or "",
                   "helper_number": mask(row.helper.phone), "asked_by": row.asked_by,
                   "consent": row.resident_words, "proposed_at": row.proposed_at.isoformat(),
                   "ended_by": row.ended_by} for row in every_helper(session)]
    if as_json:
        emit_json(listed)
        return
    for entry in listed:
        click.echo(f"{entry['ref']}\t{entry['status']}\t{entry['resident']} {entry['resident_number']}\t"
                   f"helper {entry['helper']} {entry['helper_number']}\tasked by {entry['asked_by']}")


@helper.command("end")
@click.argument("ref")
@click.pass_context
def helper_end(ctx: click.Context, ref: str) -> None:
    """End helper REF (H4) at once. Nobody is told: tell the resident and the helper yourself if they should know."""
    from sms_board.community.trusted_helpers import end_by_organiser
    from sms_board.plumbing.utc import utcnow

    with transaction(ctx) as session:
        row = _helper_row(session, ref)
        ended = end_by_organiser(session, row, utcnow(), actor=None, channel="cli")
        status = str(row.status)
    click.echo(f"Ended {ref.upper()}; nobody is told." if ended else f"{ref.upper()} had already {status}.", err=True)


@helper.command("confirm")
@click.argument("ref")
@click.pass_context
def helper_confirm(ctx: click.Context, ref: str) -> None:
    """Confirm helper REF for a resident on a landline, when the board asks after 12 months (they said so)."""
    from sms_board.community.trusted_helpers import confirm
    from sms_board.plumbing.utc import utcnow

    with transaction(ctx) as session:
        row = _helper_row(session, ref)
        said = confirm(session, row, utcnow())
        ref = row.ref
    click.echo(f"{ref} goes on for another 12 months." if said.changed else f"{ref} is not waiting to be confirmed.",
               err=True)


def _helper_row(session: Session, ref: str) -> TrustedHelper:
    from sms_board.community.trusted_helpers import helper_ref
    from sms_board.models import TrustedHelper

    number = helper_ref(ref)
    if number is None:
        raise click.BadParameter(f"{ref!r} is not a helper's ref; write it as H4 (see `sms-board helper list`).",
                                 param_hint="REF")
    row = session.get(TrustedHelper, number)
    if row is None:
        raise click.ClickException(f"no helper {ref.upper()}; see `sms-board helper list`.")
    return row


def _person(session: Session, phone: str) -> Subscriber:
    from sqlalchemy import select

    from sms_board.models import Subscriber
    from sms_board.text.phone import mask

    found = session.scalar(select(Subscriber).where(Subscriber.phone == phone))
    if found is None:
        raise click.ClickException(f"nobody on the board has the number {mask(phone)}: enrol the resident first.")
    return found
