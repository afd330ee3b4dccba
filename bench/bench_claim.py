"""Benchmark: the sender's claim with a million texts waiting, most urgent lane first.

    .venv/bin/python bench/bench_claim.py                      # 1,000,000 queued rows
    .venv/bin/python bench/bench_claim.py --rows 100000

Seeds `--rows` queued outbox rows on PostgreSQL (127.0.0.1 only) — a digest run in the
bulk lane, an URGENT broadcast behind it, and texts to one person queued last — then:

- prints PostgreSQL's plan for the claim's row search (`delivery.claim_plan`), which must
  read the partial index `ix_outbox_claim` in (lane, id) order and stop at the first row;
- claims rows one at a time with the real `delivery.claim` (each in its own transaction,
  as the sender does) and reports the mean time per claim against a baseline measured in
  the same run: the same number of single-row primary-key `SELECT … FOR UPDATE` + `UPDATE`
  transactions (the least any claim can cost);
- checks the order: every direct text first, then the urgent ones, then the digest.

Times are printed, never asserted; the ratio is the headline. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime

from benchlib import DEFAULT_URL, local_only
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sms_board.plumbing.db import make_engine, make_session_factory
from sms_board.plumbing.migrate import upgrade
from sms_board.sending.delivery import claim, claim_plan

CLAIMS = 300


def seed(connection, rows: int, direct: int, urgent: int) -> None:  # type: ignore[no-untyped-def]
    """Bulk digest rows first (oldest ids), then urgent, then direct texts to one person."""
    connection.execute(text(
        "INSERT INTO outbox (to_number, body, kind, status, lane, segments, encoding, attempts, created_at) "
        "SELECT '+4470000' || lpad(n::text, 6, '0'), 'Elm Street digest', "
        "CASE WHEN n > :bulk + :urgent THEN 'notify' WHEN n > :bulk THEN 'broadcast' ELSE 'digest' END, "
        "'queued', CASE WHEN n > :bulk + :urgent THEN 0 WHEN n > :bulk THEN 1 ELSE 2 END, 1, 'GSM-7', 0, now() "
        "FROM generate_series(1, :rows) AS n"
    ), {"rows": rows, "bulk": rows - direct - urgent, "urgent": urgent})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    arguments = parser.parse_args()
    url = local_only(arguments.database_url)
    if make_url(url).get_backend_name() != "postgresql":
        raise SystemExit("the claim plan is PostgreSQL's: give a PostgreSQL URL on 127.0.0.1")
    schema = f"bench_claim_{os.getpid()}"
    with create_engine(url).begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    direct, urgent = CLAIMS // 3, CLAIMS // 3
    try:
        upgrade(engine)
        started = time.perf_counter()
        with engine.begin() as connection:
            seed(connection, arguments.rows, direct, urgent)
            connection.execute(text("ANALYZE outbox"))
        print(f"postgresql: {arguments.rows:,} queued rows ({direct} direct, {urgent} urgent, the rest a digest), "
              f"seeded in {time.perf_counter() - started:.1f} s")
        factory = make_session_factory(engine)
        now = datetime.now(UTC)
        with factory() as session:
            print("claim plan (EXPLAIN):")
            for line in claim_plan(session, now).splitlines():
                print("   ", line)

        started = time.perf_counter()
        lanes = []
        for _ in range(CLAIMS):
            with factory.begin() as session:
                [claimed] = claim(session, now)
                lanes.append(claimed.id)
        claim_seconds = (time.perf_counter() - started) / CLAIMS

        started = time.perf_counter()
        for n in range(CLAIMS):
            with engine.begin() as connection:
                row_id = connection.execute(text("SELECT id FROM outbox WHERE id = :id FOR UPDATE"),
                                            {"id": n + 1}).scalar_one()
                connection.execute(text("UPDATE outbox SET attempts = attempts + 1 WHERE id = :id"), {"id": row_id})
        baseline_seconds = (time.perf_counter() - started) / CLAIMS

        with engine.connect() as connection:
            kinds = [connection.execute(text("SELECT kind FROM outbox WHERE id = :id"), {"id": i}).scalar_one()
                     for i in lanes]
        expected = ["notify"] * direct + ["broadcast"] * urgent + ["digest"] * (CLAIMS - direct - urgent)
        print(f"  order: {'direct, then urgent, then digest' if kinds == expected else 'WRONG: ' + str(kinds[:10])}")
        print(f"  baseline (primary-key lock + update)  {baseline_seconds * 1000:6.2f} ms per transaction")
        print(f"  claim (lane order, {arguments.rows:,} waiting) {claim_seconds * 1000:6.2f} ms per claim")
        print(f"  claim/baseline: {claim_seconds / baseline_seconds:.2f}x")
    finally:
        engine.dispose()
        with create_engine(url).begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
