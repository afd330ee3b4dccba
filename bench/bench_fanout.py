"""Benchmark: digest and broadcast fan-out against a plain INSERT … SELECT of the same rows.

    .venv/bin/python bench/bench_fanout.py --subscribers 100000 --areas 200
    .venv/bin/python bench/bench_fanout.py --sizes 10000,100000,1000000
    .venv/bin/python bench/bench_fanout.py --database-url sqlite

Seeds N subscribers spread over the areas (a few new notices in each) into a
throwaway PostgreSQL schema (or, with `--database-url sqlite`, a new SQLite file), then
times, in one run:

- baseline: one `INSERT INTO outbox … SELECT … FROM subscriptions JOIN subscribers`
  writing the same number of rows with a fixed body: the floor for any fan-out
  (measured again right before each fan-out, which is compared with it, each pair
  after a VACUUM ANALYZE);
- digest: `sms-board digest` for every area (plan groups, build pages, write the
  outbox in chunks, move last-digest times);
- broadcast: one confirmed broadcast to every area.

and prints each against the baseline, in µs per subscriber, plus how much the
process's peak memory grew during each fan-out (flat memory: it must not grow with N).

Two days of the month: on an ordinary day everyone has had this month's line on how
to stop already; on the first digest of a month everyone gets it and is stamped (one
more write per subscriber). `--month both` (the default) seeds each case afresh.
`--sizes` runs several board sizes in one go (`--per-area` subscribers in each area,
500 by default, as 100,000 in 200 areas) and ends with a table of them all. The seeded numbers are not possible phone
numbers (12-digit UK mobiles), nothing is sent, and only 127.0.0.1 is ever used.
Not part of the test suite; results go in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import DEFAULT_URL, local_only, numbers
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from sms_board.broadcast.billing import month_start
from sms_board.broadcast.broadcasts import create_broadcast, fan_out_broadcast, preview_broadcast
from sms_board.broadcast.digest_runs import digest_now
from sms_board.models import Area, Campaign, Outbox
from sms_board.plumbing.config import load_settings
from sms_board.plumbing.db import make_engine, make_session_factory
from sms_board.plumbing.migrate import upgrade

ORDINARY, FIRST = "ordinary day", "first of month"


def seed(connection: Any, subscribers: int, areas: int, items: int, joined: datetime, posted: datetime,
         reminded: datetime | None) -> None:
    connection.execute(text(
        numbers(areas) + "INSERT INTO areas (slug, name, timezone, private, moderation, created_at) "
        "SELECT 'area-' || n, 'Area ' || n, 'Europe/London', false, 'open', :at FROM g"
    ), {"at": joined})
    # 12-digit UK mobiles: not possible numbers, so nothing seeded here could ever reach a person.
    phone = ("'+4477009' || substr('0000000' || n, -7, 7)" if connection.dialect.name == "sqlite"
             else "'+4477009' || lpad(n::text, 7, '0')")
    connection.execute(text(
        numbers(subscribers) + "INSERT INTO subscribers "
        "(phone, name, is_admin, digest_frequency, created_at, more_page, stop_reminded_at) "
        f"SELECT {phone}, 'Neighbour ' || n, false, 'daily', :at, 0, :reminded FROM g"
    ), {"at": joined, "reminded": reminded})
    connection.execute(text(
        "INSERT INTO subscriptions (subscriber_id, area_id, status, consent_at, consent_text, consent_channel, "
        "last_digest_at) SELECT s.id, a.id, 'active', :at, 'JOIN', 'import', :at "
        "FROM subscribers s JOIN areas a ON a.id = ((s.id - 1) % :areas) + 1"
    ), {"at": joined, "areas": areas})
    connection.execute(text(
        numbers(items) + "INSERT INTO items (kind, area_id, author_name, body, status, created_at, published_at) "
        "SELECT 'notice', a.id, 'Sam', 'Notice ' || g.n || ' for ' || a.name || ': the community garden needs "
        "volunteers on Saturday morning to weed and water', 'published', :at, :at FROM areas a CROSS JOIN g"
    ), {"at": posted})


def timed(label: str, work: Callable[[], int]) -> tuple[float, int, float]:
    """Seconds, rows, and how much the process's peak memory grew (MB) while `work` ran."""
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    rows = work()
    elapsed = time.perf_counter() - started
    grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    print(f"  {label:<10} {rows:>8} rows  {elapsed:7.2f} s  peak memory +{grew:5.1f} MB", flush=True)
    return elapsed, rows, grew


@dataclass(frozen=True)
class Figures:
    subscribers: int
    areas: int
    month: str
    digest_baseline: float
    digest: float
    broadcast_baseline: float
    broadcast: float

    def line(self) -> str:
        per = 1e6 / self.subscribers
        return (f"| {self.subscribers:,} | {self.areas} | {self.month} | "
                f"{self.digest / self.digest_baseline:.2f}x | {self.broadcast / self.broadcast_baseline:.2f}x | "
                f"{self.digest_baseline * per:.1f} / {self.broadcast_baseline * per:.1f} | {self.digest * per:.1f} | "
                f"{self.broadcast * per:.1f} |")


def one_board(url: str, subscribers: int, areas: int, items: int, month: str) -> Figures:
    """A fresh board of this size, its baseline, digest and broadcast."""
    postgres = url != "sqlite" and make_url(url).get_backend_name() == "postgresql"
    schema = f"bench_fanout_{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="sms-board-bench-"))
    if postgres:
        with create_engine(url).begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    else:
        # Each board in a new file of its own.
        url = f"sqlite:///{workdir / 'bench.db'}"
        engine = make_engine(url)
    try:
        upgrade(engine)
        settings = load_settings({
            "DATABASE_URL": url, "SMS_BOARD_INSTANCE_PATH": str(workdir), "SECRET_KEY": "bench",
            "SMS_BOARD_QUIET_HOURS": "", "SMS_BOARD_TRANSPORT": "console",
        }, environ={})
        factory = make_session_factory(engine)
        now = datetime.now(UTC).replace(microsecond=0)
        # Reminded this month already (an ordinary day), or never (the first digest of the month).
        reminded = month_start(now, settings) if month == ORDINARY else None
        started = time.perf_counter()
        with engine.begin() as connection:
            seed(connection, subscribers, areas, items, joined=now - timedelta(days=1),
                 posted=now - timedelta(hours=1), reminded=reminded)
        def vacuum() -> None:
            # Visibility hints, free space and statistics set, so that nothing measured pays for
            # what came before it (the seeding, or the last-digest times a digest moved).
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))

        vacuum()
        print(f"{engine.dialect.name}: {subscribers} subscribers in {areas} areas, {items} new notices each, "
              f"{month} (seeded in {time.perf_counter() - started:.1f} s)", flush=True)

        def baseline() -> int:
            with factory.begin() as session:
                campaign = Campaign(kind="broadcast", status="sending", area_ids=[], body="baseline", created_at=now)
                session.add(campaign)
                session.flush()
                statement = text(
                    "INSERT INTO outbox (to_number, subscriber_id, body, kind, status, segments, encoding, attempts, "
                    "campaign_id, created_at) SELECT s.phone, s.id, :body, 'digest', 'queued', 3, 'GSM-7', 0, :cid, :at "
                    "FROM subscriptions x JOIN subscribers s ON s.id = x.subscriber_id WHERE x.status = 'active'"
                )
                return session.execute(statement, {"body": "x" * 450, "cid": campaign.id, "at": now}).rowcount

        def digest() -> int:
            return digest_now(factory, settings, now).texts

        def broadcast() -> int:
            with factory.begin() as session:
                areas = list(session.scalars(select(Area)))
                preview = preview_broadcast(session, settings, areas, "Bin collection moved to Friday", urgent=False)
                campaign_id = create_broadcast(session, preview, urgent=False, now=now, confirmed=True).id
            return fan_out_broadcast(factory, settings, campaign_id, now).texts

        # Each fan-out right after a baseline of its own, both from a vacuumed database.
        ratios = {}
        for label, work in (("digest", digest), ("broadcast", broadcast)):
            vacuum()
            base_seconds, base_rows, _ = timed("baseline", baseline)
            seconds, rows, _ = timed(label, work)
            assert rows == base_rows, f"{label} wrote {rows} rows, expected {base_rows}"
            ratios[label] = (base_seconds, seconds)
        with factory() as session:
            total = session.scalar(select(func.count()).select_from(Outbox))
        print(f"  outbox rows written: {total}")
        for label, (base_seconds, seconds) in ratios.items():
            print(f"  {label}/baseline: {seconds / base_seconds:5.2f}x  ({seconds / subscribers * 1e6:.1f} µs "
                  f"per subscriber, baseline {base_seconds / subscribers * 1e6:.1f})")
        return Figures(subscribers, areas, month, *ratios["digest"], *ratios["broadcast"])
    finally:
        engine.dispose()
        if postgres:
            with create_engine(url).begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--areas", type=int, default=20)
    parser.add_argument("--sizes", default=None,
                        help="several board sizes, e.g. 10000,100000,1000000, each with --per-area subscribers per area")
    parser.add_argument("--per-area", type=int, default=500, help="subscribers per area with --sizes")
    parser.add_argument("--month", choices=[ORDINARY, FIRST, "both"], default="both",
                        help="an ordinary day, the first digest of the month, or both")
    parser.add_argument("--items", type=int, default=5, help="new notices per area")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    arguments = parser.parse_args()
    url = "sqlite" if arguments.database_url.startswith("sqlite") else local_only(arguments.database_url)
    boards = ([(int(n), max(1, int(n) // arguments.per_area)) for n in arguments.sizes.split(",")]
              if arguments.sizes else [(arguments.subscribers, arguments.areas)])
    months = [ORDINARY, FIRST] if arguments.month == "both" else [arguments.month]
    figures = []
    for size, areas in boards:
        for month in months:
            figures.append(one_board(url, size, areas, arguments.items, month))
    print("\n| subscribers | areas | day | digest/baseline | broadcast/baseline | baselines µs/sub "
          "| digest µs/sub | broadcast µs/sub |")
    print("|---|---|---|---|---|---|---|---|")
    for figure in figures:
        print(figure.line())


if __name__ == "__main__":
    main()
