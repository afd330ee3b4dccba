"""Benchmark: dashboard pages at 10,000 subscribers, against a bare page measured in the same run.

    .venv/bin/python bench/bench_dashboard.py                       # PostgreSQL on 127.0.0.1
    .venv/bin/python bench/bench_dashboard.py --database-url sqlite  # a new SQLite file
    .venv/bin/python bench/bench_dashboard.py --subscribers 50000

Seeds `--subscribers` residents in 20 areas (joined over 60 days), a month of outbox rows
(digests and broadcasts to everyone, a few hundred texts to one person), 2,000 inbox
texts, requests, offers, connections and exchanges. Then, through the real app with
Flask's test client (no network), an organiser of one area and an administrator of all
of them sign in by code and each page is fetched `--requests` times. The baseline is a
page of the same app (same session cookie, CSRF, headers and layout template) whose
only query is `SELECT 1`. Times are printed, never asserted: medians, 95th percentiles,
and the ratio to the baseline. Target: every page under 100 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import DEFAULT_URL, local_only, numbers
from flask import Blueprint, render_template_string
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from sms_board import create_app
from sms_board.app import board_of
from sms_board.models import Outbox
from sms_board.plumbing.db import make_engine
from sms_board.plumbing.migrate import upgrade
from sms_board.web import sessions

ORGANISER, ADMIN = "+447700900001", "+447700900002"
AREAS = 20
PAGES = ["/dashboard", "/dashboard/inbox", "/dashboard/subscribers", "/dashboard/subscribers?digits=123",
         "/dashboard/exchange", "/dashboard/broadcast", "/dashboard/broadcasts/1", "/dashboard/admin"]


def _phone(dialect: str) -> str:
    # 12-digit UK mobiles: not possible numbers, so nothing seeded here could ever reach a person.
    if dialect == "sqlite":
        return "'+4477009' || substr('0000000' || n, -7, 7)"
    return "'+4477009' || lpad(n::text, 7, '0')"


def seed(connection: Any, subscribers: int, now: datetime) -> None:
    dialect = connection.dialect.name
    start = now - timedelta(days=60)
    connection.execute(text(
        numbers(AREAS) + "INSERT INTO areas (slug, name, timezone, private, moderation, created_at) "
        "SELECT 'area-' || n, 'Area ' || n, 'Europe/London', false, 'open', :at FROM g"), {"at": start})
    connection.execute(text(
        numbers(subscribers) + "INSERT INTO subscribers (phone, name, is_admin, digest_frequency, created_at, "
        f"more_page) SELECT {_phone(dialect)}, 'Neighbour ' || n, false, 'daily', :at, 0 FROM g"), {"at": start})
    seconds = int((now - start).total_seconds())
    # Joined over 60 days; one in twenty has left.
    connection.execute(text(
        "INSERT INTO subscriptions (subscriber_id, area_id, status, consent_at, consent_text, consent_channel, ended_at) "
        "SELECT s.id, ((s.id - 1) % :areas) + 1, CASE WHEN s.id % 20 = 0 THEN 'left' ELSE 'active' END, "
        ":start + (s.id * :step) * INTERVAL_SECOND, 'JOIN', 'import', "
        "CASE WHEN s.id % 20 = 0 THEN :now ELSE NULL END FROM subscribers s".replace(
            ":start + (s.id * :step) * INTERVAL_SECOND",
            "datetime(:start, '+' || (s.id * :step) || ' seconds')" if dialect == "sqlite"
            else "CAST(:start AS timestamp) + (s.id * :step) * interval '1 second'")),
        {"areas": AREAS, "start": start.replace(tzinfo=None), "step": seconds // subscribers,
         "now": now.replace(tzinfo=None)})
    day = "datetime(:now, '-' || (n % 30) || ' days')" if dialect == "sqlite" else \
        "CAST(:now AS timestamp) - (n % 30) * interval '1 day'"
    # A month of texts: three digests and a broadcast to everyone, and texts to one person.
    for run in range(4):
        connection.execute(text(
            f"INSERT INTO outbox (to_number, subscriber_id, body, kind, status, lane, segments, encoding, attempts, "
            f"created_at) SELECT s.phone, s.id, 'Area digest', '{'broadcast' if run == 3 else 'digest'}', "
            "CASE WHEN s.id % 50 = 0 THEN 'failed' WHEN s.id % 7 = 0 THEN 'sent' ELSE 'delivered' END, 2, 2, "
            "'GSM-7', 1, " + day.replace("n %", f"(s.id + {run * 7}) %") + " FROM subscribers s"),
            {"now": now.replace(tzinfo=None)})
    connection.execute(text(
        numbers(2000) + "INSERT INTO inbound_messages (message_sid, from_number, to_number, body, params, "
        "subscriber_id, received_at, status, handler, replies, in_inbox, area_id, attempts, replies_queued) "
        "SELECT 'SMbench' || n, s.phone, '+447700900000', 'is anyone collecting the old sofa ' || n, '{}', s.id, "
        + day + ", 'handled', 'inbox', '[]', true, ((s.id - 1) % :areas) + 1, 1, false "
        "FROM g JOIN subscribers s ON s.id = n * 5"), {"now": now.replace(tzinfo=None), "areas": AREAS})
    connection.execute(text(
        numbers(1000) + "INSERT INTO items (kind, area_id, author_id, author_name, body, status, created_at, "
        "published_at) SELECT CASE WHEN n % 3 = 0 THEN 'offer' ELSE 'request' END, ((n - 1) % :areas) + 1, n, "
        "'Neighbour ' || n, 'A lift to the GP on Thursday ' || n, 'published', " + day + ", " + day + " FROM g"),
        {"now": now.replace(tzinfo=None), "areas": AREAS})
    connection.execute(text(
        "INSERT INTO matches (item_id, owner_id, helper_id, status, created_at) "
        "SELECT id, author_id, author_id + 1, CASE WHEN id % 2 = 0 THEN 'done' ELSE 'connected' END, created_at "
        "FROM items WHERE id % 3 = 1"))
    connection.execute(text(
        "INSERT INTO exchanges (item_id, match_id, area_id, giver_id, receiver_id, description, hours, created_at) "
        "SELECT m.item_id, m.id, i.area_id, m.helper_id, m.owner_id, i.body, 1.5, m.created_at "
        "FROM matches m JOIN items i ON i.id = m.item_id WHERE m.status = 'done'"))
    connection.execute(text(
        "INSERT INTO campaigns (kind, status, area_id, area_ids, body, urgent, channel, audience, segments, "
        "estimated_cost, created_at) VALUES ('broadcast', 'done', 1, '[1]', 'Area 1: bins', false, 'web', 500, 1, "
        "20.0, :now)"), {"now": now.replace(tzinfo=None)})
    connection.execute(text("UPDATE outbox SET campaign_id = 1 WHERE kind = 'broadcast' AND subscriber_id % :areas = 1"),
                       {"areas": AREAS})


def sign_in(app: Any, number: str) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"csrf_token": token, "number": number})
    with board_of(app).sessions() as session:
        body = session.scalar(select(Outbox.body).where(Outbox.to_number == number).order_by(Outbox.id.desc()))
    code = re.search(r"code is (\d{6})", body or "").group(1)  # type: ignore[union-attr]
    page = client.get("/login/code").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post("/login/code", data={"csrf_token": token, "code": code})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def baseline_page() -> Blueprint:
    bp = Blueprint("bench", __name__)

    @bp.get("/bench/select-1")
    def select_one() -> str:
        with sessions()() as session:
            one = session.execute(text("SELECT 1")).scalar()
        return render_template_string('{% extends "base.html" %}{% block body %}<p>{{ one }}</p>{% endblock %}', one=one)

    return bp


def timed(client: Any, path: str, requests: int) -> tuple[float, float]:
    for _ in range(3):
        assert client.get(path).status_code == 200, path
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    arguments = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sms-board-bench-"))
    url = local_only(arguments.database_url, workdir)
    postgres = make_url(url).get_backend_name() == "postgresql"
    schema = f"bench_dashboard_{os.getpid()}"
    if postgres:
        with create_engine(url).begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    else:
        engine = make_engine(url)
    try:
        upgrade(engine)
        now = datetime.now(UTC)
        started = time.perf_counter()
        with engine.begin() as connection:
            seed(connection, arguments.subscribers, now)
            if postgres:
                connection.execute(text("ANALYZE"))
        app = create_app({"TESTING": True, "ENGINE": engine, "DATABASE_URL": url, "SMS_BOARD_INSTANCE_PATH": str(workdir),
                          "SECRET_KEY": "bench", "SMS_BOARD_TRANSPORT": "console", "SMS_BOARD_QUIET_HOURS": "",
                          "TWILIO_FROM_NUMBER": "+447700900000"})
        app.register_blueprint(baseline_page())
        from click.testing import CliRunner

        from sms_board.cli import cli
        CliRunner().invoke(cli, ["organiser", "add", ORGANISER, "area-1"], obj=board_of(app), catch_exceptions=False)
        CliRunner().invoke(cli, ["admin", "add", ADMIN], obj=board_of(app), catch_exceptions=False)
        print(f"{engine.dialect.name}: {arguments.subscribers:,} subscribers in {AREAS} areas, a month of texts, "
              f"seeded in {time.perf_counter() - started:.1f} s; {arguments.requests} requests a page")
        rows = []
        for who, number in (("organiser of 1 area", ORGANISER), ("administrator, every area", ADMIN)):
            client = sign_in(app, number)
            base, base95 = timed(client, "/bench/select-1", arguments.requests)
            rows.append((who, "baseline: SELECT 1 page", base, base95, 1.0))
            for path in PAGES if number == ADMIN else PAGES[:-1]:
                median, p95 = timed(client, path, arguments.requests)
                rows.append((who, path, median, p95, median / base))
        print(f"| who | page | median ms | p95 ms | page/baseline |  ({engine.dialect.name})")
        print("|---|---|---|---|---|")
        for who, path, median, p95, ratio in rows:
            print(f"| {who} | `{path}` | {median:.1f} | {p95:.1f} | {ratio:.1f}× |")
        worst = max(rows, key=lambda row: row[3])
        print(f"slowest p95: {worst[1]} ({worst[0]}) {worst[3]:.1f} ms; target < 100 ms")
    finally:
        engine.dispose()
        if postgres:
            with create_engine(url).begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
