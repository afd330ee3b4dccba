"""Moving a board to PostgreSQL: `sms-board db copy TARGET_URL` (docs/operations.md).

Every table is copied from the board's database (normally SQLite) into an empty PostgreSQL
database, ids and all, in the foreign keys' order, in batches, inside one transaction on the
target: a failure or a kill at any point leaves the target as empty as it was. The source is
only read (one read transaction: on SQLite it also keeps writers out while it lasts).

Before anything is written the copy refuses, with one line, whatever would not survive the move:
a target that already holds a board row, a target at another migration than the source, a
database it cannot reach, a board still running (the clock beating, a sender sending), rows PostgreSQL would refuse (a string longer than its column, a NUL character,
neither of which SQLite enforces), and keys that would not follow the data (`SECRET_KEY` hashes
invite codes and sign-ins, `SMS_BOARD_SUPPRESSION_KEY` the FORGET list).

What changes on the way is deliberate and listed apart: sign-in sessions are not copied
(organisers sign in again), and a text left `sending` becomes `unknown`, as after a crash.
Every table is then read back from the target inside the same transaction and its row count
and checksum compared with the source's before the transaction commits; the sequences are
set past the copied ids, so the next item gets the next ref.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    ForeignKeyConstraint,
    Integer,
    String,
    Table,
    bindparam,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.schema import sort_tables_and_constraints

from sms_board.models import Base, Heartbeat, Outbox, OutboxStatus, SenderState
from sms_board.plumbing.db import make_engine
from sms_board.plumbing.migrate import database_state, head_revision

BATCH_ROWS = 2000
# How long after its last write a process still counts as running (the clock beats every minute).
QUIET_FOR = timedelta(minutes=3)
# Tables not copied, and why (said in the output).
NOT_COPIED = {"web_sessions": "sign-in session(s) not copied: organisers and administrators sign in again"}
UNKNOWN_NOTE = "sender stopped during the send"
# The keys the data was made with, and the development file each one is kept in on a console board.
KEYS = {"SECRET_KEY": ("secret_key", "invite codes and sign-in hashes"),
        "SMS_BOARD_SUPPRESSION_KEY": ("suppression_key", "the FORGET list")}
SHOWN_BAD_ROWS = 10


class CopyRefused(RuntimeError):
    """The copy will not start or did not finish; the message is one line for an operator. Nothing was written."""


class KeysToCarry(RuntimeError):
    """The board's keys are development files: the message (several lines) says how to carry them over."""


@dataclass
class TableCheck:
    name: str
    rows: int
    source_checksum: str = ""
    target_checksum: str = ""
    note: str = ""  # what was deliberately changed or left out

    @property
    def matches(self) -> bool:
        return self.source_checksum == self.target_checksum


@dataclass
class Plan:
    """What `prepare` found: both databases answer, the target is empty, the board is quiet."""

    source: Engine
    target: Engine
    target_url: str
    revision: str | None
    target_revision: str | None
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(count for name, count in self.counts.items() if name not in NOT_COPIED)

    def where(self, engine: Engine) -> str:
        return engine.url.render_as_string(hide_password=True)


@dataclass
class CopyReport:
    tables: list[TableCheck] = field(default_factory=list)
    dry_run: bool = False

    @property
    def copied(self) -> list[TableCheck]:
        return [table for table in self.tables if table.name not in NOT_COPIED]

    @property
    def apart(self) -> list[TableCheck]:
        return [table for table in self.tables if table.note]


# ── before anything is written ─────────────────────────────────────────────


def target_url_of(raw: str) -> str:
    """TARGET_URL as the board's engine takes it (`postgresql://` means psycopg); anything but PostgreSQL is refused."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise CopyRefused(f"{raw!r} is not a database URL; write it as postgresql://user:password@host/dbname.") from None
    if url.get_backend_name() != "postgresql":
        raise CopyRefused(f"the target must be PostgreSQL (postgresql://user:password@host/dbname), not "
                          f"{url.get_backend_name()!r}: db copy moves a board to PostgreSQL.")
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def check_keys(secret_key: str, suppression_key: str, instance_path: Path, environ: Mapping[str, str]) -> None:
    """The keys the board's data was made with must be in the environment, where the moved board reads them."""
    used = {"SECRET_KEY": secret_key, "SMS_BOARD_SUPPRESSION_KEY": suppression_key}
    missing: list[str] = []
    for name, value in used.items():
        given = (environ.get(name) or "").strip()
        if not given:
            missing.append(name)
        elif given != value.strip():
            raise CopyRefused(f"{name} in the environment is not the key this board uses ({KEYS[name][1]} were made "
                              "with the other): set it to the board's own value and run this again.")
    if not missing:
        return
    files = {name: instance_path / KEYS[name][0] for name in missing}
    if all(path.exists() and path.read_text().strip() == used[name].strip() for name, path in files.items()):
        lines = [f"The board's {' and '.join(missing)} {'is a development file' if len(missing) == 1 else 'are development files'} "
                 f"in {instance_path}; a board on PostgreSQL reads its keys from the environment only. Carry "
                 f"{'it' if len(missing) == 1 else 'them'} over, then run this again:"]
        lines += [f'  export {name}="$(cat {path})"' for name, path in files.items()]
        lines.append("and set the same values in the moved board's environment (its .env or the host's settings), "
                     f"or {' and '.join(KEYS[name][1] for name in missing)} stop working. Nothing was copied.")
        raise KeysToCarry("\n".join(lines))
    raise CopyRefused(f"{' and '.join(missing)} must be set in the environment to the value{'s' if len(missing) > 1 else ''} "
                      f"this board ran with ({', '.join(KEYS[name][1] for name in missing)} follow the key), "
                      "or they stop working on the moved board.")


def check_quiet(connection: Connection, now: datetime) -> None:
    """The board's processes must be stopped: a clock beating or a sender sending is refused, saying how to stop it."""
    since = now - QUIET_FOR
    for name, beat_at, detail in connection.execute(select(Heartbeat.name, Heartbeat.beat_at, Heartbeat.detail)):
        if beat_at < since or _gone(detail or {}):
            continue
        age = max(0, round((now - beat_at).total_seconds()))
        where = f" (pid {detail['pid']} on {detail['host']})" if detail and detail.get("pid") and detail.get("host") else ""
        raise CopyRefused(f"the {name} is running{where}: it beat {age}s ago. Stop it (`sms-board clock`, the "
                          "Procfile's clock) and the other processes of the board, then run this again; the copy "
                          "needs the board quiet.")
    if connection.scalar(select(func.count()).select_from(SenderState).where(SenderState.updated_at >= since)) or \
            connection.scalar(select(func.count()).select_from(Outbox).where(Outbox.updated_at >= since,
                                                                               Outbox.status == OutboxStatus.SENDING)):
        raise CopyRefused("a sender is sending (it took a send slot in the last few minutes): stop `sms-board send` "
                          "(the Procfile's sender) and the other processes of the board, wait for its texts to finish, "
                          "then run this again; the copy needs the board quiet.")


def _gone(detail: Mapping[str, Any]) -> bool:
    """A heartbeat from a process of this machine that no longer exists (stopped just now: quiet)."""
    pid, host = detail.get("pid"), detail.get("host")
    if not isinstance(pid, int) or host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def prepare(source: Engine, raw_target_url: str, now: datetime) -> Plan:
    """Every check that needs no write: both databases answer, the source is migrated and quiet, the target empty."""
    target_url = target_url_of(raw_target_url)
    state = database_state(source)
    if not state.ok:
        raise CopyRefused("the source: " + state.line(source))
    target = make_engine(target_url, connect_args={"connect_timeout": 10})
    if make_url(target_url).set(drivername="postgresql") == source.url.set(drivername="postgresql"):
        raise CopyRefused("the target is the board's own database: give a new, empty PostgreSQL database.")
    where = target.url.render_as_string(hide_password=True)
    try:
        with target.connect() as connection:
            target_revision, held = _target_state(connection)
    except SQLAlchemyError as exc:
        target.dispose()
        cause = getattr(exc, "orig", None) or exc
        raise CopyRefused(f"cannot reach the target at {where} ({cause.__class__.__name__}: "
                          f"{str(cause).strip().splitlines()[0][:160]}): check TARGET_URL and that the database exists.") from None
    if held:
        target.dispose()
        listed = ", ".join(f"{name}: {count} row{'s' if count != 1 else ''}" for name, count in held.items())
        raise CopyRefused(f"the target at {where} already holds a board ({listed}): db copy only fills an empty "
                          "database. Nothing was changed.")
    from sms_board.plumbing.migrate import alembic_config

    if target_revision is not None:
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(alembic_config(target))
        try:
            script.get_revision(target_revision)
        except Exception:  # alembic raises its own errors for a revision it does not know
            target.dispose()
            raise CopyRefused(f"the target at {where} is at migration {target_revision}, which this code does not "
                              f"know (the source is at {head_revision()}): use the same version of sms-board on both.") from None
    with source.connect() as connection:
        check_quiet(connection, now)
        counts = {table.name: connection.scalar(select(func.count()).select_from(table)) or 0
                  for table in Base.metadata.sorted_tables}
    return Plan(source, target, target_url, head_revision(), target_revision, counts)


def _target_state(connection: Connection) -> tuple[str | None, dict[str, int]]:
    """The target's migration (None: none yet), and the board tables that hold rows, with their counts."""
    from alembic.migration import MigrationContext

    existing = set(inspect(connection).get_table_names())
    revision = MigrationContext.configure(connection).get_current_revision() if "alembic_version" in existing else None
    held = {}
    for table in Base.metadata.sorted_tables:
        if table.name in existing:
            count = connection.scalar(select(func.count()).select_from(table)) or 0
            if count:
                held[table.name] = count
    return revision, held


# ── the copy ───────────────────────────────────────────────────────────────


def copy(plan: Plan, *, dry_run: bool, now: datetime, progress: Callable[[int], None] | None = None,
         batch_rows: int = BATCH_ROWS) -> CopyReport:
    """Copy (or, with `dry_run`, read and check) every table; one transaction on the target, committed at the end.

    `progress(n)` is told of every batch of n rows; an exception it raises stops the copy like any
    failure would, leaving the target as it was.
    """
    if not dry_run:
        _migrate(plan)
    report = CopyReport(dry_run=dry_run)
    order, late = _order()
    with plan.source.connect() as source, plan.target.connect() as target:
        source.begin()  # one snapshot of the source (on SQLite it also keeps writers out until the end)
        writing = target.begin() if not dry_run else None
        run = _Run(source, target if writing is not None else None, now, progress, batch_rows, late)
        try:
            for table in order:
                if table.name in NOT_COPIED:
                    report.tables.append(TableCheck(table.name, plan.counts[table.name],
                                                    note=f"{plan.counts[table.name]} {NOT_COPIED[table.name]}"))
                else:
                    report.tables.append(run.table(table))
            if run.bad:
                bad = run.bad
                shown = "; ".join(bad[:SHOWN_BAD_ROWS]) + (f"; and {len(bad) - SHOWN_BAD_ROWS} more"
                                                            if len(bad) > SHOWN_BAD_ROWS else "")
                raise CopyRefused(f"{len(bad)} value{'s' if len(bad) != 1 else ''} PostgreSQL would refuse (SQLite "
                                  f"enforces neither limit): {shown}. Correct them on the source and run this again; "
                                  "nothing was copied.")
            if writing is None:
                for check in report.copied:
                    check.target_checksum = check.source_checksum
                return report
            for name, values in run.deferred.items():
                _fill_late(target, Base.metadata.tables[name], late[name], values)
            _verify(target, report)
            _move_sequences(target, order)
            writing.commit()
        except (SQLAlchemyError, psycopg.Error) as exc:
            cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
            raise CopyRefused(f"the copy stopped: {cause}. Nothing was copied (the target is as it was).") from None
        finally:
            source.rollback()
    return report


@dataclass
class _Run:
    """One pass over the source: each table read in batches, checked, hashed and (unless a dry run) written."""

    source: Connection
    target: Connection | None
    now: datetime
    progress: Callable[[int], None] | None
    batch_rows: int
    late: dict[str, list[Column[Any]]]
    bad: list[str] = field(default_factory=list)
    deferred: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def table(self, table: Table) -> TableCheck:
        check = TableCheck(table.name, 0)
        changed = 0
        checksum = 0
        later = self.late.get(table.name, [])
        limits = _limits(table)
        names = [column.name for column in table.columns]
        for rows in _batches(self.source, table, self.batch_rows):
            if table.name == Outbox.__tablename__:
                changed += _unknown_if_sending(rows, self.now)
            for row in rows:
                self.bad.extend(_refused(table, limits, row))
                checksum += _row_hash(names, row)
            check.rows += len(rows)
            if self.target is not None and not self.bad:
                _write(self.target, table, self._without_late(table.name, later, rows))
            if self.progress:
                self.progress(len(rows))
        check.source_checksum = _hex(checksum)
        if changed:
            check.note = (f"{changed} text{'s' if changed != 1 else ''} left `sending` made `unknown`, as "
                          "after a crash: the sender cannot know whether they went")
        return check

    def _without_late(self, name: str, later: list[Column[Any]], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A cycle's foreign keys are written empty, and filled in once every table is there."""
        if not later:
            return rows
        self.deferred.setdefault(name, []).extend(
            {"_pk": row["id"], **{f"_v_{c.name}": row[c.name] for c in later}}
            for row in rows if any(row[c.name] is not None for c in later))
        return [{**row, **{c.name: None for c in later}} for row in rows]


def _migrate(plan: Plan) -> None:
    from sms_board.plumbing.migrate import MigrationRefused, upgrade

    where = plan.where(plan.target)
    try:
        upgrade(plan.target)
    except (SQLAlchemyError, MigrationRefused) as exc:
        raise CopyRefused(f"could not migrate the target at {where}: {str(getattr(exc, 'orig', None) or exc).strip().splitlines()[0]}") from None
    with plan.target.connect() as connection:
        from alembic.migration import MigrationContext

        revision = MigrationContext.configure(connection).get_current_revision()
    if revision != plan.revision:
        raise CopyRefused(f"the target at {where} is at migration {revision} after upgrading, the source at "
                          f"{plan.revision}: use the same version of sms-board on both.")


def _order() -> tuple[list[Table], dict[str, list[Column[Any]]]]:
    """Tables parents first, and the foreign keys of a cycle (filled in once every table is there)."""
    order: list[Table] = []
    late: dict[str, list[Column[Any]]] = {}
    for table, constraints in sort_tables_and_constraints(Base.metadata.sorted_tables):
        if table is not None:
            order.append(table)
            continue
        for constraint in constraints:
            assert isinstance(constraint, ForeignKeyConstraint)
            late.setdefault(constraint.table.name, []).extend(constraint.columns)
    for name, columns in late.items():
        table = Base.metadata.tables[name]
        if [c.name for c in table.primary_key] != ["id"] or any(not c.nullable for c in columns):
            raise RuntimeError(f"{name} is in a foreign-key cycle that db copy cannot break "
                               f"({', '.join(c.name for c in columns)}): it needs an id and nullable columns")
    return order, late


def _batches(source: Connection, table: Table, size: int) -> Iterator[list[dict[str, Any]]]:
    result = source.execution_options(yield_per=size).execute(select(table).order_by(*table.primary_key.columns))
    for partition in result.mappings().partitions(size):
        yield [dict(row) for row in partition]


def _write(target: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """One batch through PostgreSQL's COPY, each value as the column's type writes it (as an INSERT would)."""
    processors = [(column.name, column.type._cached_bind_processor(target.dialect)) for column in table.columns]
    columns = ", ".join(f'"{column.name}"' for column in table.columns)
    raw = target.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copying:
        for row in rows:
            copying.write_row([row[name] if process is None else process(row[name]) for name, process in processors])


def _unknown_if_sending(rows: list[dict[str, Any]], now: datetime) -> int:
    changed = 0
    for row in rows:
        if row["status"] == OutboxStatus.SENDING:
            row.update(status=OutboxStatus.UNKNOWN, status_updated_at=now, updated_at=now,
                       error_message=row["error_message"] or UNKNOWN_NOTE)
            changed += 1
    return changed


def _limits(table: Table) -> list[tuple[str, int | None]]:
    """The string columns of a table (Text and enum names too), each with its length (None: only a NUL is refused)."""
    return [(column.name, getattr(column.type, "length", None)) for column in table.columns
            if isinstance(column.type, String) or isinstance(getattr(column.type, "impl", None), String)]


def _refused(table: Table, limits: list[tuple[str, int | None]], row: Mapping[str, Any]) -> Iterator[str]:
    """What PostgreSQL would refuse in this row, naming the row (never the value: it may be a number)."""
    for name, length in limits:
        value = row[name]
        if value is None or not isinstance(value, str):
            continue
        nul = "\x00" in value
        too_long = length is not None and len(value) > length
        if not (nul or too_long):
            continue
        key = ", ".join(f"{c.name} {row[c.name]}" for c in table.primary_key.columns)
        if nul:
            yield f"{table.name} {key}: {name} holds a NUL character"
        if too_long:
            yield f"{table.name} {key}: {name} is {len(value)} characters, the column holds {length}"


def _row_hash(names: list[str], row: Mapping[str, Any]) -> int:
    """One row's hash; a table's checksum is their sum, the same whatever order the rows come back in.

    `repr` of the values as the board's types give them back (aware datetimes, enum members,
    JSON as dicts), which both databases return alike once the copy is right."""
    written = repr([row[name] for name in names])
    return int.from_bytes(hashlib.blake2b(written.encode(), digest_size=16).digest(), "big")


def _hex(total: int) -> str:
    return f"{total % (1 << 128):032x}"[:16]


def _fill_late(target: Connection, table: Table, columns: list[Column[Any]], values: list[dict[str, Any]]) -> None:
    statement = (update(table).where(table.c.id == bindparam("_pk"))
                 .values({c.name: bindparam(f"_v_{c.name}") for c in columns}))
    for start in range(0, len(values), BATCH_ROWS):
        target.execute(statement, values[start:start + BATCH_ROWS])


def _verify(target: Connection, report: CopyReport) -> None:
    """Read every copied table back (in the copy's own transaction) and compare its count and checksum."""
    for check in report.copied:
        table = Base.metadata.tables[check.name]
        rows = 0
        checksum = 0
        names = [column.name for column in table.columns]
        for batch in _batches(target, table, BATCH_ROWS):
            rows += len(batch)
            checksum += sum(_row_hash(names, row) for row in batch)
        check.target_checksum = _hex(checksum)
        if rows != check.rows or not check.matches:
            raise CopyRefused(f"the check after the copy found {check.name} different on the target ({rows} rows, "
                              f"checksum {check.target_checksum}; the source: {check.rows} rows, checksum "
                              f"{check.source_checksum}): nothing was copied.")


def _move_sequences(target: Connection, tables: list[Table]) -> None:
    """Each id sequence past the copied ids, so the next row gets the next id (the next item, the next ref)."""
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer) or table.name in NOT_COPIED:
            continue
        sequence = target.scalar(text("SELECT pg_get_serial_sequence(:table, :column)"),
                                 {"table": table.name, "column": keys[0].name})
        if sequence is None:
            continue
        highest = target.scalar(select(func.max(keys[0])))
        target.execute(text("SELECT setval(:sequence, :value, :called)"),
                       {"sequence": sequence, "value": highest or 1, "called": highest is not None})
