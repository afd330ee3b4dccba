"""Benchmark: `sms-board db copy` of a SQLite board with 100,000 subscribers into a new PostgreSQL.

    .venv/bin/python bench/bench_db_copy.py                       # 100,000 subscribers, PostgreSQL on 127.0.0.1
    .venv/bin/python bench/bench_db_copy.py --subscribers 10000 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The source is a new SQLite file: `--subscribers` subscribers in 200 areas, one subscription and one
consent record each (three rows a subscriber). The target is a schema of its own on the
PostgreSQL at `--database-url`, dropped afterwards. It times the real `plumbing.db_copy` — the
dry run (every row read, checked and hashed; nothing written), the migrations of the target
(timed apart), then the copy (every row written in batches, read back and hashed, sequences set, one commit) — against a baseline
measured in the same run: the same rows read with the bare sqlite3 driver and written with
PostgreSQL's COPY (as the copy writes) into tables of the same columns with no index, constraint
or check (the least any copy of these rows through these drivers can cost); the same with
psycopg's `executemany` is printed beside it.

Times are printed, never asserted; the ratio is the headline. Numbers are 12-digit UK mobiles,
not possible numbers; only 127.0.0.1 is ever used. Not part of the test suite; results go in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import psycopg
from benchlib import DEFAULT_URL, local_only, numbers
from sqlalchemy import Boolean, create_engine, text
from sqlalchemy.engine import make_url

from sms_board.models import Base
from sms_board.plumbing.db import make_engine
from sms_board.plumbing.db_copy import copy, prepare
from sms_board.plumbing.migrate import upgrade
from sms_board.plumbing.utc import utcnow

AREAS = 200
AT = "2026-11-01 12:00:00.000000"  # as SQLAlchemy stores a datetime in SQLite
TABLES = ("areas", "subscribers", "subscriptions", "consent_events")


def seed(path: Path, subscribers: int) -> None:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text(
            numbers(AREAS) + "INSERT INTO areas (slug, name, timezone, private, moderation, created_at) "
            f"SELECT 'area-' || n, 'Area ' || n, 'Europe/London', false, 'open', '{AT}' FROM g"))
        connection.execute(text(
            numbers(subscribers) + "INSERT INTO subscribers (phone, name, is_admin, digest_frequency, created_at, "
            f"more_page, hears_by) SELECT '+4477009' || substr('0000000' || n, -7, 7), 'Neighbour ' || n, false, "
            f"'daily', '{AT}', 0, 'sms' FROM g"))
        connection.execute(text(
            "INSERT INTO subscriptions (subscriber_id, area_id, status, consent_at, consent_text, consent_channel) "
            f"SELECT s.id, ((s.id - 1) % {AREAS}) + 1, 'active', '{AT}', 'JOIN AREA', 'sms' FROM subscribers s"))
        connection.execute(text(
            "INSERT INTO consent_events (subscriber_id, area_id, action, channel, words, wording, created_at) "
            f"SELECT s.id, ((s.id - 1) % {AREAS}) + 1, 'subscribe', 'sms', 'JOIN AREA', 'Welcome to the board', "
            f"'{AT}' FROM subscribers s"))
    engine.dispose()


def baseline(source: Path, target_url: str, schema: str, *, copy_protocol: bool) -> float:
    """The same rows through the bare drivers into bare tables (no index, constraint or check):
    psycopg's `executemany`, or PostgreSQL's COPY (the way the copy writes)."""
    conninfo = make_url(target_url).set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    started = time.perf_counter()
    with sqlite3.connect(source) as lite, psycopg.connect(conninfo) as pg:
        with pg.cursor() as cursor:
            for table in TABLES:
                bare = f'"{schema}".bare_{table}'
                cursor.execute(f"CREATE TABLE {bare} (LIKE \"{schema}\".{table})")
                read = lite.execute(f"SELECT * FROM {table}")
                columns = [Base.metadata.tables[table].c[d[0]] for d in read.description]
                flags = [isinstance(column.type, Boolean) for column in columns]
                marks = ", ".join(["%s"] * len(columns))
                while rows := read.fetchmany(2000):
                    rows = [tuple(bool(v) if flag and v is not None else v for v, flag in zip(row, flags, strict=True))
                            for row in rows]
                    if copy_protocol:
                        with cursor.copy(f"COPY {bare} FROM STDIN") as copying:
                            for row in rows:
                                copying.write_row(row)
                    else:
                        cursor.executemany(f"INSERT INTO {bare} VALUES ({marks})", rows)
        pg.rollback()  # timed to the end of the writes; nothing kept
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--subscribers", type=int, default=100_000)
    arguments = parser.parse_args()
    url = local_only(arguments.database_url)
    if make_url(url).get_backend_name() != "postgresql":
        raise SystemExit("the target is PostgreSQL: give --database-url postgresql+psycopg://…@127.0.0.1/…")
    workdir = Path(tempfile.mkdtemp(prefix="bench_db_copy_"))
    source_path = workdir / "board.db"
    schema = f"bench_db_copy_{os.getpid()}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    target_url = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
    try:
        started = time.perf_counter()
        seed(source_path, arguments.subscribers)
        print(f"seeded {arguments.subscribers:,} subscribers in {AREAS} areas on SQLite in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        source = make_engine(f"sqlite:///{source_path}")

        plan = prepare(source, target_url, utcnow())
        started = time.perf_counter()
        dry = copy(plan, dry_run=True, now=utcnow())
        dry_seconds = time.perf_counter() - started

        started = time.perf_counter()
        upgrade(plan.target)  # what the copy does first, timed apart: the same whatever the board's size
        migrations = time.perf_counter() - started

        started = time.perf_counter()
        report = copy(plan, dry_run=False, now=utcnow())
        seconds = time.perf_counter() - started
        plan.target.dispose()

        floor = baseline(source_path, target_url, schema, copy_protocol=True)
        inserts = baseline(source_path, target_url, schema, copy_protocol=False)
        rows = sum(table.rows for table in report.copied)
        assert rows == sum(table.rows for table in dry.copied)
        assert all(table.matches for table in report.copied)
        print(f"{rows:,} rows ({arguments.subscribers:,} subscribers, their subscriptions and consent records)")
        print(f"  baseline  {floor:7.2f} s   (sqlite3 fetch + COPY into bare tables; with executemany: {inserts:.2f} s)")
        print(f"  dry run   {dry_seconds:7.2f} s   (read, checked and hashed; nothing written)")
        print(f"  migrations{migrations:7.2f} s   (the target's schema, before the copy; not in the ratio)")
        print(f"  copy      {seconds:7.2f} s   (batches written, read back and hashed, sequences, commit)")
        print(f"  copy/baseline: {seconds / floor:5.2f}x  ({rows / seconds:,.0f} rows/s)")
        source.dispose()
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
