"""Benchmark: `subscribers import` of a 10,000-row list, all rows checked before one is written.

    .venv/bin/python bench/bench_import.py                     # SQLite, a new file in a temp folder
    .venv/bin/python bench/bench_import.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The list has Ofcom's 1,000 drama numbers in each of 10 areas (10,000 rows; no real number is
ever used). It times the real `community.roster.import_subscribers` — a dry run (every check,
nothing written), then the import (subscribers, subscriptions, consent records, welcome texts
in the outbox, one transaction) — against a baseline measured in the same run: reading the
same CSV, normalising every number with phonenumbers and one `executemany` INSERT of the rows
into a bare table (the least any import of this file can cost).

Times are printed, never asserted; the ratio is the headline. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import tempfile
import time
from pathlib import Path

from benchlib import local_only
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from sms_board.models import Area, Outbox, Subscription
from sms_board.plumbing.config import load_settings
from sms_board.plumbing.db import make_engine, make_session_factory
from sms_board.plumbing.migrate import upgrade
from sms_board.plumbing.utc import utcnow
from sms_board.text.phone import normalise

AREAS = 10
SOURCE = "paper form at the 12 Nov residents' meeting"


def listing() -> str:
    out = io.StringIO()
    out.write("number,area,name,consent_source,consent_at\n")
    for area in range(AREAS):
        for n in range(1000):
            out.write(f"07700 900{n:03d},area{area},,{SOURCE},2025-11-12\n")
    return out.getvalue()


def baseline(engine, body: str) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    rows = [(normalise(row["number"], "GB"), row["area"], row["consent_source"])
            for row in csv.DictReader(io.StringIO(body))]
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE bench_rows (phone VARCHAR(20), area VARCHAR(40), source TEXT)"))
        connection.execute(text("INSERT INTO bench_rows VALUES (:p, :a, :s)"),
                           [{"p": p, "a": a, "s": s} for p, a, s in rows])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="sqlite")
    arguments = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench_import_"))
    url = local_only(arguments.database_url, workdir)
    schema = None
    if make_url(url).get_backend_name() == "postgresql":
        schema = f"bench_import_{os.getpid()}"
        with create_engine(url).begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    else:
        engine = make_engine(url)
    try:
        run(engine, url, workdir)
    finally:
        engine.dispose()
        if schema:
            with create_engine(url).begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def run(engine, url: str, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    from sms_board.community.roster import import_subscribers

    upgrade(engine)
    settings = load_settings({"DATABASE_URL": url, "SMS_BOARD_INSTANCE_PATH": str(workdir),
                              "SMS_BOARD_QUIET_HOURS": ""}, environ={})
    factory = make_session_factory(engine)
    with factory.begin() as session:
        session.add_all(Area(slug=f"area{n}", name=f"Area {n}", timezone="Europe/London", private=False,
                             moderation="open") for n in range(AREAS))
    body = listing()
    floor = baseline(engine, body)

    started = time.perf_counter()
    with factory() as session:
        dry = import_subscribers(session, settings, body.splitlines(keepends=True), utcnow(), dry_run=True)
        session.rollback()
    dry_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with factory.begin() as session:
        report = import_subscribers(session, settings, body.splitlines(keepends=True), utcnow())
    seconds = time.perf_counter() - started

    with factory() as session:
        subscriptions = session.scalar(select(func.count()).select_from(Subscription))
        welcomes = session.scalar(select(func.count()).select_from(Outbox))
    backend = make_url(url).get_backend_name()
    print(f"{backend}: {report.rows} rows ({AREAS} areas x 1,000 numbers)")
    print(f"  baseline   {floor:7.2f} s   (csv + phonenumbers + one executemany INSERT)")
    print(f"  dry run    {dry_seconds:7.2f} s   {dry.imported} would be subscribed, {len(dry.errors)} errors")
    print(f"  import     {seconds:7.2f} s   {subscriptions} subscriptions, {welcomes} welcome texts queued")
    print(f"  import/baseline: {seconds / floor:5.2f}x  ({report.rows / seconds:,.0f} rows/s; target: 10,000 well under 60 s)")


if __name__ == "__main__":
    main()
