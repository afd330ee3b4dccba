"""Benchmark: the sender draining the outbox into a fake Twilio, against the same client with no database.

    .venv/bin/python bench/bench_sender.py
    .venv/bin/python bench/bench_sender.py --rates 10,50,100 --seconds 8 --latency 0.1
    .venv/bin/python bench/bench_sender.py --database-url sqlite

Starts a fake Twilio Messages API (a threaded `http.server` on 127.0.0.1, in a
child process so its Python does not compete for the sender's GIL; `--fake-in-process`
runs it in a thread instead) that answers `POST /2010-04-01/Accounts/{sid}/Messages.json`
with Twilio's 201 message JSON after `--latency` seconds, counting the requests, the
most in flight, and when each request arrived. Then, for each configured rate R,
in one run:

- sender: R × `--seconds` queued outbox rows (written with one `INSERT … SELECT`) drained
  by the real `sender.drain` with the real `TwilioTransport`, its twilio `Client` aimed at
  the fake (`client.api.base_url`), at `SMS_BOARD_RATE=R` and
  `SMS_BOARD_SENDER_CONCURRENCY=C` (default ceil(R × latency × 1.5) + 2);
- paced: the same client and C threads, no database, paced by an in-memory copy of the
  slot limiter (book `max(next_slot, now)`, move it on by 1/R, sleep until it): the
  best this design can do at R with C in flight;
- raw: the same client and C threads calling `client.messages.create` as fast as they
  can for the same count: the capacity of fake + client at C.

The achieved rate is measured where Twilio would see it, from the arrival times at the
fake, leaving out the first wave of C requests (each worker's first send: thread start,
its first claim, a new TCP connection, the twilio client's lazy imports): with a_1 … a_n
the arrivals, achieved = (n − C − 1) / (a_n − a_(C+1)). So the start-up and the last
answer's latency and bookkeeping are not counted, and a perfect limiter scores exactly R.
"wall" is requests / the whole `drain()` call (or pool run), start-up and tail included.

Diagnostics per sender run: SQL statements and pool checkouts (each checkout is also a
pre-ping round trip) per text, how long a text holds a connection, the most connections
out at once and how many new ones were opened; the mean and p95 time of one
`SlotLimiter.take()` and of the part of it holding the `sender_state` row lock (lock
granted → commit returned) and how many takes booked a block in the row (the rest came
from the block booked before); the slot time lost because no worker was waiting when a slot
came free (capacity the limiter never gives back); the CPU this process used (its GIL
allows about one core) and how busy the whole machine was. With `--processes N`, each sender
process counts its slots (`CountingLimiter`): booked in the shared row, handed out to its threads,
expired (booked, and past before any thread of that process took them: lost to every process),
offered back when its drain ended, and how far ahead of now its blocks started.
Times are printed, never asserted. Only 127.0.0.1 is used; the seeded numbers are not
possible phone numbers. Not part of the test suite; results go in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import re
import resource
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.request import Request, urlopen

from benchlib import DEFAULT_URL, describe_machine, local_only, numbers
from sqlalchemy import create_engine, delete, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from sms_board.models import Campaign, SenderState
from sms_board.plumbing.config import Settings, load_settings
from sms_board.plumbing.db import make_engine, make_session_factory
from sms_board.plumbing.migrate import upgrade
from sms_board.sending.ratelimit import SlotLimiter
from sms_board.sending.sender import drain
from sms_board.sending.transport import TwilioTransport

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
FROM_NUMBER = "+15005550006"  # Twilio's test "from" number
BODY = ("Bin collection moves to Friday this week because of the bank holiday. "
        "Reply STOP to stop, HELP for help.")  # one GSM-7 segment


# ── the fake Twilio ────────────────────────────────────────────────────────


MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Messages\.json$")


class FakeTwilioServer(ThreadingHTTPServer):
    """Twilio's Messages API, one thread per connection, answering after `latency` seconds."""

    daemon_threads = True
    request_queue_size = 256  # the default 5 would refuse connections under a burst

    def __init__(self, latency: float) -> None:
        super().__init__(("127.0.0.1", 0), FakeTwilioHandler)
        self.latency = latency
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.connections = 0  # TCP connections opened (kept alive: many requests on one)
            self.requests = 0
            self.in_flight = 0
            self.max_in_flight = 0
            self.arrivals: list[float] = []

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {"requests": self.requests, "max_in_flight": self.max_in_flight, "arrivals": self.arrivals,
                    "connections": self.connections}


class FakeTwilioHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the twilio client's requests.Session expects
    # Headers and body go out in two writes: with Nagle on, the body waits for the client's
    # delayed ACK (about 40 ms on Linux), which real Twilio does not add.
    disable_nagle_algorithm = True
    server: FakeTwilioServer

    def setup(self) -> None:  # once per TCP connection
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/_reset":
            self.server.reset()
            return self._reply(200, {})
        found = MESSAGES_PATH.match(self.path)
        if not found:
            return self._reply(404, {"code": 20404, "message": "The requested resource was not found",
                                     "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404})
        fake = self.server
        with fake.lock:
            arrived = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process
            fake.requests += 1
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
            fake.arrivals.append(arrived)
        try:
            time.sleep(fake.latency)
            form = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
            self._reply(201, message_json(found.group(1), form))
        finally:
            with fake.lock:
                fake.in_flight -= 1

    def do_GET(self) -> None:
        if self.path == "/_stats":
            return self._reply(200, self.server.stats())
        self._reply(404, {"code": 20404, "message": "not found", "status": 404})

    def _reply(self, status: int, document: dict[str, Any]) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # one line per request would drown the table
        pass


def message_json(account_sid: str, form: dict[str, str]) -> dict[str, Any]:
    sid = "SM" + uuid.uuid4().hex
    now = formatdate(usegmt=True)
    return {
        "account_sid": account_sid, "api_version": "2010-04-01", "body": form.get("Body", ""),
        "date_created": now, "date_updated": now, "date_sent": None, "direction": "outbound-api",
        "error_code": None, "error_message": None, "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"), "num_media": "0", "num_segments": "1",
        "price": None, "price_unit": "USD", "sid": sid, "status": "queued", "to": form.get("To"),
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media.json"},
    }


def _serve_in_child(latency: float, port_pipe: Any) -> None:
    server = FakeTwilioServer(latency)
    port_pipe.send(server.server_address[1])
    server.serve_forever(poll_interval=0.2)


class FakeTwilio:
    """Starts the fake in a child process (default) or a thread; `stats()` and `reset()` over HTTP."""

    def __init__(self, latency: float, in_process: bool) -> None:
        self.process: multiprocessing.process.BaseProcess | None = None
        self.server: FakeTwilioServer | None = None
        if in_process:
            self.server = FakeTwilioServer(latency)
            self.port = self.server.server_address[1]
            threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
        else:
            context = multiprocessing.get_context("fork")  # before any thread or connection exists
            receive, send = context.Pipe(duplex=False)
            self.process = context.Process(target=_serve_in_child, args=(latency, send), daemon=True)
            self.process.start()
            if not receive.poll(10):
                raise RuntimeError("the fake Twilio did not start")
            self.port = receive.recv()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        urlopen(Request(f"{self.base_url}/_reset", data=b"", method="POST"), timeout=5).read()

    def stats(self) -> dict[str, Any]:
        with urlopen(f"{self.base_url}/_stats", timeout=5) as answer:
            return json.loads(answer.read())

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.process is not None:
            self.process.terminate()
            self.process.join(5)


# ── database ───────────────────────────────────────────────────────────────






def seed_subscribers(engine: Engine, count: int, joined: datetime) -> None:
    # 12-digit UK mobiles: not possible numbers, so nothing seeded here could ever reach a person.
    padded = "substr('0000000' || n, -7, 7)" if engine.dialect.name == "sqlite" else "lpad(n::text, 7, '0')"
    with engine.begin() as connection:
        connection.execute(text(
            numbers(count) + "INSERT INTO subscribers (phone, name, is_admin, digest_frequency, created_at, more_page) "
            f"SELECT '+4477009' || {padded}, 'Neighbour ' || n, false, 'daily', :at, 0 FROM g"
        ), {"at": joined})


def queue_texts(factory: sessionmaker[Session], count: int, now: datetime) -> tuple[int, int]:
    """`count` queued texts, one per subscriber, under a new campaign; the sender's rate row starts afresh."""
    with factory.begin() as session:
        session.execute(delete(SenderState))  # no slot booked by the previous run carries over
        campaign = Campaign(kind="broadcast", status="sending", area_ids=[], body=BODY, created_at=now)
        session.add(campaign)
        session.flush()
        rows = session.execute(text(
            "INSERT INTO outbox (to_number, subscriber_id, body, kind, status, segments, encoding, attempts, "
            "campaign_id, created_at) SELECT phone, id, :body, 'broadcast', 'queued', 1, 'GSM-7', 0, :cid, :at "
            "FROM subscribers WHERE id <= :n"
        ), {"body": BODY, "cid": campaign.id, "at": now, "n": count}).rowcount
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE outbox"))
        return campaign.id, rows


def status_counts(engine: Engine, campaign_id: int) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(text(
            "SELECT status, count(*) FROM outbox WHERE campaign_id = :cid GROUP BY status"
        ), {"cid": campaign_id}).all())


class DbCounter:
    """SQL statements, pool checkouts (each also pings: one more round trip), connections held at once and for how long."""

    def __init__(self, engine: Engine) -> None:
        self.statements = self.checkouts = self.connects = self.out = self.max_out = 0
        self.held = 0.0
        self._since: dict[int, float] = {}
        self._lock = threading.Lock()
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine.pool, "checkout", self._checkout)
        event.listen(engine.pool, "checkin", self._checkin)
        event.listen(engine.pool, "connect", self._connect)

    def _statement(self, *_: Any) -> None:
        with self._lock:
            self.statements += 1

    def _connect(self, *_: Any) -> None:
        with self._lock:
            self.connects += 1

    def _checkout(self, _dbapi: Any, record: Any, _proxy: Any) -> None:
        with self._lock:
            self.checkouts += 1
            self.out += 1
            self.max_out = max(self.max_out, self.out)
            self._since[id(record)] = time.perf_counter()

    def _checkin(self, _dbapi: Any, record: Any) -> None:
        with self._lock:
            since = self._since.pop(id(record), None)
            if since is not None:
                self.out -= 1
                self.held += time.perf_counter() - since

    def start(self) -> tuple[int, int, int, float]:
        with self._lock:
            self.max_out = self.out
            return self.statements, self.checkouts, self.connects, self.held

    def since(self, start: tuple[int, int, int, float]) -> tuple[int, int, int, float]:
        with self._lock:
            return (self.statements - start[0], self.checkouts - start[1], self.connects - start[2],
                    self.held - start[3])


class TimedLimiter(SlotLimiter):
    """The real SlotLimiter (on its own sessionmaker), timed: each `take()`, the row lock, the slot time lost."""

    def __init__(self, engine: Engine, rate: float) -> None:
        super().__init__(make_session_factory(engine), rate)
        self.takes: list[float] = []
        self.holds: list[float] = []  # from the row lock asked for to the commit (or the autocommitted statement) returning
        self.lost = 0.0  # seconds of slots nobody was waiting for
        self.bookings = 0  # takes that booked a block in the row (the others came from the last block)
        self._booked_until: datetime | None = None
        self._local = threading.local()
        self._lock = threading.Lock()
        event.listen(self.factory, "after_commit", self._committed)

    def _locked_state(self, session: Session) -> SenderState:
        self._local.locked_at = time.perf_counter()
        return super()._locked_state(session)

    def _book_in_one_statement(self, engine: Engine, step: timedelta) -> datetime | None:
        # Autocommitted: the lock ends with the statement, which this brackets.
        self._local.locked_at = time.perf_counter()
        booked = super()._book_in_one_statement(engine, step)
        self._local.committed_at = time.perf_counter()
        return booked

    def _committed(self, _session: Session) -> None:
        self._local.committed_at = time.perf_counter()

    def take(self, units: float = 1) -> datetime:
        started = time.perf_counter()
        self._local.locked_at = None  # stays None when the slot came from the block booked before
        start = super().take(units)
        done = time.perf_counter()
        with self._lock:
            self.takes.append(done - started)
            if self._local.locked_at is not None:
                self.holds.append(self._local.committed_at - self._local.locked_at)
                self.bookings += 1
            # One process books every slot, so a gap between the last booking's end and
            # this slot's start is time nobody was waiting for (the first slot is the start).
            if self._booked_until is not None and start > self._booked_until:
                self.lost += (start - self._booked_until).total_seconds()
            end = start + timedelta(seconds=units / self.rate)
            self._booked_until = max(self._booked_until or end, end)
        return start


class CountingLimiter(SlotLimiter):
    """The real SlotLimiter, counting slot time: booked in the row, handed out, expired unused, given back.

    All in slots (seconds × rate). Expired: free time this process had booked that passed with no
    thread of its own taking it (trimmed from the free list, or cleared); lead: how far ahead of
    now each booked block started (a thread waits at least that long for the first slot of it).
    """

    def __init__(self, factory: sessionmaker[Session], rate: float) -> None:
        super().__init__(factory, rate)
        self.booked = self.handed = self.expired = self.returned = 0.0
        self.bookings = 0
        self.leads: list[float] = []
        self.block_sizes: list[float] = []

    def _book(self, length: timedelta) -> datetime:
        moment = self.now()
        start = super()._book(length)
        self.bookings += 1
        self.booked += length.total_seconds() * self.rate
        self.block_sizes.append(length.total_seconds() * self.rate)
        self.leads.append((start - moment).total_seconds())
        return start

    def _free_seconds(self) -> float:
        return sum((end - start).total_seconds() for start, end in self._free)

    def _take_free_locked(self, step: timedelta, moment: datetime) -> datetime | None:
        before = self._free_seconds()
        start = super()._take_free_locked(step, moment)
        handed = step.total_seconds() if start is not None else 0.0
        self.handed += handed * self.rate
        self.expired += (before - self._free_seconds() - handed) * self.rate  # what the limiter dropped as past
        return start

    def give_back(self, start: datetime, units: float = 1) -> None:
        self.handed -= units
        super().give_back(start, units)

    def give_back_unused(self) -> None:
        with self._free_lock:
            free = self._free_seconds() * self.rate
            last = (self._free[-1][1] - self._free[-1][0]).total_seconds() * self.rate if self._free else 0.0
        super().give_back_unused()
        self.returned += last  # offered back to the row (taken back only if nobody booked after it)
        self.expired += free - last

    def counts(self) -> dict[str, Any]:
        return {"booked": self.booked, "handed": self.handed, "expired": self.expired, "returned": self.returned,
                "bookings": self.bookings, "lead_ms": 1000 * statistics.fmean(self.leads) if self.leads else 0.0,
                "block": statistics.fmean(self.block_sizes) if self.block_sizes else 0.0}


def ms(values: list[float], quantile: float | None = None) -> float:
    if not values:
        return 0.0
    if quantile is None:
        return 1000 * statistics.fmean(values)
    return 1000 * sorted(values)[min(len(values) - 1, int(quantile * len(values)))]


# ── the three runs ─────────────────────────────────────────────────────────


@dataclass
class Run:
    label: str
    rate: float
    concurrency: int
    count: int
    requests: int = 0
    wall: float = 0.0
    arrivals: list[float] = field(default_factory=list)
    max_in_flight: int = 0
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def achieved(self) -> float:
        """Requests per second at the fake after the first wave (one request per worker)."""
        skip = min(self.concurrency, len(self.arrivals) // 4)
        counted = self.arrivals[skip:]
        span = counted[-1] - counted[0] if len(counted) > 1 else 0.0
        return (len(counted) - 1) / span if span > 0 else 0.0

    @property
    def wall_rate(self) -> float:
        return self.requests / self.wall if self.wall else 0.0


def settings_for(url: str, workdir: Path, rate: float, concurrency: int) -> Settings:
    return load_settings({
        "DATABASE_URL": url, "SMS_BOARD_INSTANCE_PATH": str(workdir), "SECRET_KEY": "bench",
        "SMS_BOARD_SUPPRESSION_KEY": "bench-suppression-key-0123456789",
        "SMS_BOARD_QUIET_HOURS": "", "SMS_BOARD_TRANSPORT": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "SMS_BOARD_PUBLIC_URL": "http://127.0.0.1:8000",  # a status callback URL in each request, as in production
        "SMS_BOARD_RATE": rate, "SMS_BOARD_RATE_UNIT": "message", "SMS_BOARD_SENDER_CONCURRENCY": concurrency,
    }, environ={})


def aimed_transport(settings: Settings, fake: FakeTwilio) -> TwilioTransport:
    """The production TwilioTransport (its own Client, timeout and connection pool), aimed at the fake."""
    transport = TwilioTransport(settings)
    transport.client.api.base_url = fake.base_url  # type: ignore[attr-defined]  # SPEC §6
    return transport


def cpu_now() -> tuple[float, float, float, float]:
    """This process's CPU seconds; the machine's busy, stolen and total jiffies (Linux; zeros elsewhere)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    try:  # user nice system idle iowait irq softirq steal (guest time is already in user)
        fields = [float(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        fields = []
    fields += [0.0] * (8 - len(fields))
    busy = sum(fields[:3]) + sum(fields[5:7])
    return usage.ru_utime + usage.ru_stime, busy, fields[7], sum(fields)


def finish(run: Run, fake: FakeTwilio, started: float, cpu: tuple[float, float, float, float]) -> Run:
    run.wall = time.monotonic() - started
    process, busy, stolen, total = (after - before for after, before in zip(cpu_now(), cpu, strict=True))
    run.notes["cpu_self"] = process / run.wall  # cores used by this process (sender threads, client)
    run.notes["cpu_machine"] = busy / total if total else 0.0  # share of all cores busy (PostgreSQL, fake too)
    run.notes["cpu_stolen"] = stolen / total if total else 0.0  # taken by the hypervisor for other guests
    stats = fake.stats()
    run.requests, run.max_in_flight = stats["requests"], stats["max_in_flight"]
    run.arrivals = sorted(stats["arrivals"])
    run.notes["connections"] = stats["connections"]
    run.notes["cpu_ms"] = 1000 * process / max(1, run.requests)  # this process's CPU per text
    return run


def run_sender(engine: Engine, factory: sessionmaker[Session], counter: DbCounter, fake: FakeTwilio,
               settings: Settings, count: int, deadline: float) -> Run:
    run = Run("sender", settings.rate, settings.sender_concurrency, count)
    campaign_id, queued = queue_texts(factory, count, datetime.now(UTC))
    assert queued == count, f"queued {queued} texts, wanted {count}"
    transport = aimed_transport(settings, fake)
    limiter = TimedLimiter(engine, settings.rate)
    stop = threading.Event()
    guard = threading.Timer(deadline, stop.set)  # bounded even if something hangs: the workers stop after their send
    guard.daemon = True
    fake.reset()
    counted_from = counter.start()
    guard.start()
    started, cpu = time.monotonic(), cpu_now()
    try:
        report = drain(factory, transport, settings, stop=stop, limiter=limiter)
    finally:
        guard.cancel()
    finish(run, fake, started, cpu)
    statements, checkouts, connects, held = counter.since(counted_from)
    sent = max(1, report.sent)
    run.notes |= {
        "sent": report.sent, "errors": len(report.errors), "stopped": stop.is_set(),
        "statuses": status_counts(engine, campaign_id),
        "statements": statements / sent, "checkouts": checkouts / sent, "held_ms": 1000 * held / sent, "connects": connects,
        "max_connections": counter.max_out, "pool_size": engine.pool.size() + getattr(engine.pool, "_max_overflow", 0),  # type: ignore[attr-defined]
        "take_ms": ms(limiter.takes), "take_p95_ms": ms(limiter.takes, 0.95),
        "hold_ms": ms(limiter.holds), "hold_p95_ms": ms(limiter.holds, 0.95), "lost_s": limiter.lost,
        "bookings": limiter.bookings,
    }
    if report.errors:
        print(f"    first error: {report.errors[0]}", flush=True)
    if run.requests != count or run.notes["statuses"] != {"sent": count}:
        print(f"    NOT ALL SENT ONCE: the fake saw {run.requests} requests for {count} texts; "
              f"outbox {run.notes['statuses']}{'; stopped by the time guard' if stop.is_set() else ''}", flush=True)
    return run


def run_client(label: str, fake: FakeTwilio, settings: Settings, count: int, paced: bool) -> Run:
    """The same client and threads with no database: paced like the limiter, or as fast as it goes."""
    run = Run(label, settings.rate, settings.sender_concurrency, count)
    client = aimed_transport(settings, fake).client
    interval = 1 / settings.rate
    next_slot = [0.0]
    slot_lock = threading.Lock()
    numbers_ = iter(f"+4477009{n:07d}" for n in range(1, count + 1))
    number_lock = threading.Lock()

    def worker() -> int:
        done = 0
        while True:
            with number_lock:
                to = next(numbers_, None)
            if to is None:
                return done
            if paced:
                with slot_lock:
                    start = max(next_slot[0], time.monotonic())
                    next_slot[0] = start + interval
                delay = start - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            client.messages.create(  # type: ignore[attr-defined]
                to=to, from_=FROM_NUMBER, body=BODY, status_callback="http://127.0.0.1:8000/sms/status?outbox_id=1"
            )
            done += 1

    fake.reset()
    started, cpu = time.monotonic(), cpu_now()
    with ThreadPoolExecutor(max_workers=settings.sender_concurrency, thread_name_prefix=label) as pool:
        futures = [pool.submit(worker) for _ in range(settings.sender_concurrency)]
        sent = sum(future.result() for future in futures)
    finish(run, fake, started, cpu)
    run.notes["sent"] = sent
    return run


# ── several sender processes sharing one rate ──────────────────────────────


def _sender_process(url: str, schema: str | None, rate: float, concurrency: int, fake_url: str, workdir: str,
                    ready: Any, go: Any, results: Any) -> None:
    """One `sms-board send` of its own (spawned): its engine, as `Board.sender_sessions` makes it, and client."""
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    engine = make_engine(url, connect_args=connect_args, pool_size=max(5, concurrency + 2), pool_pre_ping=False)
    try:
        settings = settings_for(url, Path(workdir), rate, concurrency)
        transport = TwilioTransport(settings)
        transport.client.api.base_url = fake_url  # type: ignore[attr-defined]
        factory = make_session_factory(engine)
        ready.set()
        go.wait(60)
        before = resource.getrusage(resource.RUSAGE_SELF)
        limiter = CountingLimiter(factory, settings.rate)
        report = drain(factory, transport, settings, limiter=limiter)
        after = resource.getrusage(resource.RUSAGE_SELF)
        results.put({"sent": report.sent, "errors": report.errors[:3], "slots": limiter.counts(),
                     "cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime})
    except BaseException as exc:  # the parent must not wait for an answer that never comes
        ready.set()
        results.put({"sent": 0, "errors": [repr(exc)], "cpu": 0.0, "slots": {}})
        raise
    finally:
        engine.dispose()


def run_processes(engine: Engine, factory: sessionmaker[Session], fake: FakeTwilio, url: str, schema: str | None,
                  workdir: Path, rate: float, processes: int, latency: float, count: int,
                  concurrency: int | None = None) -> Run:
    """`processes` sender processes at `SMS_BOARD_RATE=rate` together (the rate is shared through the slot row)."""
    concurrency = concurrency or default_concurrency(rate / processes, latency)
    run = Run(f"{processes} procs", rate, concurrency * processes, count)
    campaign_id, queued = queue_texts(factory, count, datetime.now(UTC))
    assert queued == count
    engine.dispose()  # this process's connections, idle now, must not crowd PostgreSQL's max_connections
    context = multiprocessing.get_context("spawn")
    ready = [context.Event() for _ in range(processes)]
    go, results = context.Event(), context.Queue()
    children = [context.Process(target=_sender_process, daemon=True,
                                args=(url, schema, rate, concurrency, fake.base_url, str(workdir), ready[n], go, results))
                for n in range(processes)]
    for child in children:
        child.start()
    for event_ in ready:
        if not event_.wait(60):
            raise RuntimeError("a sender process did not start")
    fake.reset()
    started, cpu = time.monotonic(), cpu_now()
    go.set()
    answers = [results.get(timeout=3 * count / rate + 60) for _ in children]
    for child in children:
        child.join(10)
    finish(run, fake, started, cpu)
    run.notes["cpu_ms"] = 1000 * sum(answer["cpu"] for answer in answers) / max(1, run.requests)
    run.notes["cpu_self"] = sum(answer["cpu"] for answer in answers) / run.wall
    run.notes["statuses"] = status_counts(engine, campaign_id)
    run.notes["per_process"] = [answer["sent"] for answer in answers]
    run.notes["slots"] = [answer["slots"] for answer in answers]
    for answer in answers:
        if answer["errors"]:
            print(f"    first error: {answer['errors'][0]}", flush=True)
    if run.requests != count or run.notes["statuses"] != {"sent": count}:
        print(f"    NOT ALL SENT ONCE: the fake saw {run.requests} requests for {count} texts; "
              f"outbox {run.notes['statuses']}", flush=True)
    return run


# ── main ───────────────────────────────────────────────────────────────────


def default_concurrency(rate: float, latency: float) -> int:
    return math.ceil(rate * latency * 1.5) + 2




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="10,50,100", help="messages per second to configure, comma-separated")
    parser.add_argument("--seconds", type=float, default=8.0, help="texts per rate = rate × seconds")
    parser.add_argument("--min-texts", type=int, default=40, help="at least this many texts per rate")
    parser.add_argument("--latency", type=float, default=0.100, help="the fake Twilio's answer time, seconds")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="SMS_BOARD_SENDER_CONCURRENCY for every rate (default ceil(rate × latency × 1.5) + 2)")
    parser.add_argument("--no-baseline", action="store_true", help="run only the sender (for profiling)")
    parser.add_argument("--processes", type=int, default=1,
                        help="also run this many sender processes together at each rate, sharing it (each with "
                             "ceil(rate / N × latency × 1.5) + 2 threads)")
    parser.add_argument("--process-concurrency", type=int, default=None,
                        help="with --processes: SMS_BOARD_SENDER_CONCURRENCY of each process (default as above)")
    parser.add_argument("--fake-in-process", action="store_true",
                        help="run the fake Twilio in a thread of this process (it then shares the GIL)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL),
                        help="PostgreSQL on 127.0.0.1 (a throwaway schema), a new SQLite file, or 'sqlite'")
    arguments = parser.parse_args()
    rates = [float(rate) for rate in arguments.rates.split(",") if rate.strip()]
    if not rates or min(rates) <= 0 or arguments.seconds <= 0 or arguments.latency < 0:
        parser.error("rates and seconds must be positive, latency not negative")
    counts = {rate: max(arguments.min_texts, math.ceil(rate * arguments.seconds)) for rate in rates}

    workdir = Path(tempfile.mkdtemp(prefix="sms-board-bench-"))
    url = local_only(arguments.database_url, workdir)
    postgres = make_url(url).get_backend_name() == "postgresql"
    fake = FakeTwilio(arguments.latency, arguments.fake_in_process)  # first: the child forks before any thread

    schema = f"bench_sender_{os.getpid()}"
    # Sized as the app sizes it (sms_board.app): a connection per sender thread, and two spare.
    most_threads = max(arguments.concurrency or default_concurrency(r, arguments.latency) for r in rates)
    pool = {"pool_size": max(5, most_threads + 2)}
    if postgres:
        with create_engine(url).begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        # The engine `sms-board send` makes (`Board.sender_sessions`: its pool, no pre-ping), only with
        # the throwaway schema first.
        engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"}, pool_pre_ping=False, **pool)
    else:
        engine = make_engine(url, pool_pre_ping=False, **pool)
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        started = time.perf_counter()
        seed_subscribers(engine, max(counts.values()), datetime.now(UTC) - timedelta(days=1))
        counter = DbCounter(engine)
        print(describe_machine(engine), flush=True)
        print(f"fake Twilio at {fake.base_url} ({'thread' if arguments.fake_in_process else 'child process'}), "
              f"latency {arguments.latency * 1000:.0f} ms; {max(counts.values())} subscribers seeded in "
              f"{time.perf_counter() - started:.1f} s", flush=True)

        results: list[tuple[Run, Run | None, Run | None]] = []
        for rate in rates:
            concurrency = arguments.concurrency or default_concurrency(rate, arguments.latency)
            settings = settings_for(url, workdir, rate, concurrency)
            count = counts[rate]
            expected = count / rate
            print(f"rate {rate:g}/s, concurrency {concurrency}, {count} texts (≈{expected:.1f} s at rate)", flush=True)
            sender = run_sender(engine, factory, counter, fake, settings, count, deadline=3 * expected + 30)
            line(sender)
            paced = raw = None
            if not arguments.no_baseline:
                paced = run_client("paced", fake, settings, count, paced=True)
                line(paced)
                raw = run_client("raw", fake, settings, count, paced=False)
                line(raw)
            notes = sender.notes
            print(f"    per text: {notes['statements']:.1f} SQL statements, {notes['checkouts']:.1f} pool checkouts, "
                  f"a connection held {notes['held_ms']:.1f} ms; at most {notes['max_connections']} of "
                  f"{notes['pool_size']} connections out at once, {notes['connects']} new connections", flush=True)
            print(f"   "
                  f"take() {notes['take_ms']:.1f} ms (p95 {notes['take_p95_ms']:.1f}), row lock held "
                  f"{notes['hold_ms']:.1f} ms (p95 {notes['hold_p95_ms']:.1f}) in {notes['bookings']} bookings; slot time lost {notes['lost_s']:.2f} s; "
                  f"outbox {notes['statuses']}", flush=True)
            results.append((sender, paced, raw))
            if arguments.processes > 1:
                together = run_processes(engine, factory, fake, url, schema if postgres else None, workdir, rate,
                                         arguments.processes, arguments.latency, count, arguments.process_concurrency)
                line(together)
                print(f"    texts per process {together.notes['per_process']}; outbox {together.notes['statuses']}",
                      flush=True)
                for n, slots in enumerate(together.notes["slots"]):
                    if slots:
                        print(f"    process {n}: slots booked {slots['booked']:.0f} in {slots['bookings']} bookings "
                              f"(block {slots['block']:.1f}, first slot {slots['lead_ms']:.0f} ms ahead), handed out "
                              f"{slots['handed']:.0f}, expired unused {slots['expired']:.0f}, offered back at the end "
                              f"{slots['returned']:.0f}; capacity of the run {rate * together.wall:.0f}", flush=True)
                results.append((together, paced, raw))
        table(results, arguments.latency)
    finally:
        engine.dispose()
        fake.close()
        if postgres:
            with create_engine(url).begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        shutil.rmtree(workdir, ignore_errors=True)


def line(run: Run) -> None:
    print(f"  {run.label:<7} {run.requests:>5} requests  {run.wall:6.2f} s  achieved {run.achieved:7.1f}/s  "
          f"wall {run.wall_rate:7.1f}/s  max in flight {run.max_in_flight:>3}  "
          f"connections {run.notes['connections']:>3}  CPU {run.notes['cpu_ms']:.2f} ms a text, "
          f"the sender {run.notes['cpu_self']:.2f} cores, machine {100 * run.notes['cpu_machine']:.0f}% busy"
          f" ({100 * run.notes['cpu_stolen']:.0f}% stolen)",
          flush=True)


def table(results: list[tuple[Run, Run | None, Run | None]], latency: float) -> None:
    print()
    print(f"| run | rate | C | texts | achieved | achieved/rate | paced achieved | raw capacity | sender/paced "
          f"| CPU ms/text | paced CPU ms/text | CPU/paced | HTTP connections |  (latency {latency * 1000:.0f} ms)")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")

    def ratio(value: float, base: float | None) -> str:
        return f"{value / base:.2f}" if base else "–"

    for sender, paced, raw in results:
        paced_cpu = f"{paced.notes['cpu_ms']:.2f}" if paced else "–"
        print(f"| {sender.label} | {sender.rate:g}/s | {sender.concurrency} | {sender.requests} | {sender.achieved:.1f}/s "
              f"| {100 * sender.achieved / sender.rate:.1f}% "
              f"| {f'{paced.achieved:.1f}/s' if paced else '–'} | {f'{raw.achieved:.1f}/s' if raw else '–'} "
              f"| {ratio(sender.achieved, paced.achieved if paced else None)} | {sender.notes['cpu_ms']:.2f} "
              f"| {paced_cpu} "
              f"| {ratio(sender.notes['cpu_ms'], paced.notes['cpu_ms'] if paced else None)} "
              f"| {sender.notes['connections']} |")


if __name__ == "__main__":
    main()
