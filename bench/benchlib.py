"""What the benchmarks share: they only ever touch a database on this machine."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

import sms_board

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def local_only(url: str, workdir: Path | None = None) -> str:
    """The URL to use, or exit: PostgreSQL on 127.0.0.1, a new SQLite file, or `sqlite` (a file in `workdir`)."""
    if url == "sqlite" and workdir is not None:
        return f"sqlite:///{workdir / 'bench.db'}"
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        if parsed.host not in LOCAL_HOSTS:
            sys.exit(f"refusing to benchmark against {parsed.host!r}: only 127.0.0.1 is ever used")
        if parsed.drivername in {"postgresql", "postgres"}:
            parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.get_backend_name() == "sqlite":
        if parsed.database and Path(parsed.database).exists():
            sys.exit(f"{parsed.database} exists: the benchmark wants a fresh database")
    else:
        sys.exit("the database must be PostgreSQL on 127.0.0.1 or a new SQLite file")
    return parsed.render_as_string(hide_password=False)


def numbers(n: int) -> str:
    """A recursive CTE counting 1…n, on both PostgreSQL and SQLite."""
    return f"WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {int(n)}) "


def describe_machine(engine: Engine) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    database = engine.dialect.name
    if database == "postgresql":
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar()
            sync = connection.execute(text("SHOW synchronous_commit")).scalar()
        database = f"PostgreSQL {version} (synchronous_commit {sync})"
    else:
        import sqlite3
        database = f"SQLite {sqlite3.sqlite_version} (WAL, synchronous NORMAL)"
    return (f"{os.cpu_count()} CPU {cpu}; {database}; Python {platform.python_version()}; "
            f"sms_board {getattr(sms_board, '__version__', 'dev')}")
