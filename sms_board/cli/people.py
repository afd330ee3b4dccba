"""Areas and the people in them: `area add|set|list|invite`, `organiser add`, `admin add`, `consent`."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

from sms_board.cli.common import (
    area_or_fail,
    echo,
    emit_json,
    phone_number,
    settings_of,
    transaction,
)
from sms_board.community.areas import AreaError
from sms_board.community.invites import MAX_DAYS, MAX_USES
from sms_board.models import Moderation
from sms_board.text.languages import listed

if TYPE_CHECKING:
    from sms_board.community.subscriptions import ConsentRecord

# Which option or argument to blame when `create_area` refuses one of its inputs.
_AREA_PARAMS = {"slug": "SLUG", "timezone": "--timezone", "postcode": "--postcode", "moderation": "--moderation",
                "languages": "--languages"}
_LANGUAGES_HELP = ("Only some of the board's languages (SMS_BOARD_LANGUAGES), e.g. cy: texts to its people whose "
                   "language is not known go in these.")


@click.group()
def area() -> None:
    """Areas residents join."""


@area.command("add")
@click.argument("slug")
@click.argument("name")
@click.option("--postcode", "postcodes", multiple=True, help="Postcode prefix (outward code such as SE6, or SE6 1).")
@click.option("--timezone", default=None, help="Time zone of the area (default: SMS_BOARD_TIMEZONE).")
@click.option("--private", is_flag=True, help="Not listed; joined by invite code only.")
@click.option("--moderation", type=click.Choice([m.value for m in Moderation]), default=Moderation.OPEN.value,
              show_default=True)
@click.option("--public-page/--no-public-page", "public_page", default=True, show_default=True,
              help="Show its posts, with first names, to anyone at /board/SLUG (never for a private area).")
@click.option("--languages", default=None, metavar="CODES", help=_LANGUAGES_HELP)
@click.pass_context
def area_add(
    ctx: click.Context, slug: str, name: str, postcodes: tuple[str, ...], timezone: str | None, private: bool,
    moderation: str, public_page: bool, languages: str | None,
) -> None:
    """Create an area."""
    from sms_board.community import audit
    from sms_board.community.areas import create_area
    from sms_board.plumbing.utc import utcnow

    try:
        with transaction(ctx) as session:
            added = create_area(
                session, slug, name, postcodes=postcodes, timezone=timezone or settings_of(ctx).timezone,
                private=private, moderation=moderation, public_page=public_page, languages=languages,
                board_languages=settings_of(ctx).languages,
            )
            audit.area_added(session, added, utcnow(), actor=None, channel="cli")
            prefixes = [p.prefix for p in added.postcodes]
    except AreaError as exc:
        raise _refusal(exc) from None
    served = " with postcodes " + ", ".join(prefixes) if prefixes else ""
    spoken = f", speaking {listed(added.languages.split(','))} only" if added.languages else ""
    click.echo(f"Added area {added.slug} ({name}){served}{spoken}.", err=True)


def _refusal(exc: AreaError) -> click.ClickException:
    """One line naming the option at fault, or the clash with an area already stored."""
    if exc.field is None:
        return click.ClickException(str(exc))
    return click.BadParameter(str(exc), param_hint=_AREA_PARAMS[exc.field])


@area.command("set")
@click.argument("slug")
@click.option("--public-page/--no-public-page", "public_page", default=None,
              help="Show its posts, with first names, to anyone at /board/SLUG, or stop.")
@click.option("--languages", default=None, metavar="CODES",
              help=_LANGUAGES_HELP + " Naming all of them lifts the narrowing.")
@click.pass_context
def area_set(ctx: click.Context, slug: str, public_page: bool | None, languages: str | None) -> None:
    """Change an existing area (written to the audit log)."""
    from sms_board.community import audit
    from sms_board.community.areas import set_languages, set_public_page
    from sms_board.plumbing.utc import utcnow

    if public_page is None and languages is None:
        raise click.UsageError("say what to change: --public-page, --no-public-page or --languages.")
    board = settings_of(ctx).languages
    try:
        with transaction(ctx) as session:
            found = area_or_fail(session, slug)
            changes: dict[str, Any] = {}
            if public_page is not None and set_public_page(found, public_page):
                changes["public_page"] = public_page
            if languages is not None and set_languages(found, board, languages):
                changes["languages"] = found.languages
            if changes:
                audit.area_changed(session, found, utcnow(), actor=None, channel="cli", **changes)
            name, page, spoken = found.name, f"/board/{found.slug}", found.languages
    except AreaError as exc:
        raise _refusal(exc) from None
    if public_page is not None:
        click.echo(_page_said(name, page, public_page, changed="public_page" in changes), err=True)
    if languages is not None:
        codes = spoken.split(",") if spoken else board
        now = "now speaks" if "languages" in changes else "already speaks"
        click.echo(f"{name} {now} {listed(codes)}{' only' if spoken else ''}.", err=True)


def _page_said(name: str, page: str, on: bool, *, changed: bool) -> str:
    if not changed:
        return f"{name} already {'has a' if on else 'has no'} public page."
    if on:
        return f"{name} has a public page now: anyone can read its posts, with first names, at {page}."
    return f"{name} has no public page now: {page} is gone and welcomes no longer mention it."


@area.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def area_list(ctx: click.Context, as_json: bool) -> None:
    """Areas and their active subscriber counts."""
    from sms_board.community.areas import area_summaries

    board = settings_of(ctx).languages
    with transaction(ctx) as session:
        rows = [{**asdict(summary), "languages": summary.languages.split(",") if summary.languages else list(board)}
                for summary in area_summaries(session)]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("No areas yet. Add one with: sms-board area add SLUG NAME --postcode SE6")
    for row in rows:
        no_page = "no public page" if not row["public_page"] and not row["private"] else ""
        # Which languages it speaks, on a board that speaks more than one.
        spoken = " ".join(row["languages"]) if len(board) > 1 else ""
        flags = ", ".join(f for f in ("private" if row["private"] else "", no_page, row["moderation"], spoken) if f)
        noun = "subscriber" if row["subscribers"] == 1 else "subscribers"
        click.echo(f"{row['slug']:<16} {row['name']:<28} {row['subscribers']:>6} {noun:<11}  [{flags}]  "
                   f"{' '.join(row['postcodes'])}")


@area.command("invite")
@click.argument("slug")
@click.option("--uses", default=1, show_default=True, type=click.IntRange(1, MAX_USES),
              help="How many residents may join with it.")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, MAX_DAYS), help="How many days it works.")
@click.pass_context
def area_invite(ctx: click.Context, slug: str, uses: int, days: int) -> None:
    """An invite code for a private area, printed on its own line (JOIN SLUG <code>)."""
    from sms_board.community.invites import InviteError, make_invite
    from sms_board.plumbing.utc import utcnow

    try:
        with transaction(ctx) as session:
            found = area_or_fail(session, slug)
            code = make_invite(session, settings_of(ctx), found, utcnow(), uses=uses, days=days)
            keyword = f"JOIN {found.slug.upper()} {code}"
    except InviteError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(code)
    click.echo(f"Residents text: {keyword} ({uses} use{'s' if uses != 1 else ''}, {days} day{'s' if days != 1 else ''}). "
               "Only a hash of the code is kept: note it now.", err=True)


@click.group()
def organiser() -> None:
    """Organisers broadcast to and moderate their areas."""


@organiser.command("add")
@click.argument("number")
@click.argument("area_slug", metavar="AREA")
@click.pass_context
def organiser_add(ctx: click.Context, number: str, area_slug: str) -> None:
    """Make NUMBER an organiser of AREA."""
    from sms_board.community import audit
    from sms_board.community.people import appoint_organiser
    from sms_board.plumbing.utc import utcnow
    from sms_board.text.phone import mask

    phone = phone_number(ctx, number)
    with transaction(ctx) as session:
        found = area_or_fail(session, area_slug)
        added = appoint_organiser(session, phone, found, utcnow())
        if added:
            audit.organiser_added(session, found, phone, utcnow(), actor=None, channel="cli")
    click.echo(f"{mask(phone)} is {'now' if added else 'already'} an organiser of {found.name}.", err=True)


@click.group()
def admin() -> None:
    """Administrators (dashboard sign-in for every area)."""


@admin.command("add")
@click.argument("number")
@click.pass_context
def admin_add(ctx: click.Context, number: str) -> None:
    """Make NUMBER an administrator."""
    from sms_board.community import audit
    from sms_board.community.people import appoint_admin
    from sms_board.plumbing.utc import utcnow
    from sms_board.text.phone import mask

    phone = phone_number(ctx, number)
    with transaction(ctx) as session:
        added = appoint_admin(session, phone, utcnow())
        if added:
            audit.admin_added(session, phone, utcnow(), actor=None, channel="cli")
    click.echo(f"{mask(phone)} is {'now' if added else 'already'} an administrator.", err=True)


@click.command()
@click.argument("number")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def consent(ctx: click.Context, number: str, as_json: bool) -> None:
    """A number's consent history: every join, leave, opt-out and opt-in, with its words; and its language."""
    from sms_board.community.languages import language_history
    from sms_board.community.subscriptions import consent_history

    phone = phone_number(ctx, number)
    with transaction(ctx) as session:
        history = consent_history(session, phone)
        language, choices = language_history(session, phone)
        chosen = [{"at": c.created_at.isoformat(timespec="seconds"), "language": c.language, "channel": c.channel,
                   "wording": c.wording} for c in choices]
    if history is None:
        raise click.ClickException(f"{number} has never texted or been added to the board.")
    events = [_consent_event(event) for event in history.events]
    opted_out = history.opted_out_at.isoformat(timespec="seconds") if history.opted_out_at else None
    if as_json:
        emit_json({"number": phone, "opted_out_at": opted_out, "events": events, "language": language,
                   "language_choices": chosen})
        return
    click.echo(f"{phone}: {'opted out since ' + opted_out if opted_out else 'may be texted'}")
    board = settings_of(ctx).languages
    if len(board) > 1 or chosen:
        click.echo(f"  language: {listed([language])}" if language else
                   f"  language: not known: texts go in each of {', '.join(board)}")
    lines = [(event["at"], f"{event['action']:<9}{(' ' + event['area']) if event['area'] else '':<12} "
                           f"via {event['channel']:<7} \"{event['words']}\"") for event in events]
    lines += [(c["at"], f"{'language':<9}{' ' + c['language']:<12} via {c['channel']:<7} \"{c['wording']}\"")
              for c in chosen]
    for at, line in sorted(lines, key=lambda pair: pair[0]):
        echo(f"  {at}  {line}")


def _consent_event(event: ConsentRecord) -> dict[str, Any]:
    return {**asdict(event), "at": event.at.isoformat(timespec="seconds")}
