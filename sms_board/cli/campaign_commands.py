"""Texts to whole areas: `digest` and `broadcast`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import click

from sms_board.cli.common import (
    area_or_fail,
    board_of,
    emit_json,
    no_such_area,
    settings_of,
    transaction,
)

if TYPE_CHECKING:
    from sms_board.broadcast.broadcasts import FanOutReport, Preview
    from sms_board.broadcast.digest_batches import DigestReport
    from sms_board.broadcast.digest_runs import DryRun
    from sms_board.models import Area
    from sms_board.plumbing.config import Settings


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _held(held_until: datetime | None, settings: Settings) -> str:
    from sms_board.sending.quiet import held_phrase

    return f", {held_phrase(held_until, settings.zone)}" if held_until else ""


# ── digest ─────────────────────────────────────────────────────────────────


@click.command("digest")
@click.option("--area", "area_slug", default=None, help="Only this area.")
@click.option("--dry-run", is_flag=True, help="Say what would be sent, and how long it takes; send nothing.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def digest_command(ctx: click.Context, area_slug: str | None, dry_run: bool, as_json: bool) -> None:
    """Send digests now to everyone with something new, whatever their schedule."""
    from sms_board.broadcast.digest_runs import digest_now
    from sms_board.broadcast.digest_runs import dry_run as plan_run
    from sms_board.plumbing.utc import utcnow

    settings = settings_of(ctx)
    now = utcnow()
    only = area_slug.lower() if area_slug else None
    with transaction(ctx) as session:
        if area_slug is not None:
            area_or_fail(session, area_slug)
        planned = plan_run(session, settings, now, only) if dry_run else None
    if planned is not None:
        _show_plan(planned, settings, as_json)
        return
    _show_digest_run(digest_now(board_of(ctx).sessions, settings, now, only), settings, as_json)


def _show_plan(planned: list[DryRun], settings: Settings, as_json: bool) -> None:
    from sms_board.broadcast.digest_runs import people_called

    if as_json:
        emit_json([
            {"area": p.slug, "name": p.name, "recipients": p.recipients, "segments": p.segments, "calls": p.calls,
             "seconds": round(p.seconds(settings), 1),
             "held_until": p.held_until.isoformat() if p.held_until else None}
            for p in planned
        ])
        return
    unit = "segments" if settings.rate_unit == "segment" else "texts"
    for p in planned:
        click.echo(f"{p.slug:<16} {p.recipients:>7} recipients {p.segments:>8} segments  "
                   f"~{_duration(p.seconds(settings))} at {settings.rate:g} {unit}/s{_held(p.held_until, settings)}")
    total = sum(p.seconds(settings) for p in planned)
    click.echo(f"{'total':<16} {sum(p.recipients for p in planned):>7} recipients "
               f"{sum(p.segments for p in planned):>8} segments  ~{_duration(total)} (dry run: nothing sent)")
    calls = people_called(planned)  # an area's `calls` (--json) counts a person in each of their areas
    if calls:
        click.echo(_calls_line(calls, settings, "would be called", "would wait"))


def _calls_line(calls: int, settings: Settings, placing: str, waiting: str) -> str:
    """How the digests read by telephone fare; with voice off, that they wait for it."""
    if settings.voice.enabled:
        return (f"{'calls':<16} {calls:>7} voice subscribers {placing} (one call a person reads all their areas' "
                "news, within SMS_BOARD_CALL_HOURS)")
    return (f"{'calls':<16} {calls:>7} voice subscribers {waiting}: voice is off (SMS_BOARD_VOICE=off), "
            "so nobody is called; their news is kept until it is turned on")


def _show_digest_run(report: DigestReport, settings: Settings, as_json: bool) -> None:
    if as_json:
        emit_json({"areas": report.areas, "texts": report.texts, "segments": report.segments,
                   "calls": report.calls, "calls_waiting": report.calls_waiting, "paused": report.paused,
                   "held_until": report.held_until.isoformat() if report.held_until else None})
        return
    for slug, texts in sorted(report.areas.items()):
        click.echo(f"{slug:<16} {texts:>7} digests")
    click.echo(f"{report.texts} digests ({report.segments} segments) written to the outbox"
               f"{_held(report.held_until, settings)}.", err=True)
    if report.calls or report.calls_waiting:
        click.echo(_calls_line(report.calls or report.calls_waiting, settings, "to be called", "waiting"), err=True)
    if report.paused:
        click.echo(f"{report.paused} area(s) paused at SMS_BOARD_MONTHLY_SEGMENT_CAP; their organisers are told.",
                   err=True)


# ── broadcast ──────────────────────────────────────────────────────────────


@click.command("broadcast")
@click.option("--area", "area_slugs", multiple=True, required=True, help="Area slug (repeat for several).")
@click.option("--urgent", is_flag=True, help="Send during quiet hours too (a flood, a water cut).")
@click.option("--version", "versions", type=(str, str), multiple=True, metavar="LANG TEXT",
              help="The message for readers of one language (repeat per language: --version cy … --version en …).")
@click.option("--yes", "confirmed", is_flag=True, help="Send it; without --yes, only preview.")
@click.option("--json", "as_json", is_flag=True)
@click.argument("text", nargs=-1)
@click.pass_context
def broadcast_command(
    ctx: click.Context, area_slugs: tuple[str, ...], urgent: bool, versions: tuple[tuple[str, str], ...],
    confirmed: bool, as_json: bool, text: tuple[str, ...],
) -> None:
    """Preview a message to everyone in an area, or send it with --yes.

    TEXT is one message for everyone. On a board of several languages, --version LANG TEXT once per
    language writes one version per language instead: each reader gets theirs, and someone whose
    language is not known gets every version, the board's first language first.
    """
    from sms_board.broadcast.broadcasts import (
        create_broadcast,
        fan_out_broadcast,
        preview_broadcast,
    )
    from sms_board.community.areas import areas_by_slug
    from sms_board.plumbing.utc import utcnow

    settings = settings_of(ctx)
    message = _message(settings, " ".join(text).strip(), versions)
    now = utcnow()
    slugs = {slug.lower() for slug in area_slugs}
    with transaction(ctx) as session:
        areas = areas_by_slug(session, slugs)
        missing = slugs - {a.slug for a in areas}
        if missing:
            raise no_such_area(", ".join(sorted(missing)))
        preview = preview_broadcast(session, settings, areas, message, urgent=urgent)
        campaign_id = None
        if confirmed and preview.recipients:
            campaign_id = create_broadcast(session, preview, urgent=urgent, now=now, confirmed=True).id
    fanned = fan_out_broadcast(board_of(ctx).sessions, settings, campaign_id, now) if campaign_id else None
    if as_json:
        _emit_broadcast(areas, preview, settings, urgent=urgent, campaign_id=campaign_id, fanned=fanned)
    else:
        _show_broadcast(areas, preview, settings, urgent=urgent, confirmed=confirmed, campaign_id=campaign_id,
                        fanned=fanned)


def _message(settings: Settings, text: str, versions: tuple[tuple[str, str], ...]) -> str | dict[str, str]:
    """TEXT for everyone, or the versions by language; refused in one line when neither, both, or a language
    the board does not speak or named twice."""
    from sms_board.text.languages import listed

    if text and versions:
        raise click.UsageError("give TEXT (one message for everyone) or --version LANG TEXT per language, not both.")
    if not versions:
        if not text:
            raise click.BadParameter("write the message to send.", param_hint="TEXT")
        return text
    written: dict[str, str] = {}
    for raw, words in versions:
        code = raw.strip().lower()
        if code not in settings.languages:
            raise click.BadParameter(f"{raw.strip()!r} is not a language this board speaks; it speaks "
                                     f"{listed(settings.languages)}.", param_hint="--version")
        if code in written:
            raise click.BadParameter(f"{code} is given twice.", param_hint="--version")
        if not words.strip():
            raise click.BadParameter(f"write the {code} message.", param_hint="--version")
        written[code] = words.strip()
    return written


def _emit_broadcast(
    areas: list[Area], preview: Preview, settings: Settings, *, urgent: bool, campaign_id: int | None,
    fanned: FanOutReport | None,
) -> None:
    from sms_board.broadcast.billing import money

    emit_json({
        "campaign": campaign_id, "areas": [a.slug for a in areas], "recipients": preview.recipients,
        "segments": preview.segments, "encoding": preview.body.encoding, "cost": preview.cost,
        "cost_text": money(preview.cost, settings), "body": preview.body.text, "urgent": urgent,
        "by_language": preview.by_language, "unknown": preview.unknown,
        "versions": [{"language": v.language, "recipients": v.readers, "segments": v.segments,
                      "encoding": v.body.encoding, "cost": v.cost, "body": v.body.text} for v in preview.versions],
        "uncovered": [{"language": code, "recipients": readers, "gets": preview.fallback}
                      for code, readers in preview.uncovered],
        "sent": campaign_id is not None, "texts": fanned.texts if fanned else 0,
        "held_until": fanned.held_until.isoformat() if fanned and fanned.held_until else None,
    })


def _show_broadcast(
    areas: list[Area], preview: Preview, settings: Settings, *, urgent: bool, confirmed: bool,
    campaign_id: int | None, fanned: FanOutReport | None,
) -> None:
    from sms_board.broadcast.billing import money

    names = ", ".join(a.name for a in areas)
    kind = "URGENT broadcast" if urgent else "Broadcast"
    if preview.by_language:
        _show_versions(kind, names, preview, settings)
    else:
        click.echo(f"{kind} to {names}: {preview.recipients} recipients, "
                   f"{_segments(preview.segments)} ({preview.body.encoding}) each, ~{money(preview.cost, settings)}")
        # One text for everyone, under each language's fixed words: each wording once.
        for body in dict.fromkeys(version.body.text for version in preview.versions):
            click.echo(body)
    if not confirmed:
        click.echo("Preview only: nothing sent. Add --yes to send.", err=True)
    elif campaign_id is None or fanned is None:
        click.echo("Nobody in those areas can get texts: nothing sent.", err=True)
    elif fanned.held_until:
        click.echo(f"Broadcast #{campaign_id}: {fanned.texts} texts written to the outbox"
                   f"{_held(fanned.held_until, settings)}.", err=True)
    else:
        click.echo(f"Broadcast #{campaign_id}: {fanned.texts} texts written to the outbox; the sender sends them.",
                   err=True)


def _segments(count: int) -> str:
    return f"{count} segment{'s' if count != 1 else ''}"


def _show_versions(kind: str, names: str, preview: Preview, settings: Settings) -> None:
    """A line per version (its readers, segments and cost) and its text; then who gets every version, and
    what the readers of a language with no version of its own get."""
    from sms_board.broadcast.billing import money
    from sms_board.text.languages import pack

    click.echo(f"{kind} to {names}: {preview.recipients} recipients, {preview.texts} texts, "
               f"~{money(preview.cost, settings)}")
    for version in preview.versions:
        code = version.language or ""
        click.echo(f"{code} ({pack(code).name}): {version.readers} recipients, {_segments(version.segments)} "
                   f"({version.body.encoding}) each, ~{money(version.cost, settings)}")
        click.echo(f"  {version.body.text}")
    if preview.unknown and len(preview.versions) > 1:
        click.echo(f"{preview.unknown} recipient(s) whose language is not known get every version, "
                   f"{preview.versions[0].language} first.")
    for code, readers in preview.uncovered:
        gets = f"the {preview.fallback} version" if preview.fallback else "every version"
        click.echo(f"{code}: no version; its {readers} reader(s) get {gets}. Add --version {code} TEXT for theirs.")
