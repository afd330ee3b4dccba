"""Subscriber lists in and out: a tenants' association's paper list imported, and an operator's export.

Import (`sms-board subscribers import FILE.csv`) reads the columns
`number,area,name,consent_source,consent_at,language,hears_by` (other columns are ignored, so an export
can be imported again). Every row is checked before anything is written: a row that
fails (no consent source, a number that is not a valid number for its country or
cannot receive texts, such as a landline, an unknown area, a bad date, a language the
board does not speak) is reported with its line number and the whole file writes nothing. A number
erased with FORGET, opted out with STOP, that left the area by text or cannot receive
texts is never re-subscribed: its row is reported as refused and the rest go ahead.
Each new subscription gets a consent record with the stated source and a welcome text
that says how to STOP. A row's `language` (a code of the board's languages) sets the
person's language, kept with the consent source as its wording (docs/translations.md); an
empty one leaves it as it is (not known, for someone new). A row for a subscription that
already exists changes nothing, its language included.

A row's `hears_by` is `sms` (texts; the same as empty) or `voice` (digests read by a telephone
call, docs/voice.md; refused while `SMS_BOARD_VOICE` is off). A landline's row must say `voice`:
one that does not fails with its line number, as any bad row does, rather than being quietly
enrolled for calls (the organiser says the resident agreed to be rung). A landline is sent no
welcome text; its consent record keeps the source as its words and no wording.

`enrol_one` (`sms-board subscribers add`, the dashboard's "enrol by telephone") is an import
of one row: the same checks, refusals and consent record.

Export lists active subscriptions with full numbers (the CLI is for operators) and each
person's language (empty while it is not known).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_board.community import audit
from sms_board.community.areas import public_page
from sms_board.community.hearing import parse_hears_by, refusal
from sms_board.community.languages import board_language, choose, reading
from sms_board.community.people import MAX_NAME, is_name
from sms_board.community.privacy import number_hash, suppressed_hashes
from sms_board.models import (
    Area,
    AuditAction,
    ConsentAction,
    ConsentEvent,
    HearsBy,
    OutboxKind,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from sms_board.plumbing.config import Settings
from sms_board.plumbing.spreadsheet import read_cell
from sms_board.sending.outbox import enqueue
from sms_board.sending.reachability import takes_texts
from sms_board.text.phone import mask, normalise
from sms_board.text.phrases import message_of, phrase
from sms_board.text.templates import render
from sms_board.text.words import fold

COLUMNS = ("number", "area", "name", "consent_source", "consent_at", "language", "hears_by")
EXPORT_COLUMNS = ("number", "area", "name", "joined", "digest", "consent_source", "consent_at", "channel", "language",
                  "hears_by")
CHANNEL = "import"
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M")
_CHUNK = 500
# How a file asks for a landline to be rung (the end of its refusal).
_VOICE_COLUMN = phrase("write voice in its hears_by column")

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RowNote:
    line: int
    number: str  # as written in the file
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0  # new subscriptions (each with a welcome text)
    already: int = 0  # already subscribed to that area: nothing changes
    refused: list[RowNote] = field(default_factory=list)
    errors: list[RowNote] = field(default_factory=list)
    dry_run: bool = False

    @property
    def written(self) -> bool:
        return not self.errors and not self.dry_run

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "imported": self.imported if self.written else 0,
                "would_import": self.imported, "already": self.already,
                "refused": [asdict(note) for note in self.refused], "errors": [asdict(note) for note in self.errors],
                "dry_run": self.dry_run, "written": self.written}


@dataclass
class _Row:
    line: int
    raw_number: str
    phone: str
    area: Area
    name: str | None
    source: str
    given_at: datetime | None
    language: str | None  # None: the file does not say
    hears_by: HearsBy | None  # None: the file does not say (texts, for someone new)


class _Areas:
    """Areas by slug or name, as an operator writes them in a file."""

    def __init__(self, session: Session) -> None:
        self.by_key: dict[str, Area] = {}
        self.by_id: dict[int, Area] = {}
        for area in session.scalars(select(Area)):
            self.by_id[area.id] = area
            self.by_key[area.slug.lower()] = area
            self.by_key.setdefault(fold(area.name), area)

    def find(self, text: str) -> Area | None:
        return self.by_key.get(text.strip().lower()) or self.by_key.get(fold(text))


def _consent_time(raw: str, settings: Settings, now: datetime) -> datetime | None:
    """`2025-11-12`, `12/11/2025`, `2025-11-12 19:30` or ISO 8601, local unless it says otherwise."""
    text = raw.strip()
    if not text:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for form in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, form)
                break
            except ValueError:
                continue
    if parsed is None:
        raise ValueError(phrase("consent_at %(text)r is not a date; write e.g. 2025-11-12 or 12/11/2025", text=text))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=settings.zone)
    if parsed > now:
        raise ValueError(phrase("consent_at %(text)r is in the future", text=text))
    return parsed


def _parse_row(
    line: int, row: Mapping[str, str | None], areas: _Areas, default_area: Area | None, settings: Settings,
    now: datetime, allowed: Collection[int] | None = None, ask_for_voice: str = _VOICE_COLUMN,
) -> _Row:
    """One line of the file, checked; raises ValueError with what is wrong."""
    raw_number = (row.get("number") or "").strip()
    phone = normalise(raw_number, settings.default_region)
    if phone is None:
        raise ValueError(phrase("%(number)r is not a phone number", number=raw_number) if raw_number
                         else phrase("no number"))
    # The reason leaves the number out: the dashboard shows it masked beside the reason.
    hears_by = parse_hears_by(row.get("hears_by") or "")
    unreachable = refusal(settings, phone, hears_by or HearsBy.SMS, ask_for_voice=ask_for_voice)
    if unreachable is not None:
        raise ValueError(unreachable)
    source = " ".join(read_cell(row.get("consent_source") or "").split())
    if not source:
        raise ValueError(phrase("consent_source is empty: say where consent was given "
                                "(e.g. \"paper form, 12 Nov meeting\")"))
    named = (row.get("area") or "").strip()
    area = areas.find(named) if named else default_area
    if area is None:
        raise ValueError(phrase("no area %(name)r", name=named) if named
                         else phrase("no area: fill the area column or pass --area"))
    if default_area is not None and area.id != default_area.id:
        raise ValueError(phrase("the row is for %(area)s, but --area says %(chosen)s", area=area.slug,
                                chosen=default_area.slug))
    if allowed is not None and area.id not in allowed:
        raise ValueError(phrase("%(area)s is not one of the areas you organise", area=area.slug))
    name = " ".join((row.get("name") or "").split())
    if name and not is_name(name):
        raise ValueError(phrase("name %(name)r is not a first name (letters only)", name=name))
    return _Row(line, raw_number, phone, area, name[:MAX_NAME].strip() or None, source,
                _consent_time(row.get("consent_at") or "", settings, now),
                board_language(settings, row.get("language") or ""), hears_by)


def _read(
    lines: Iterable[str], areas: _Areas, default_area: Area | None, settings: Settings, now: datetime,
    report: ImportReport, progress: Progress | None, allowed: Collection[int] | None = None,
) -> list[_Row]:
    reader = csv.DictReader(lines)
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [c for c in ("number", "consent_source") + (() if default_area else ("area",)) if c not in header]
    if missing:
        report.errors.append(RowNote(1, "", phrase("the header needs the column(s) %(missing)s; columns are %(columns)s",
                                                   missing=", ".join(missing), columns=",".join(COLUMNS))))
        return []
    reader.fieldnames = header
    parsed: list[_Row] = []
    seen: dict[tuple[str, int], int] = {}
    languages: dict[str, _Row] = {}  # a number's language, and the row that gave it first
    for row in reader:
        line = reader.line_num
        report.rows += 1
        try:
            entry = _parse_row(line, row, areas, default_area, settings, now, allowed)
        except ValueError as exc:
            report.errors.append(RowNote(line, (row.get("number") or "").strip(), message_of(exc)))
            continue
        first = seen.setdefault((entry.phone, entry.area.id), line)
        if first != line:
            report.errors.append(RowNote(line, entry.raw_number,
                                         phrase("the same number and area as line %(line)s", line=first)))
            continue
        said = languages.setdefault(entry.phone, entry) if entry.language else entry
        if said.language != entry.language:
            report.errors.append(RowNote(line, entry.raw_number, phrase(
                "language %(language)s, but line %(line)s gives this number %(earlier)s",
                language=entry.language, line=said.line, earlier=said.language)))
            continue
        parsed.append(entry)
        if progress and report.rows % _CHUNK == 0:
            progress(_CHUNK)
    if progress:
        progress(report.rows % _CHUNK)
    return parsed


def _existing(session: Session, phones: list[str]) -> dict[str, Subscriber]:
    found: dict[str, Subscriber] = {}
    for start in range(0, len(phones), _CHUNK):
        for person in session.scalars(select(Subscriber).where(Subscriber.phone.in_(phones[start:start + _CHUNK]))):
            found[person.phone] = person
    return found


def _subscription_statuses(session: Session, people: Iterable[Subscriber]) -> dict[tuple[int, int], str]:
    ids = sorted(p.id for p in people)
    statuses: dict[tuple[int, int], str] = {}
    for start in range(0, len(ids), _CHUNK):
        for subscriber_id, area_id, status in session.execute(
            select(Subscription.subscriber_id, Subscription.area_id, Subscription.status)
            .where(Subscription.subscriber_id.in_(ids[start:start + _CHUNK]))
        ):
            statuses[(subscriber_id, area_id)] = status
    return statuses


def _refusal(row: _Row, person: Subscriber | None, status: str | None, suppressed: bool) -> str | None:
    if suppressed:
        return phrase("refused: this number asked the board to forget it (FORGET); it is never added back")
    if person is not None and person.opted_out_at is not None:
        return phrase("refused: this number opted out by STOP on %(day)s", day=person.opted_out_at.date().isoformat())
    if person is not None and person.undeliverable_at is not None:
        return phrase("refused: this number cannot receive texts")
    if status == SubscriptionStatus.LEFT:
        return phrase("refused: this number left %(area)s by text", area=row.area.name)
    return None


def import_subscribers(
    session: Session, settings: Settings, lines: Iterable[str], now: datetime, *, area: Area | None = None,
    dry_run: bool = False, source_name: str = "", progress: Progress | None = None,
    allowed_area_ids: Collection[int] | None = None, actor: Subscriber | None = None, channel: str = "cli",
) -> ImportReport:
    """Check every row, then (unless a row fails, or `dry_run`) write them all in the caller's transaction.

    `allowed_area_ids` (the dashboard: an organiser's areas) makes a row for any other area fail;
    `actor` and `channel` say who imported in the audit log (the CLI's operator unless given).
    """
    report = ImportReport(dry_run=dry_run)
    areas = _Areas(session)
    rows = _read(lines, areas, area, settings, now, report, progress, allowed_area_ids)
    _admit(session, settings, rows, areas, report, now)
    if report.written:
        audit.record(session, AuditAction.IMPORT, now, actor=actor, label=None if actor else audit.OPERATOR,
                     channel=channel, area_id=area.id if area else None, file=source_name, imported=report.imported,
                     refused=len(report.refused), already=report.already)
    return report


def enrol_one(
    session: Session, settings: Settings, fields: Mapping[str, str], area: Area, now: datetime, *,
    ask_for_voice: str, actor: Subscriber | None = None, channel: str = "cli",
    allowed_area_ids: Collection[int] | None = None,
) -> ImportReport:
    """Subscribe one number an organiser enrolled by hand (`fields`: an import row's columns), in the
    caller's transaction: the import's checks, refusals and consent record (audited as an import of one)."""
    report = ImportReport(rows=1)
    areas = _Areas(session)
    try:
        rows = [_parse_row(1, fields, areas, area, settings, now, allowed_area_ids, ask_for_voice)]
    except ValueError as exc:
        report.errors.append(RowNote(1, fields.get("number", ""), message_of(exc)))
        rows = []
    _admit(session, settings, rows, areas, report, now)
    if report.written and report.imported:
        audit.record(session, AuditAction.IMPORT, now, actor=actor, label=None if actor else audit.OPERATOR,
                     channel=channel, area_id=area.id, file="", imported=1, hears_by=rows[0].hears_by or HearsBy.SMS)
    return report


def _admit(session: Session, settings: Settings, rows: list[_Row], areas: _Areas, report: ImportReport,
           now: datetime) -> None:
    """Sort checked rows into already subscribed, refused and new; write the new ones unless nothing may be."""
    people = _existing(session, sorted({row.phone for row in rows}))
    statuses = _subscription_statuses(session, people.values())
    forgotten = suppressed_hashes(session, settings.suppression_key, [row.phone for row in rows])
    to_add: list[_Row] = []
    for row in rows:
        person = people.get(row.phone)
        status = statuses.get((person.id, row.area.id)) if person is not None else None
        if status == SubscriptionStatus.ACTIVE:  # (someone who came back by text after a FORGET too)
            report.already += 1
            continue
        refusal = _refusal(row, person, status, number_hash(settings.suppression_key, row.phone) in forgotten)
        if refusal is not None:
            report.refused.append(RowNote(row.line, row.raw_number, refusal))
        else:
            to_add.append(row)
    report.imported = len(to_add)
    if report.written:
        members: dict[int, list[Area]] = {}  # each person's active areas, for the languages of their welcome
        for (subscriber_id, area_id), status in statuses.items():
            if status == SubscriptionStatus.ACTIVE:
                members.setdefault(subscriber_id, []).append(areas.by_id[area_id])
        _write(session, settings, to_add, people, members, now)


def _write(session: Session, settings: Settings, rows: list[_Row], people: dict[str, Subscriber],
           members: dict[int, list[Area]], now: datetime) -> None:
    new = {row.phone: Subscriber(phone=row.phone, name=row.name, created_at=now, is_admin=False,
                                 digest_frequency="daily", more_page=0)
           for row in rows if row.phone not in people}
    session.add_all(new.values())
    session.flush()
    people = {**people, **new}
    welcomes: dict[tuple[int, str, tuple[str, ...]], list[str]] = {}
    for row in rows:
        person = people[row.phone]
        if row.name and not person.name:
            person.name = row.name
        if row.language is not None:
            choose(session, person, row.language, wording=row.source, channel=CHANNEL, now=now)
        if row.hears_by is not None:
            person.hears_by = row.hears_by
        read = reading(settings, person, areas=members.get(person.id, []), joining=row.area)
        members.setdefault(person.id, []).append(row.area)
        key = (row.area.id, row.source, read)
        welcome = welcomes.get(key) or welcomes.setdefault(key, [
            render("import_welcome", language, area=row.area, source=row.source,
                   page=public_page(row.area, settings.public_url)) for language in read])
        session.add(Subscription(
            subscriber_id=person.id, area_id=row.area.id, status=SubscriptionStatus.ACTIVE,
            consent_at=row.given_at or now, consent_text=row.source, consent_channel=CHANNEL, last_digest_at=now,
        ))
        session.add(ConsentEvent(
            subscriber_id=person.id, area_id=row.area.id, action=ConsentAction.SUBSCRIBE, channel=CHANNEL,
            words=row.source, wording="\n\n".join(welcome) if takes_texts(person.phone) else None,
            given_at=row.given_at, created_at=now,
        ))
        if person.first_joined_at is None:  # their first join, kept (the monthly report's `new_members`)
            person.first_joined_at = now
        for text in welcome:  # (none is written for a landline)
            enqueue(session, settings, person, text, OutboxKind.NOTIFY, zone_name=row.area.timezone, now=now)
    session.flush()


# ── export ─────────────────────────────────────────────────────────────────


def export_rows(
    session: Session, area: Area | None = None, *, now: datetime, area_ids: Collection[int] | None = None,
    actor: Subscriber | None = None, channel: str = "cli", masked: bool = False,
) -> Iterator[dict[str, str]]:
    """Active subscriptions, by area and number; the export is written to the audit log.

    Full numbers (the CLI is for operators) unless `masked`; `area_ids` narrows it to some areas.
    """
    joined = (
        select(func.max(ConsentEvent.created_at))
        .where(ConsentEvent.subscriber_id == Subscription.subscriber_id, ConsentEvent.area_id == Subscription.area_id,
               ConsentEvent.action == ConsentAction.SUBSCRIBE)
        .correlate(Subscription).scalar_subquery()
    )
    query = (
        select(Subscriber, Subscription, Area.slug, joined)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .join(Area, Area.id == Subscription.area_id)
        .where(Subscription.status == SubscriptionStatus.ACTIVE, Subscriber.opted_out_at.is_(None))
        .order_by(Area.slug, Subscriber.phone)
    )
    if area is not None:
        query = query.where(Subscription.area_id == area.id)
    if area_ids is not None:
        query = query.where(Subscription.area_id.in_(list(area_ids)))
    rows = session.execute(query).all()
    audit.record(session, AuditAction.EXPORT, now, actor=actor, label=None if actor else audit.OPERATOR,
                 channel=channel, area_id=area.id if area else None, rows=len(rows), **({"masked": True} if masked else {}))
    for person, subscription, slug, joined_at in rows:
        when = joined_at if joined_at is not None else subscription.consent_at
        yield {
            "number": mask(person.phone) if masked else person.phone, "area": slug, "name": person.name or "",
            "joined": _stamp(when), "digest": person.digest_frequency, "consent_source": subscription.consent_text,
            "consent_at": _stamp(subscription.consent_at), "channel": subscription.consent_channel,
            "language": person.language or "", "hears_by": person.hears_by,
        }


def _stamp(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:  # a max() over the column may come back without the column's type
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="seconds")
