"""Benchmark: the monthly report at many subscribers, against baselines measured in the same run.

    .venv/bin/python bench/bench_report.py                              # PostgreSQL on 127.0.0.1, 100k
    .venv/bin/python bench/bench_report.py --sizes 100000,1000000
    .venv/bin/python bench/bench_report.py --database-url sqlite --sizes 100000

Seeds, set-based (at migration 0026, then migrates to head: 0027 keeps each person's first join
from the seeded history, timed), `--sizes` subscribers in areas of 500, each joined once (a consent record)
over the last year, with a year of history: two handled texts a person, a request for one
person in five of every area (two in three of them offered on), an exchange for each offered
request, one person in twenty left; then VACUUM ANALYZE, as autovacuum keeps a live board.
It times `report_figures.figures` (what `sms-board report` works out for a month not yet kept),
each run in its own transaction, for the last complete month, for the whole board and for one
area, `--repeat` times each. Baselines, in the same run: one plain aggregate over the same rows
the report reads (the month's texts acted on, joins, exchanges and requests, and the
memberships), counted with no join, no DISTINCT and no figure's logic, for the whole board and
for the one area. An area's report should cost the same at any size of board: the last line
compares it at the smallest and the largest size. Times are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib import DEFAULT_URL, describe_machine, local_only, numbers
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from sms_board.community.report_figures import Scope, figures, last_complete_month, month_period
from sms_board.plumbing.db import make_engine
from sms_board.plumbing.migrate import upgrade

PER_AREA = 500
AREA = 1  # the area whose report is timed: 500 members, as every area's
SEEDED = ("areas", "subscribers", "subscriptions", "consent_events", "inbound_messages", "items", "responses",
          "matches", "exchanges")
ZONE = "Europe/London"


def _ago(dialect: str, seconds: str) -> str:
    """`:now` minus `seconds` (an SQL expression), as each database writes it."""
    if dialect == "sqlite":
        return f"datetime(:now, '-' || ({seconds}) || ' seconds')"
    return f"CAST(:now AS timestamp) - ({seconds}) * interval '1 second'"


def seed(connection: Any, subscribers: int, now: datetime) -> None:
    dialect = connection.dialect.name
    at = {"now": now.replace(tzinfo=None)}
    areas = max(1, subscribers // PER_AREA)
    year = 365 * 86400
    phone = ("'+4477009' || substr('0000000' || n, -7, 7)" if dialect == "sqlite"
             else "'+4477009' || lpad(n::text, 7, '0')")
    connection.execute(text(numbers(areas) + "INSERT INTO areas (slug, name, timezone, private, moderation, "
                            "public_page, created_at) SELECT 'area-' || n, 'Area ' || n, 'Europe/London', false, "
                            f"'open', true, {_ago(dialect, str(year + 86400))} FROM g"), at)
    joined = _ago(dialect, f"(CAST(n AS BIGINT) * 2654435) % {year}")
    connection.execute(text(numbers(subscribers) + "INSERT INTO subscribers (phone, name, is_admin, digest_frequency, "
                            f"hears_by, created_at, more_page) SELECT {phone}, 'Neighbour ' || n, false, 'daily', "
                            f"'sms', {joined}, 0 FROM g"), at)
    connection.execute(text(
        "INSERT INTO subscriptions (subscriber_id, area_id, status, consent_at, consent_text, consent_channel, "
        f"ended_at) SELECT id, ((id - 1) % {areas}) + 1, CASE WHEN id % 20 = 0 THEN 'left' ELSE 'active' END, "
        f"created_at, 'JOIN', 'sms', CASE WHEN id % 20 = 0 THEN {_ago(dialect, f'(CAST(id AS BIGINT) * 1597334) % {year // 2}')} "
        "END FROM subscribers"), at)
    connection.execute(text(
        "INSERT INTO consent_events (subscriber_id, area_id, action, channel, words, created_at) "
        "SELECT subscriber_id, area_id, 'subscribe', 'sms', 'JOIN', consent_at FROM subscriptions"))
    for copy in range(2):
        connection.execute(text(
            "INSERT INTO inbound_messages (message_sid, from_number, to_number, body, params, subscriber_id, "
            "received_at, handled_at, status, handler, replies, in_inbox, attempts, replies_queued) "
            f"SELECT 'SM{copy}-' || id, phone, '+447700900000', 'MY', '{{}}', id, "
            f"{_ago(dialect, f'(CAST(id AS BIGINT) * {1812433 + copy * 7}) % {year}')}, "
            f"{_ago(dialect, f'(CAST(id AS BIGINT) * {1812433 + copy * 7}) % {year}')}, "
            "'handled', 'my', '[]', false, 1, false FROM subscribers"), at)
    connection.execute(text(
        "INSERT INTO items (kind, area_id, author_id, author_name, body, status, created_at, published_at) "
        f"SELECT 'request', ((id - 1) % {areas}) + 1, id, 'Neighbour', 'A lift to the GP', 'closed', "
        f"{_ago(dialect, f'(CAST(id AS BIGINT) * 1103515) % {year}')}, "
        f"{_ago(dialect, f'(CAST(id AS BIGINT) * 1103515) % {year}')} "
        f"FROM subscribers WHERE ((id - 1) / {areas}) % 5 = 0"), at)
    # A neighbour from the same area offers (the next person of the area); a few people help often.
    helper = f"CASE WHEN i.author_id + {areas} <= {subscribers} THEN i.author_id + {areas} ELSE i.author_id - {areas} END"
    connection.execute(text(
        "INSERT INTO responses (item_id, responder_id, kind, number, status, created_at) "
        f"SELECT i.id, {helper}, 'offer', 1, 'accepted', i.published_at FROM items i WHERE i.id % 3 <> 0"))
    connection.execute(text(
        "INSERT INTO matches (item_id, owner_id, helper_id, status, created_at) "
        "SELECT r.item_id, i.author_id, r.responder_id, 'done', r.created_at FROM responses r "
        "JOIN items i ON i.id = r.item_id"))
    connection.execute(text(
        "INSERT INTO exchanges (item_id, match_id, area_id, giver_id, receiver_id, description, hours, created_at) "
        "SELECT m.item_id, m.id, i.area_id, m.helper_id, m.owner_id, i.body, 1.5, m.created_at "
        "FROM matches m JOIN items i ON i.id = m.item_id"))


def tidy(engine: Engine) -> None:
    """VACUUM ANALYZE the seeded tables, as autovacuum keeps a live board's (visibility maps for index-only
    scans, statistics); only those tables: a database-wide pass would wait on other schemas' locks."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        verb = "ANALYZE" if connection.dialect.name == "sqlite" else "VACUUM ANALYZE"
        for table in SEEDED:
            connection.execute(text(f"{verb} {table}"))


def plain_aggregate(area: bool) -> str:
    """The baseline: one plain aggregate over the same rows the report reads (the month's texts acted
    on, joins, exchanges and requests, and the memberships), counted with no join, no DISTINCT and no
    figure's logic: the least any report of those rows can cost."""
    where = " AND area_id = :area" if area else ""
    texts = ("SELECT count(*) FROM inbound_messages WHERE status = 'handled' AND handler <> 'inbox' "
             "AND handled_at >= :start AND handled_at < :end")
    if area:
        texts = ("SELECT count(*) FROM subscriptions s JOIN inbound_messages m ON m.subscriber_id = s.subscriber_id "
                 "WHERE s.area_id = :area AND m.status = 'handled' AND m.handler <> 'inbox' "
                 "AND m.handled_at >= :start AND m.handled_at < :end")
    return ("SELECT "
            f"(SELECT count(*) FROM subscriptions WHERE status = 'active'{where}), ({texts}), "
            "(SELECT count(*) FROM consent_events WHERE action = 'subscribe' AND created_at >= :start "
            f"AND created_at < :end{where}), "
            "(SELECT count(*) + coalesce(sum(hours), 0) FROM exchanges WHERE created_at >= :start "
            f"AND created_at < :end{where}), "
            "(SELECT count(*) FROM items WHERE kind = 'request' AND published_at >= :start "
            f"AND published_at < :end{where})")


def timed(work: Callable[[], object], repeat: int) -> float:
    work()  # warm: plans cached, pages read
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run(engine: Engine, subscribers: int, repeat: int) -> list[tuple[str, float]]:
    now = datetime.now(UTC)
    started = time.perf_counter()
    with engine.begin() as connection:
        seed(connection, subscribers, now)
    print(f"  seeded {subscribers:,} subscribers in {time.perf_counter() - started:.1f} s")
    # The seed is history written before migration 0027: the migration keeps each person's first join
    # from it, as it would on a live board.
    started = time.perf_counter()
    upgrade(engine)
    print(f"  migrations 0027-0028 (first joins kept, indexes built) in {time.perf_counter() - started:.1f} s")
    tidy(engine)
    from zoneinfo import ZoneInfo

    period = month_period(last_complete_month(now, ZoneInfo(ZONE)), ZoneInfo(ZONE))
    bounds = {"start": period.start.replace(tzinfo=None) if period.start else None,
              "end": period.end.replace(tzinfo=None) if period.end else None, "area": AREA}
    with Session(engine) as session:
        def each(work: Callable[[], object]) -> Callable[[], object]:
            def once() -> object:
                try:
                    return work()
                finally:
                    session.rollback()  # each its own transaction, as `sms-board report` runs it
            return once

        plain_board = each(lambda: session.execute(text(plain_aggregate(False)), bounds).one())
        plain_area = each(lambda: session.execute(text(plain_aggregate(True)), bounds).one())
        board = each(lambda: figures(session, Scope.of(None), period, now))
        area = each(lambda: figures(session, Scope.of(AREA), period, now))
        for scope, found in (("the board", board()), (f"area {AREA}", area())):
            print(f"  {scope}'s month: {found['exchanges']:,} exchanges, {found['new_connections']:,} new "
                  f"connections, {found['requests']:,} requests, {found['active_members']:,} active, "
                  f"{found['new_members']:,} new, {found['isolated_members']:,} isolated")
        return [("baseline: plain aggregate, whole board", timed(plain_board, repeat)),
                ("report, whole board", timed(board, repeat)),
                ("baseline: plain aggregate, one area", timed(plain_area, repeat)),
                ("report, one area", timed(area, repeat))]


def fresh_engine(url: str, postgres: bool, size: int) -> tuple[Engine, str | None]:
    if not postgres:
        return make_engine(url), None
    schema = f"bench_report_{os.getpid()}_{size}"
    with create_engine(url).begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    return make_engine(url, connect_args={"options": f"-csearch_path={schema}"}), schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000", help="subscribers, comma-separated (e.g. 100000,1000000)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    arguments = parser.parse_args()
    postgres = make_url(arguments.database_url).get_backend_name() == "postgresql" \
        if arguments.database_url != "sqlite" else False
    print("| subscribers | measure | median ms | / its plain aggregate |")
    rows: list[str] = []
    areas: list[tuple[int, float]] = []
    machine = ""
    for size in (int(part) for part in arguments.sizes.split(",")):
        workdir = Path(tempfile.mkdtemp(prefix="sms-board-bench-report-"))
        url = local_only(arguments.database_url, workdir)
        engine, schema = fresh_engine(url, postgres, size)
        try:
            upgrade(engine, "0026")  # (to head after seeding: `run`)
            machine = describe_machine(engine)
            print(f"{engine.dialect.name}, {size:,} subscribers:")
            measured = run(engine, size, arguments.repeat)
            found = dict(measured)
            base = {"board": found["baseline: plain aggregate, whole board"],
                    "area": found["baseline: plain aggregate, one area"]}
            rows += [f"| {size:,} | {name} | {ms:.1f} | {ms / base['area' if 'area' in name else 'board']:.2f}× |"
                     for name, ms in measured]
            areas.append((size, found["report, one area"]))
            print("\n".join(rows[-len(measured):]), flush=True)
        finally:
            engine.dispose()
            if schema:
                with create_engine(url).begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    print(machine)
    print("| subscribers | measure | median ms | / its plain aggregate |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    if len(areas) > 1:
        (small, first), (large, last) = areas[0], areas[-1]
        print(f"one area's report: {first:.1f} ms at {small:,} subscribers, {last:.1f} ms at {large:,} "
              f"({last / first:.2f}× for {large // small}× the board)")


if __name__ == "__main__":
    main()
