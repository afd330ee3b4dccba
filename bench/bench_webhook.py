"""Benchmark: the signed webhook under load, against the least any durable handler can do.

    .venv/bin/python bench/bench_webhook.py                       # 10 and 50 concurrent, 2 rounds
    .venv/bin/python bench/bench_webhook.py --seconds 15 --rounds 3 --concurrency 10,50
    .venv/bin/python bench/bench_webhook.py --only-counts          # statements per text, and a profile

Three servers run under the Procfile's gunicorn settings (2 workers × 4 threads), on
PostgreSQL at 127.0.0.1 in a schema of their own:

- project: the board itself (`sms_board.wsgi:create_app()`);
- minimal durable: `RequestValidator` + one `INSERT … ON CONFLICT DO NOTHING` + a fixed
  `MessagingResponse` (`webhook_baselines.minimal_durable`), the least a webhook that
  never loses a text can do;
- bare: Flask answering fixed TwiML (`webhook_baselines.bare`).

The same load generator (`wrk` with `wrk_inbound.lua`, from Debian: `apt-get install
wrk`) replays pre-signed `POST /sms/inbound` requests at each server in turn, interleaved
round by round, at each concurrency: a realistic mix of unknown texts from many senders,
JOIN from new numbers, POST and NEED from subscribers, HELP, and 10% retried MessageSids.
Every request is fresh (new MessageSids) for every run. Senders use the fictional
+1 NPA 555-01xx numbers: possible numbers, never anyone's.

It reports texts/s and p50/p99 latency per server and concurrency, the ratio project /
minimal durable, then, in process, CPU per text in Python and in PostgreSQL for the project and
the minimal durable handler with the Python time split by layer (the board's code, SQLAlchemy's
ORM and Core, psycopg, Twilio's helper, Flask), SQL statements and database round trips per
text by message type (counted with SQLAlchemy events), and a profile of where the project's time
goes. Times are printed, never asserted; the ratio is the headline. Not part of the suite.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from benchlib import DEFAULT_URL, describe_machine, local_only
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOKEN = "bench-auth-token-0123456789abcdef"
ACCOUNT = "AC" + "0" * 32
BOARD = "+447700900000"
SUBSCRIBERS = 2000
GUNICORN = ["--workers", "2", "--threads", "4"]  # as the Procfile's web process
KINDS = ("unknown", "join", "post", "need", "help", "retry")
WEIGHTS = (35, 15, 20, 10, 10, 10)


def fictional(n: int) -> str:
    """+1 NPA 555-01xx: reserved for fiction, and possible numbers for phonenumbers."""
    return f"+1{201 + n // 100:03d}55501{n % 100:02d}"


# ── the requests ───────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Text:
    kind: str
    params: dict[str, str]


def mix(count: int, rng: random.Random, first_new: int) -> Iterator[Text]:
    """`count` texts in the realistic mix; new senders are numbered from `first_new` up."""
    sent: list[Text] = []
    new = first_new
    for _ in range(count):
        kind = rng.choices(KINDS, WEIGHTS)[0]
        if kind == "retry" and sent:
            yield Text("retry", rng.choice(sent[-200:]).params)
            continue
        member = fictional(rng.randrange(SUBSCRIBERS))
        if kind == "join":
            number, body = fictional(new), "JOIN ELM"
            new += 1
        elif kind == "unknown":
            number = member if rng.random() < 0.5 else fictional(new)
            new += number != member
            body = rng.choice(["Is the bin day still Thursday?", "Thanks for organising the party!",
                               "Who do I ask about the broken streetlight?"])
        elif kind == "post":
            number, body = member, f"POST Lost ginger cat near the park, answers to Biscuit {rng.randrange(10**6)}"
        elif kind == "need":
            number, body = member, f"NEED Lift to the GP on Thursday at {rng.randrange(9, 17)}:00"
        else:
            number, body = member, "HELP"
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT, "From": number, "To": BOARD,
                  "Body": body, "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received"}
        text_ = Text("retry" if kind == "retry" else kind, params)
        sent.append(text_)
        yield text_


def write_requests(path: Path, url: str, count: int, rng: random.Random, first_new: int) -> None:
    validator = RequestValidator(TOKEN)
    with path.open("w") as out:
        for item in mix(count, rng, first_new):
            out.write(f"{urlencode(item.params)}\t{validator.compute_signature(url, item.params)}\n")


# ── the database ───────────────────────────────────────────────────────────


def prepare_schema(url: str, schema: str) -> str:
    from sms_board.plumbing.db import make_engine
    from sms_board.plumbing.migrate import upgrade

    with create_engine(url).begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(engine)
    now = datetime.now(UTC) - timedelta(days=1)
    with engine.begin() as connection:
        connection.execute(text(
            "CREATE TABLE bench_inbound (message_sid varchar(64) PRIMARY KEY, params text, received_at timestamp)"))
        connection.execute(text(
            "INSERT INTO areas (slug, name, timezone, private, moderation, created_at) "
            "VALUES ('elm', 'Elm Street', 'Europe/London', false, 'open', :now)"), {"now": now})
        connection.execute(text(
            "INSERT INTO subscribers (phone, name, is_admin, digest_frequency, created_at, more_page) "
            "VALUES (:phone, 'Sam', false, 'daily', :now, 0)"),
            [{"phone": fictional(n), "now": now} for n in range(SUBSCRIBERS)])
        connection.execute(text(
            "INSERT INTO subscriptions (subscriber_id, area_id, status, consent_at, consent_text, consent_channel) "
            "SELECT s.id, a.id, 'active', :now, 'JOIN ELM', 'sms' FROM subscribers s, areas a"), {"now": now})
    engine.dispose()
    return f"{url}?options=-csearch_path%3D{schema}"


# ── the servers ────────────────────────────────────────────────────────────


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_wrk(base: str, requests: Path, seconds: float, concurrency: int) -> dict[str, float]:
    threads = min(2, concurrency)
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds:g}s", "--latency", "-s",
         str(HERE / "wrk_inbound.lua"), f"{base}/sms/inbound", "--", str(requests)],
        env={**os.environ, "WRK_THREADS": str(threads)}, capture_output=True, text=True, timeout=seconds + 60,
    )
    found = re.search(r"WRK_RESULT (\{.*\})", result.stdout)
    if not found:
        raise SystemExit(f"wrk gave no result:\n{result.stdout}\n{result.stderr}")
    measured = json.loads(found.group(1))
    measured["rate"] = measured["requests"] / measured["seconds"]
    return measured


# ── in process: statements per text, and a profile ─────────────────────────


def counts_and_profile(url: str, workdir: Path, per_kind: int = 30) -> tuple[dict[str, tuple[float, float]], str]:
    from sms_board import create_app
    from sms_board.app import board_of

    app = create_app({"TESTING": True, **project_env(url, "http://localhost", workdir)})
    engine = board_of(app).engine
    client = app.test_client()
    tally = {"statements": 0, "trips": 0}

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(*_args):  # type: ignore[no-untyped-def]
        tally["statements"] += 1
        tally["trips"] += 1

    def transaction_trip(connection, *_args):  # type: ignore[no-untyped-def]
        # An autocommitted statement sends no BEGIN or COMMIT of its own.
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            tally["trips"] += 1

    for name in ("begin", "commit", "rollback"):
        event.listen(engine, name, transaction_trip)

    validator = RequestValidator(TOKEN)
    signed = "http://localhost/sms/inbound"

    def post(params: dict[str, str]) -> None:
        response = client.post("/sms/inbound", data=params,
                               headers={"X-Twilio-Signature": validator.compute_signature(signed, params)})
        assert response.status_code == 200, response.data

    rng = random.Random(7)
    by_kind: dict[str, list[Text]] = defaultdict(list)
    for item in mix(4000, rng, first_new=50_000):
        if len(by_kind[item.kind]) < per_kind:
            by_kind[item.kind].append(item)
    results: dict[str, tuple[float, float]] = {}
    for kind in KINDS:
        statements, trips = [], []
        for item in by_kind[kind]:
            if kind == "retry":
                post(item.params)  # its first delivery, not counted
            tally.update(statements=0, trips=0)
            post(item.params)
            statements.append(tally["statements"])
            trips.append(tally["trips"])
        results[kind] = (statistics.mean(statements), statistics.mean(trips))

    profiler = cProfile.Profile()
    profile_mix = list(mix(400, random.Random(11), first_new=60_000))
    profiler.enable()
    for item in profile_mix:
        post(item.params)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(r"sms_board|sqlalchemy/orm", 18)
    return results, out.getvalue()


def _backend_cpu_seconds(url: str, application: str) -> dict[int, float]:
    """CPU time used so far by each PostgreSQL backend serving `application` (Linux /proc)."""
    with create_engine(url.split("?")[0]).connect() as connection:
        pids = connection.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                                  {"name": application}).scalars().all()
    used = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


# Where a text's Python time goes, by the layer whose code runs (the file a profiled function is in).
LAYERS = (
    ("sms_board/", "the board's own code"),
    ("sqlalchemy/orm/", "SQLAlchemy ORM: sessions, loading objects"),
    ("sqlalchemy/", "SQLAlchemy Core: statements, parameters, results"),
    ("psycopg", "psycopg: the driver"),
    ("twilio/", "Twilio: signature check, TwiML"),
    ("werkzeug/", "Flask and Werkzeug: the request"),
    ("flask/", "Flask and Werkzeug: the request"),
    ("phonenumbers/", "phonenumbers"),
)
OTHER_LAYER = "the rest (the test client, the profiler's own)"


def layered(profiler: cProfile.Profile) -> dict[str, float]:
    """Each layer's share of the profiled CPU time. A function's own time counts for the layer its file is
    in; the standard library's and built-in functions' (a `dict.get`, `json.dumps`), for the layers that
    called them, in proportion to the time each caller spent in them."""
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    known: dict[tuple[str, int, str], dict[str, float]] = {}

    def layer_of(function: tuple[str, int, str], seen: frozenset[tuple[str, int, str]] = frozenset()) -> dict[str, float]:
        if function in known:
            return known[function]
        filename = function[0]
        own = next((name for part, name in LAYERS if part in filename), None)
        if own is not None:
            share = {own: 1.0}
        else:
            callers = stats.get(function, (0, 0, 0.0, 0.0, {}))[4]
            weights = {caller: timing[2] for caller, timing in callers.items() if caller not in seen}
            total = sum(weights.values())
            share = defaultdict(float)
            if total <= 0:
                share[OTHER_LAYER] = 1.0
            else:
                for caller, weight in weights.items():
                    for layer, part in layer_of(caller, seen | {function}).items():
                        share[layer] += part * weight / total
        if not seen:
            known[function] = dict(share)
        return share

    shares: dict[str, float] = defaultdict(float)
    for function, (_calls, _primitive, own_time, _cumulative, _callers) in stats.items():
        for layer, part in layer_of(function).items():
            shares[layer] += own_time * part
    total = sum(shares.values()) or 1.0
    return {layer: seconds / total for layer, seconds in shares.items()}


def cpu_per_text(
    url: str, schema: str, workdir: Path, runs: int = 4, per_run: int = 500,
) -> tuple[dict[str, tuple[float, float]], dict[str, dict[str, float]]]:
    """CPU per text in this process and in PostgreSQL, best of `runs`, for the project and the
    minimal durable handler, each through Flask's test client (no HTTP server, no load generator):
    a steadier figure than throughput on a shared machine. Then one more run of each under cProfile
    (timing CPU, not the clock), for each layer's share of the Python time (`layered`)."""
    import webhook_baselines

    from sms_board import create_app

    signed = "http://localhost/sms/inbound"
    os.environ.update({"BENCH_DATABASE_URL": url.split("?")[0], "BENCH_SCHEMA": schema,
                       "TWILIO_AUTH_TOKEN": TOKEN, "BENCH_PUBLIC_URL": "http://localhost"})
    apps = {
        "project": create_app({"TESTING": True, **project_env(url, "http://localhost", workdir)}),
        "minimal durable": webhook_baselines.minimal_durable(),
    }
    validator = RequestValidator(TOKEN)
    results: dict[str, tuple[float, float]] = {}
    layers: dict[str, dict[str, float]] = {}
    first_new = 200_000
    for name, app in apps.items():
        client = app.test_client()
        # Only this server's own backends are counted: PostgreSQL may be busy with other work.
        application = "bench-" + name.replace(" ", "-")
        os.environ["PGAPPNAME"] = application
        best = (float("inf"), float("inf"))
        for run in range(runs + 1):
            texts = list(mix(per_run, random.Random(run), first_new=first_new))
            first_new += per_run
            started, postgres = time.process_time(), _backend_cpu_seconds(url, application)
            for item in texts:
                signature = validator.compute_signature(signed, item.params)
                response = client.post("/sms/inbound", data=item.params, headers={"X-Twilio-Signature": signature})
                assert response.status_code == 200, response.data
            own = (time.process_time() - started) * 1000 / per_run
            used = _backend_cpu_seconds(url, application)
            database = sum(seconds - postgres.get(pid, 0.0) for pid, seconds in used.items()) * 1000 / per_run
            if run:  # the first run warms caches and the pool
                best = (min(best[0], own), min(best[1], database))
        results[name] = best
        profiler = cProfile.Profile(time.process_time)
        texts = list(mix(per_run, random.Random(runs + 1), first_new=first_new))
        first_new += per_run
        signatures = [validator.compute_signature(signed, item.params) for item in texts]
        profiler.enable()
        for item, signature in zip(texts, signatures, strict=True):
            client.post("/sms/inbound", data=item.params, headers={"X-Twilio-Signature": signature})
        profiler.disable()
        layers[name] = layered(profiler)
    os.environ.pop("PGAPPNAME", None)
    return results, layers


def project_env(url: str, public: str, workdir: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": url, "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": BOARD, "SMS_BOARD_TRANSPORT": "console", "SMS_BOARD_PUBLIC_URL": public,
        "SMS_BOARD_INSTANCE_PATH": str(workdir / "instance"), "SECRET_KEY": "bench", "SMS_BOARD_QUIET_HOURS": "",
        "SMS_BOARD_LOG_LEVEL": "ERROR",
    }


# ── the run ────────────────────────────────────────────────────────────────


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", default="10,50")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only-counts", action="store_true", help="statements per text and a profile; no load")
    parser.add_argument("--gunicorn", default=" ".join(GUNICORN),
                        help="gunicorn's worker settings for all three servers (default: the Procfile's)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    arguments = parser.parse_args()
    GUNICORN[:] = arguments.gunicorn.split()
    url = local_only(arguments.database_url)
    if make_url(url).get_backend_name() != "postgresql":
        raise SystemExit("the webhook benchmark runs on PostgreSQL at 127.0.0.1")
    if not arguments.only_counts and shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (Debian's package)")
    schema = f"bench_webhook_{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="sms-board-bench-"))
    print(describe_machine(create_engine(url)))
    try:
        db_url = prepare_schema(url, schema)
        if not arguments.only_counts:
            load(arguments, url, db_url, schema, workdir)
        cpu, layers = cpu_per_text(db_url, schema, workdir)
        print("\nCPU per text in process, best of 4 runs of 500 texts of the mix (Flask test client):")
        for name, (own, database) in cpu.items():
            print(f"  {name:<16} Python {own:5.2f} ms  PostgreSQL {database:5.2f} ms  total {own + database:5.2f} ms")
        project, minimal = (sum(cpu[name]) for name in ("project", "minimal durable"))
        print(f"  minimal durable / project, CPU per text: {minimal / project:.2f}")
        print("\nthe Python time per text by layer (each layer's share of a CPU profile, times the best run's "
              "Python time; the profiler's own cost weighs most on small functions):")
        print(f"  {'layer':<52} {'project':>9} {'minimal':>9}")
        names = sorted({layer for shares in layers.values() for layer in shares},
                       key=lambda layer: -layers["project"].get(layer, 0.0))
        for layer in names:
            print(f"  {layer:<52} " + " ".join(
                f"{layers[name].get(layer, 0.0) * cpu[name][0]:6.2f} ms" for name in ("project", "minimal durable")))
        counts, profile = counts_and_profile(db_url, workdir)
        print("\nSQL per text, in process (statements / database round trips incl. BEGIN and COMMIT):")
        for kind, (statements, trips) in counts.items():
            print(f"  {kind:<8} {statements:5.1f} statements  {trips:5.1f} round trips")
        print("\nwhere the project's time goes (cProfile, 400 texts of the mix, cumulative):")
        print("\n".join(profile.splitlines()[:40]))
    finally:
        with create_engine(url).begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def load(arguments: argparse.Namespace, url: str, db_url: str, schema: str, workdir: Path) -> None:
    concurrencies = [int(c) for c in arguments.concurrency.split(",")]
    rng = random.Random(2026)
    results: dict[tuple[str, int], list[dict[str, float]]] = defaultdict(list)
    new_senders = SUBSCRIBERS
    baseline_env = {"BENCH_DATABASE_URL": url, "BENCH_SCHEMA": schema, "TWILIO_AUTH_TOKEN": TOKEN}
    servers = {
        "project": "sms_board.wsgi:create_app()",
        "minimal durable": "webhook_baselines:minimal_durable()",
        "bare Flask": "webhook_baselines:bare()",
    }
    print(f"{arguments.rounds} rounds × concurrency {concurrencies} × {arguments.seconds:g} s per run, "
          f"gunicorn {' '.join(GUNICORN)}, wrk; {SUBSCRIBERS} subscribers seeded")
    for round_number in range(arguments.rounds):
        for concurrency in concurrencies:
            for name, app in servers.items():
                port = free_port()
                public = f"http://127.0.0.1:{port}"
                env = ({**project_env(db_url, public, workdir)} if name == "project"
                       else {**baseline_env, "BENCH_PUBLIC_URL": public})
                requests = workdir / f"requests-{round_number}-{concurrency}-{name.split()[0]}.tsv"
                count = int(arguments.seconds * (1500 if name == "project" else 3000) * 1.3)
                write_requests(requests, f"{public}/sms/inbound", count, rng, new_senders)
                new_senders += count
                warm_up = workdir / f"warm-up-{round_number}-{concurrency}-{name.split()[0]}.tsv"
                write_requests(warm_up, f"{public}/sms/inbound", 400, rng, new_senders)
                new_senders += 400
                with serve(app, env, workdir, port) as base:
                    # Each worker boots (create_app) and answers its first texts (mappers, catalogs, compiled
                    # statements) in seconds on a busy machine: not what a board answering all day costs.
                    # Warmed up until it answers.
                    for _ in range(8):
                        if run_wrk(base, warm_up, 3, 4)["requests"] >= 40:
                            break
                    measured = run_wrk(base, requests, arguments.seconds, concurrency)
                results[(name, concurrency)].append(measured)
                print(f"  round {round_number + 1} c={concurrency:<3} {name:<16} {measured['rate']:8.1f} texts/s  "
                      f"p50 {measured['p50_ms']:6.1f} ms  p99 {measured['p99_ms']:6.1f} ms  "
                      f"errors {int(measured['errors'])} non-2xx {int(measured['non_2xx'])}", flush=True)
                requests.unlink()
                warm_up.unlink()
    print("\n| concurrency | server | texts/s (median) | p50 ms | p99 ms | ratio to minimal durable |")
    print("|---|---|---|---|---|---|")
    for concurrency in concurrencies:
        minimal = statistics.median(r["rate"] for r in results[("minimal durable", concurrency)])
        for name in servers:
            runs = results[(name, concurrency)]
            rate = statistics.median(r["rate"] for r in runs)
            print(f"| {concurrency} | {name} | {rate:.0f} | {statistics.median(r['p50_ms'] for r in runs):.1f} | "
                  f"{statistics.median(r['p99_ms'] for r in runs):.1f} | {rate / minimal:.2f} |")


@contextmanager
def serve(app: str, env: dict[str, str], workdir: Path, port: int) -> Iterator[str]:
    binary = Path(sys.executable).with_name("gunicorn")
    log = (workdir / f"gunicorn-{port}.log").open("w")
    process = subprocess.Popen(
        [str(binary), *GUNICORN, "--bind", f"127.0.0.1:{port}", "--chdir", str(HERE), app],
        env={**os.environ, **env, "PYTHONPATH": f"{ROOT}:{HERE}"}, stdout=log, stderr=log,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{app} did not start: see {log.name}") from None
                time.sleep(0.1)
        time.sleep(1.5)  # both workers booted
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


if __name__ == "__main__":
    main()
