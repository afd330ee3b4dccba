"""The one CSV writer of every export (the ledger, the subscriber lists; CLI and dashboard alike).

People open these files in Excel or LibreOffice, where a cell that starts with `=`, `+`, `-`,
`@`, a tab or a carriage return is a formula: `=HYPERLINK(…)` in a resident's request, or
`+cmd|…` in a consent source, would run beside names and full numbers. Such a cell is written
with a leading `'`, which spreadsheets show as text and `read_cell` takes off again on import.

A phone number is the one cell that starts with `+` by right: `+447700900123` (or masked,
`+44 7•••• ••123`) has nothing but digits, spaces and dots after the `+`, which no spreadsheet
can run, so it is written as it is and `sms-board subscribers import` reads it back unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

from sms_board.text.words import without_bidi

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PHONE_NUMBER = re.compile(r"\+\d+(?: [\d•]+)*")


def cell(value: object) -> object:
    """A value as it may stand in a spreadsheet cell: text that would run as a formula is quoted,
    and bidi controls are left out (a spreadsheet shows `\u202e0001` as 1000, as a browser does)."""
    if not isinstance(value, str):
        return value
    text = without_bidi(value)
    return "'" + text if text.startswith(FORMULA_STARTS) and not _PHONE_NUMBER.fullmatch(text) else text


def read_cell(value: str) -> str:
    """A cell of a file the board wrote (an export imported again), without the quote `cell` added."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


def write_csv(out: TextIO, columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> int:
    """A header and the rows (keys beyond `columns` are left out), every cell safe; returns the row count."""
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({key: cell(value) for key, value in row.items()})
        count += 1
    return count


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> str:
    out = io.StringIO()
    write_csv(out, columns, rows)
    return out.getvalue()
