"""Subscriber lists on the dashboard: a CSV checked (dry run), then imported; and exported.

The same functions as `sms-board subscribers import` and `subscribers export`
(`community.roster`): the same checks with line numbers, the same refusals of forgotten,
opted-out, undeliverable and departed numbers, the same consent records and welcome
texts. An organiser's file may only subscribe numbers to their own areas. The audit log
names who did it, channel `web`. "Enrol by telephone" is `sms-board subscribers add --voice`: one
row, the same checks and consent record, for a resident an organiser spoke to (docs/voice.md).

Exports: administrators get full numbers, as the CLI's operator does (they may move a
list to another system); organisers get the same columns with numbers masked (enough to
check who is on the list and on what consent, not to take the numbers elsewhere).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from sms_board.community.roster import (
    EXPORT_COLUMNS,
    ImportReport,
    RowNote,
    enrol_one,
    export_rows,
    import_subscribers,
)
from sms_board.dashboard.scope import Viewer
from sms_board.models import Area, HearsBy, Subscriber
from sms_board.plumbing.config import Settings
from sms_board.plumbing.spreadsheet import csv_text
from sms_board.text.phone import mask, normalise
from sms_board.text.phrases import phrase

# A 10,000-row list is about 1 MB (a number, an area, a name, a consent source and a date a row);
# four times that leaves room for long consent sources, and the confirm step sends the text once more.
UPLOAD_LIMIT = 4 * 1024 * 1024
MAX_ROWS_SHOWN = 200


class NotText(ValueError):
    """The upload is not a UTF-8 CSV file."""


def upload_lines(data: bytes, filename: str) -> list[str]:
    """The file's lines, as the CLI reads them (UTF-8, with or without the spreadsheet's byte-order mark)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotText(phrase("%(file)s is not UTF-8 text: save it as \"CSV UTF-8\" and try again.", file=filename)
                      if filename else phrase("The file is not UTF-8 text: save it as \"CSV UTF-8\" and try again.")) \
            from None
    return text.splitlines(keepends=True)


@dataclass(frozen=True)
class NoteShown:
    line: int
    number: str  # masked when it is a number
    message: str


def shown(notes: list[RowNote], region: str) -> list[NoteShown]:
    """Row notes for the page, numbers masked (the organiser sees the line to fix, not the number again)."""
    out = []
    for note in notes[:MAX_ROWS_SHOWN]:
        phone = normalise(note.number, region) if note.number else None
        out.append(NoteShown(note.line, mask(phone) if phone else note.number, note.message))
    return out


def run_import(
    session: Session, settings: Settings, viewer: Viewer, lines: list[str], area_id: int | None, now: datetime, *,
    dry_run: bool, filename: str,
) -> ImportReport:
    """`subscribers import [--dry-run] [--area]` for the viewer, into the area `area_id` when one is chosen;
    the caller commits only when `report.written`."""
    area = session.get(Area, area_id) if area_id is not None else None
    allowed: Collection[int] | None = None if viewer.is_admin else viewer.area_ids
    actor = session.get(Subscriber, viewer.subscriber_id)
    return import_subscribers(session, settings, lines, now, area=area, dry_run=dry_run, source_name=filename[:80],
                              allowed_area_ids=allowed, actor=actor, channel="web")


def enrol_by_telephone(
    session: Session, settings: Settings, viewer: Viewer, fields: dict[str, str], area_id: int, now: datetime,
) -> ImportReport:
    """`subscribers add NUMBER AREA --voice --consent …` for the viewer, in one of their areas (`area_id`,
    already checked to be theirs); the caller commits only when `report.written`."""
    from sms_board.dashboard.subscribers import ASK_FOR_VOICE

    area = session.get(Area, area_id)
    assert area is not None
    return enrol_one(session, settings, {**fields, "hears_by": HearsBy.VOICE}, area, now,
                          ask_for_voice=ASK_FOR_VOICE, actor=session.get(Subscriber, viewer.subscriber_id),
                          channel="web", allowed_area_ids=None if viewer.is_admin else viewer.area_ids)


def export_csv(session: Session, viewer: Viewer, area_ids: list[int], now: datetime) -> tuple[str, int]:
    """`subscribers export` of these areas: full numbers for administrators, masked for organisers."""
    actor = session.get(Subscriber, viewer.subscriber_id)
    rows = list(export_rows(session, now=now, area_ids=area_ids, actor=actor, channel="web",
                            masked=not viewer.is_admin))
    return csv_text(EXPORT_COLUMNS, rows), len(rows)
