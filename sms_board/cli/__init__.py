"""The `sms-board` command line. Its commands are a contract (SPEC §4): scripts call them as documented.

With `--json`, standard output is exactly one JSON document; logs and progress
go to standard error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from sms_board.board import Board
from sms_board.config import ConfigError, Settings


def _board(ctx: click.Context) -> Board:
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


def _settings(ctx: click.Context) -> Settings:
    return _board(ctx).settings


@contextmanager
def _session(ctx: click.Context) -> Iterator[Session]:
    factory = _board(ctx).sessions
    try:
        with factory.begin() as session:
            yield session
    except OperationalError as exc:
        raise click.ClickException(
            f"the database is not ready ({exc.orig.__class__.__name__}): run `sms-board db upgrade` first, "
            "and check DATABASE_URL."
        ) from None


def _verbose() -> None:
    """Long-running processes log what they do; one-shot commands only warn."""
    import logging
    import os

    os.environ.setdefault("SMS_BOARD_LOG_LEVEL", "INFO")
    logging.getLogger().setLevel(os.environ["SMS_BOARD_LOG_LEVEL"].upper())


def _emit_json(document: Any) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=None, default=str))


def _normalise_or_fail(ctx: click.Context, number: str) -> str:
    from sms_board.phone import normalise

    phone = normalise(number, _settings(ctx).default_region)
    if phone is None:
        raise click.BadParameter(f"{number!r} is not a phone number; write it as +447700900123.", param_hint="NUMBER")
    return phone


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sms-board")
def cli() -> None:
    """sms-board: an SMS-first neighbourhood noticeboard."""


# ── web ────────────────────────────────────────────────────────────────────


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Run the web app (development server; production uses gunicorn, see the Procfile)."""
    _verbose()
    from sms_board.app import build_app

    app = build_app(board=_board(ctx))
    if "simulator" in app.blueprints:
        click.echo(f"Simulator: http://{host}:{port}/simulator", err=True)
    app.run(host=host, port=port, threaded=True, use_reloader=False)


# ── database ───────────────────────────────────────────────────────────────


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply Alembic migrations (creates the SQLite file if needed)."""
    from sms_board.migrate import upgrade

    engine = _board(ctx).engine
    try:
        upgrade(engine)
    except OperationalError as exc:
        raise click.ClickException(f"cannot reach the database: {exc.orig}. Check DATABASE_URL.") from None
    click.echo(f"Database is up to date ({engine.url.render_as_string(hide_password=True)}).", err=True)


# ── areas and people ───────────────────────────────────────────────────────


@cli.group()
def area() -> None:
    """Areas residents join."""


@area.command("add")
@click.argument("slug")
@click.argument("name")
@click.option("--postcode", "postcodes", multiple=True, help="Postcode prefix (outward code such as SE6, or SE6 1).")
@click.option("--timezone", default=None, help="Time zone of the area (default: SMS_BOARD_TIMEZONE).")
@click.option("--private", is_flag=True, help="Not listed; joined by invite code only.")
@click.option("--moderation", type=click.Choice(["open", "first", "all"]), default="open", show_default=True)
@click.pass_context
def area_add(
    ctx: click.Context, slug: str, name: str, postcodes: tuple[str, ...], timezone: str | None, private: bool,
    moderation: str,
) -> None:
    """Create an area."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from sms_board.community.areas import normalise_prefix, valid_slug
    from sms_board.models import Area, AreaPostcode

    slug = slug.lower()
    if not valid_slug(slug):
        raise click.BadParameter("use lower-case letters, digits and hyphens, e.g. elm or elm-street.", param_hint="SLUG")
    zone = timezone or _settings(ctx).timezone
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"{zone!r} is not a time zone; use e.g. Europe/London.", param_hint="--timezone") from None
    try:
        prefixes = sorted({normalise_prefix(p) for p in postcodes})
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--postcode") from None
    try:
        with _session(ctx) as session:
            if session.scalar(select(Area).where(Area.slug == slug)):
                raise click.ClickException(f"an area with slug {slug!r} already exists.")
            taken = session.scalars(select(AreaPostcode).where(AreaPostcode.prefix.in_(prefixes))).all()
            if taken:
                raise click.ClickException(
                    "postcode prefix already served by another area: " + ", ".join(p.prefix for p in taken)
                )
            new = Area(slug=slug, name=name.strip(), timezone=zone, private=private, moderation=moderation)
            new.postcodes = [AreaPostcode(prefix=p) for p in prefixes]
            session.add(new)
    except IntegrityError:
        raise click.ClickException(f"area {slug!r} or one of its postcodes already exists.") from None
    click.echo(f"Added area {slug} ({name}){' with postcodes ' + ', '.join(prefixes) if prefixes else ''}.", err=True)


@area.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def area_list(ctx: click.Context, as_json: bool) -> None:
    """Areas and their active subscriber counts."""
    from sqlalchemy import func

    from sms_board.models import Area, Subscription, SubscriptionStatus

    with _session(ctx) as session:
        counts = dict(
            session.execute(
                select(Subscription.area_id, func.count())
                .where(Subscription.status == SubscriptionStatus.ACTIVE.value)
                .group_by(Subscription.area_id)
            ).all()
        )
        rows = [
            {
                "slug": a.slug, "name": a.name, "subscribers": counts.get(a.id, 0), "private": a.private,
                "moderation": a.moderation, "postcodes": [p.prefix for p in a.postcodes], "timezone": a.timezone,
            }
            for a in session.scalars(select(Area).order_by(Area.slug))
        ]
    if as_json:
        _emit_json(rows)
        return
    if not rows:
        click.echo("No areas yet. Add one with: sms-board area add SLUG NAME --postcode SE6")
    for row in rows:
        flags = ", ".join(f for f in ("private" if row["private"] else "", row["moderation"]) if f)
        click.echo(f"{row['slug']:<16} {row['name']:<28} {row['subscribers']:>6} subscribers  [{flags}]  "
                   f"{' '.join(row['postcodes'])}")


@cli.group()
def organiser() -> None:
    """Organisers broadcast to and moderate their areas."""


@organiser.command("add")
@click.argument("number")
@click.argument("area_slug", metavar="AREA")
@click.pass_context
def organiser_add(ctx: click.Context, number: str, area_slug: str) -> None:
    """Make NUMBER an organiser of AREA."""
    from sms_board.community.subscriptions import get_or_create_subscriber
    from sms_board.models import Area, Organiser
    from sms_board.phone import mask
    from sms_board.utc import utcnow

    phone = _normalise_or_fail(ctx, number)
    with _session(ctx) as session:
        found = session.scalar(select(Area).where(Area.slug == area_slug.lower()))
        if found is None:
            raise click.ClickException(f"no area {area_slug!r}; see `sms-board area list`.")
        person = get_or_create_subscriber(session, phone, utcnow())
        exists = session.scalar(
            select(Organiser).where(Organiser.subscriber_id == person.id, Organiser.area_id == found.id)
        )
        if exists is None:
            session.add(Organiser(subscriber_id=person.id, area_id=found.id))
    click.echo(f"{mask(phone)} is an organiser of {found.name}.", err=True)


@cli.group()
def admin() -> None:
    """Administrators (dashboard sign-in for every area)."""


@admin.command("add")
@click.argument("number")
@click.pass_context
def admin_add(ctx: click.Context, number: str) -> None:
    """Make NUMBER an administrator."""
    from sms_board.community.subscriptions import get_or_create_subscriber
    from sms_board.phone import mask
    from sms_board.utc import utcnow

    phone = _normalise_or_fail(ctx, number)
    with _session(ctx) as session:
        get_or_create_subscriber(session, phone, utcnow()).is_admin = True
    click.echo(f"{mask(phone)} is an administrator.", err=True)


@cli.command()
@click.argument("number")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def consent(ctx: click.Context, number: str, as_json: bool) -> None:
    """A number's consent history: every join, leave, opt-out and opt-in, with its words."""
    from sms_board.models import Area, ConsentEvent, Subscriber

    phone = _normalise_or_fail(ctx, number)
    with _session(ctx) as session:
        person = session.scalar(select(Subscriber).where(Subscriber.phone == phone))
        if person is None:
            raise click.ClickException(f"{number} has never texted or been added to the board.")
        areas = {a.id: a.slug for a in session.scalars(select(Area))}
        events = [
            {
                "at": e.created_at.isoformat(timespec="seconds"), "action": e.action,
                "area": areas.get(e.area_id) if e.area_id else None, "channel": e.channel,
                "words": e.words, "wording": e.wording,
            }
            for e in session.scalars(
                select(ConsentEvent).where(ConsentEvent.subscriber_id == person.id).order_by(ConsentEvent.id)
            )
        ]
        opted_out = person.opted_out_at.isoformat(timespec="seconds") if person.opted_out_at else None
    if as_json:
        _emit_json({"number": phone, "opted_out_at": opted_out, "events": events})
        return
    click.echo(f"{phone}: {'opted out since ' + opted_out if opted_out else 'may be texted'}")
    for event in events:
        where = f" {event['area']}" if event["area"] else ""
        click.echo(f"  {event['at']}  {event['action']:<9}{where:<12} via {event['channel']:<7} \"{event['words']}\"")


# ── texts in and out ───────────────────────────────────────────────────────


@cli.command()
@click.argument("from_number", metavar="FROM")
@click.argument("body")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def simulate(ctx: click.Context, from_number: str, body: str, as_json: bool) -> None:
    """Run one inbound text through the webhook's pipeline and print the replies."""
    from sms_board.inbound import new_message_sid, receive

    settings = _settings(ctx)
    factory = _board(ctx).sessions
    params = {
        "MessageSid": new_message_sid(), "From": from_number, "To": settings.board_number or "+447700900000",
        "Body": body, "NumMedia": "0", "SmsStatus": "received",
    }
    try:
        result = receive(factory, settings, params)
    except OperationalError as exc:
        raise click.ClickException(f"the database is not ready ({exc.orig}): run `sms-board db upgrade` first.") from None
    if as_json:
        _emit_json({"replies": result.replies})
        return
    if not result.replies:
        click.echo("(no reply)", err=True)
    for reply in result.replies:
        click.echo(reply)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--status", "status", default=None, help="Only rows with this status.")
@click.pass_context
def outbox(ctx: click.Context, as_json: bool, status: str | None) -> None:
    """Queued and sent texts (full numbers: the CLI is for operators)."""
    from sms_board.models import Outbox, OutboxStatus

    if status and status not in {s.value for s in OutboxStatus}:
        raise click.BadParameter(f"use one of {', '.join(s.value for s in OutboxStatus)}.", param_hint="--status")
    with _session(ctx) as session:
        query = select(Outbox).order_by(Outbox.id)
        if status:
            query = query.where(Outbox.status == status)
        rows = [
            {
                "id": r.id, "to": r.to_number, "body": r.body, "kind": r.kind, "status": r.status,
                "segments": r.segments, "encoding": r.encoding, "attempts": r.attempts,
                "error_code": r.error_code, "created_at": r.created_at.isoformat(),
            }
            for r in session.scalars(query)
        ]
    if as_json:
        _emit_json(rows)
        return
    if not rows:
        click.echo("The outbox is empty.", err=True)
    for row in rows:
        first_line = row["body"].splitlines()[0] if row["body"] else ""
        click.echo(f"{row['id']:>6} {row['status']:<11} {row['kind']:<9} {row['to']:<16} "
                   f"{row['segments']}×{row['encoding']:<5} {first_line[:60]}")


@cli.command()
@click.option("--forever", is_flag=True, help="Keep draining as texts arrive (the Procfile worker).")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between looks at an empty outbox.")
@click.pass_context
def send(ctx: click.Context, forever: bool, poll: float) -> None:
    """Drain the outbox through the transport at SMS_BOARD_RATE."""
    import signal
    import threading

    from sms_board.sending.sender import DrainReport, drain

    if forever:
        _verbose()
    board = _board(ctx)
    settings = board.settings
    factory = board.sessions
    transport = board.transport
    stop = threading.Event()
    if forever and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())  # a deploy: finish the sends in flight, then go
    live = sys.stderr.isatty() and not forever

    def progress(report: DrainReport) -> None:
        if live:
            click.echo(f"\r{_send_counts(report)}", err=True, nl=False)

    try:
        while not stop.is_set():
            report = drain(factory, transport, settings, progress=progress, stop=stop)
            if live and report.handled:
                click.echo("", err=True)
            if report.stopped_because:
                message = f"Twilio refused the account: {report.stopped_because}. Check the TWILIO_* settings."
                if not forever:
                    raise click.ClickException(message)
                click.echo(f"{message} Trying again in a minute.", err=True)
                stop.wait(60)
            elif forever:
                if report.handled or report.cancelled:
                    click.echo(_send_counts(report), err=True)
                stop.wait(poll)
            else:
                click.echo(f"Done: {_send_counts(report)}.", err=True)
                if report.failed or report.unknown:
                    click.echo("See them with: sms-board outbox --status failed (or unknown)", err=True)
                return
        click.echo("Stopped.", err=True)
    except KeyboardInterrupt:
        click.echo("\nStopped.", err=True)
    except OperationalError as exc:
        raise click.ClickException(f"the database is not ready ({exc.orig}): run `sms-board db upgrade` first.") from None


def _send_counts(report: Any) -> str:
    return (f"{report.sent} sent, {report.retried} to retry, {report.failed} failed, "
            f"{report.unknown} unknown, {report.cancelled} cancelled")


@cli.command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True)
@click.option("--smart", is_flag=True, help="Map characters to GSM-7 equivalents first, as Smart Encoding does.")
def segments(text: str, as_json: bool, smart: bool) -> None:
    """How many SMS segments TEXT costs, and in which encoding."""
    from sms_board.segments import analyse, smart_encode

    info = analyse(smart_encode(text) if smart else text)
    document = info.as_dict()
    if not smart:
        document["text"] = text
    if as_json:
        _emit_json(document)
        return
    click.echo(f"{info.segments} segment{'s' if info.segments != 1 else ''}, {info.encoding}, "
               f"{info.characters} characters")
    if smart:
        click.echo(info.text)


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Seed a demo neighbourhood (Ofcom drama numbers only); safe to run twice."""
    from sms_board.demo import seed

    with _session(ctx) as session:
        created = seed(session, _settings(ctx))
    click.echo("Demo neighbourhood ready." if created else "Demo neighbourhood already there.", err=True)


@cli.command()
@click.option("--area", "area_slug", default=None, help="Only this area.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="From this date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True, help="One row per exchange (names, never numbers).")
@click.pass_context
def ledger(ctx: click.Context, area_slug: str | None, since: Any, as_json: bool, as_csv: bool) -> None:
    """Who helped whom: exchanges, hours, givers, receivers and new connections."""
    import csv
    from datetime import UTC

    from sms_board.community.exchange import ledger as build_ledger
    from sms_board.models import Area

    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv.")
    with _session(ctx) as session:
        chosen = None
        if area_slug:
            chosen = session.scalar(select(Area).where(Area.slug == area_slug.lower()))
            if chosen is None:
                raise click.ClickException(f"no area {area_slug!r}; see `sms-board area list`.")
        report = build_ledger(session, chosen, since.replace(tzinfo=UTC) if since else None)
    if as_json:
        _emit_json(report)
        return
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=["when", "area", "ref", "giver", "receiver", "hours",
                                                        "description"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(report["rows"])  # type: ignore[arg-type]
        return
    scope = f" in {area_slug}" if area_slug else ""
    period = f" since {report['since']}" if report["since"] else ""
    click.echo(f"Ledger{scope}{period}:")
    click.echo(f"  exchanges        {report['exchanges']}")
    click.echo(f"  hours            {report['hours']:g}")
    click.echo(f"  people who gave  {report['givers']}")
    click.echo(f"  who received     {report['receivers']}")
    click.echo(f"  who did both     {report['both']}")
    click.echo(f"  new connections  {report['new_connections']}")


# ── campaigns and the clock ────────────────────────────────────────────────


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _local_time(moment: Any, settings: Settings) -> str:
    return moment.astimezone(settings.zone).strftime("%H:%M")


def _require_schema(ctx: click.Context) -> None:
    """Long-running and scheduled commands stop at once, with one line, on an unmigrated database."""
    from sqlalchemy import func
    from sqlalchemy.exc import ProgrammingError

    from sms_board.models import Campaign, Heartbeat

    try:
        with _session(ctx) as session:
            session.scalar(select(func.count()).select_from(Campaign))
            session.scalar(select(func.count()).select_from(Heartbeat))
    except (OperationalError, ProgrammingError) as exc:
        raise click.ClickException(
            f"the database is not ready ({exc.orig.__class__.__name__}): run `sms-board db upgrade` first."
        ) from None


@cli.command("tick")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def tick_command(ctx: click.Context, as_json: bool) -> None:
    """Run every due job once, exactly what `clock` does each minute (for cron-style hosting)."""
    from sms_board.clock.jobs import tick
    from sms_board.utc import utcnow

    _require_schema(ctx)
    counts = tick(_board(ctx).sessions, _settings(ctx), utcnow())
    if as_json:
        _emit_json(counts)
    else:
        for name, count in counts.items():
            click.echo(f"{name}: {count}")
    if counts.get("errors"):
        click.echo(f"{counts['errors']} job(s) failed; see the log above.", err=True)
        ctx.exit(1)


@cli.command("digest")
@click.option("--area", "area_slug", default=None, help="Only this area.")
@click.option("--dry-run", is_flag=True, help="Say what would be sent, and how long it takes; send nothing.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def digest_command(ctx: click.Context, area_slug: str | None, dry_run: bool, as_json: bool) -> None:
    """Send digests now to everyone with something new, whatever their schedule."""
    from sms_board.broadcast.digest_runs import digest_now
    from sms_board.broadcast.digest_runs import dry_run as plan_run
    from sms_board.models import Area
    from sms_board.utc import utcnow

    settings = _settings(ctx)
    now = utcnow()
    with _session(ctx) as session:
        if area_slug is not None and session.scalar(select(Area.id).where(Area.slug == area_slug.lower())) is None:
            raise click.ClickException(f"no area {area_slug!r}; see `sms-board area list`.")
        planned = plan_run(session, settings, now, area_slug.lower() if area_slug else None) if dry_run else None
    unit = "segments" if settings.rate_unit == "segment" else "texts"
    if planned is not None:
        rows = [
            {"area": p.slug, "name": p.name, "recipients": p.recipients, "segments": p.segments,
             "seconds": round(p.seconds(settings), 1),
             "held_until": p.held_until.isoformat() if p.held_until else None}
            for p in planned
        ]
        if as_json:
            _emit_json(rows)
            return
        for p in planned:
            held = f", held until {_local_time(p.held_until, settings)} (quiet hours)" if p.held_until else ""
            click.echo(f"{p.slug:<16} {p.recipients:>7} recipients {p.segments:>8} segments  "
                       f"~{_duration(p.seconds(settings))} at {settings.rate:g} {unit}/s{held}")
        total = sum(p.seconds(settings) for p in planned)
        click.echo(f"{'total':<16} {sum(p.recipients for p in planned):>7} recipients "
                   f"{sum(p.segments for p in planned):>8} segments  ~{_duration(total)} (dry run: nothing sent)")
        return
    factory = _board(ctx).sessions
    report = digest_now(factory, settings, now, area_slug.lower() if area_slug else None)
    if as_json:
        _emit_json({"areas": report.areas, "texts": report.texts, "segments": report.segments,
                    "paused": report.paused,
                    "held_until": report.held_until.isoformat() if report.held_until else None})
        return
    for slug, texts in sorted(report.areas.items()):
        click.echo(f"{slug:<16} {texts:>7} digests")
    held = f", held until {_local_time(report.held_until, settings)} (quiet hours)" if report.held_until else ""
    click.echo(f"{report.texts} digests ({report.segments} segments) written to the outbox{held}.", err=True)
    if report.paused:
        click.echo(f"{report.paused} area(s) paused at SMS_BOARD_MONTHLY_SEGMENT_CAP; their organisers are told.",
                   err=True)


@cli.command("broadcast")
@click.option("--area", "area_slugs", multiple=True, required=True, help="Area slug (repeat for several).")
@click.option("--urgent", is_flag=True, help="Send during quiet hours too (a flood, a water cut).")
@click.option("--yes", "confirmed", is_flag=True, help="Send it; without --yes, only preview.")
@click.option("--json", "as_json", is_flag=True)
@click.argument("text", nargs=-1, required=True)
@click.pass_context
def broadcast_command(
    ctx: click.Context, area_slugs: tuple[str, ...], urgent: bool, confirmed: bool, as_json: bool,
    text: tuple[str, ...],
) -> None:
    """Preview a message to everyone in an area, or send it with --yes."""
    from sms_board.broadcast.billing import money
    from sms_board.broadcast.broadcasts import (
        create_broadcast,
        fan_out_broadcast,
        preview_broadcast,
    )
    from sms_board.models import Area
    from sms_board.utc import utcnow

    settings = _settings(ctx)
    message = " ".join(text).strip()
    if not message:
        raise click.BadParameter("write the message to send.", param_hint="TEXT")
    now = utcnow()
    slugs = sorted({slug.lower() for slug in area_slugs})
    with _session(ctx) as session:
        areas = list(session.scalars(select(Area).where(Area.slug.in_(slugs)).order_by(Area.name)))
        missing = set(slugs) - {a.slug for a in areas}
        if missing:
            raise click.ClickException(f"no area {', '.join(sorted(missing))}; see `sms-board area list`.")
        preview = preview_broadcast(session, settings, areas, message, urgent=urgent)
        campaign_id = None
        if confirmed and preview.recipients:
            campaign_id = create_broadcast(session, preview, urgent=urgent, now=now, confirmed=True).id
    texts = fan_out_broadcast(_board(ctx).sessions, settings, campaign_id, now).texts \
        if campaign_id else 0
    if as_json:
        _emit_json({
            "campaign": campaign_id, "areas": [a.slug for a in areas], "recipients": preview.recipients,
            "segments": preview.segments, "encoding": preview.body.encoding, "cost": preview.cost,
            "cost_text": money(preview.cost, settings), "body": preview.body.text, "urgent": urgent,
            "sent": campaign_id is not None, "texts": texts,
        })
        return
    names = ", ".join(a.name for a in areas)
    click.echo(f"{'URGENT broadcast' if urgent else 'Broadcast'} to {names}: {preview.recipients} recipients, "
               f"{preview.segments} segment{'s' if preview.segments != 1 else ''} ({preview.body.encoding}) each, "
               f"~{money(preview.cost, settings)}")
    click.echo(preview.body.text)
    if not confirmed:
        click.echo("Preview only: nothing sent. Add --yes to send.", err=True)
    elif campaign_id is None:
        click.echo("Nobody in those areas can get texts: nothing sent.", err=True)
    else:
        click.echo(f"Broadcast #{campaign_id}: {texts} texts written to the outbox; the sender sends them.", err=True)


@cli.command()
@click.pass_context
def clock(ctx: click.Context) -> None:
    """The scheduler process: every minute, what `sms-board tick` does once. One clock at a time."""
    from sms_board.clock.scheduler import ClockLocked, clock_lock, run_clock

    _verbose()
    board = _board(ctx)
    settings = board.settings
    _require_schema(ctx)
    try:
        with clock_lock(board.engine, settings) as lock:
            click.echo("Clock started: due jobs run every minute (Ctrl-C to stop).", err=True)
            run_clock(board.sessions, settings, lock)
    except ClockLocked as exc:
        raise click.ClickException(str(exc)) from None
    except OperationalError as exc:
        raise click.ClickException(f"cannot reach the database ({exc.orig.__class__.__name__}); check DATABASE_URL.") from None
    click.echo("Clock stopped.", err=True)


@cli.group()
def twilio() -> None:
    """The Twilio account and the number's webhooks."""


@twilio.command("check")
@click.option("--fix", is_flag=True, help="Point the number's (or service's) incoming-text URL at this board.")
@click.pass_context
def twilio_check(ctx: click.Context, fix: bool) -> None:
    """Check the credentials and where the number sends incoming texts; exits 1 if something is wrong."""
    from sms_board.sending.twilio_account import check, make_client

    settings = _settings(ctx)
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        raise click.ClickException("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set: nothing to check "
                                   "(the console transport needs no account).")
    # Tests and benchmarks plant a client aimed at a local fake Twilio; the real API is never called then.
    client = _board(ctx).twilio_client or make_client(settings)
    try:
        findings = check(client, settings, fix=fix)
    except Exception as exc:
        raise click.ClickException(f"could not reach Twilio: {exc.__class__.__name__}: {exc}") from None
    for finding in findings:
        click.echo(f"{'ok ' if finding.ok else 'NO '} {finding.text}")
    if not all(finding.ok for finding in findings):
        ctx.exit(1)


def main() -> None:
    try:
        cli(prog_name="sms-board")
    except ConfigError as exc:  # raised lazily by settings access outside _app
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
