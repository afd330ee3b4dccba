"""The schema comes from Alembic migrations, and they match the models exactly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, column, select, table, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sms_board.models import (
    Area,
    Base,
    Confirmation,
    ConfirmationResolution,
    ConsentAction,
    ConsentEvent,
    Item,
    ItemEvent,
    ItemEventAction,
    ItemKind,
    ItemStatus,
    Moderation,
    Report,
    ReportResolution,
)
from sms_board.plumbing.migrate import MigrationRefused, upgrade
from sms_board.plumbing.utc import utcnow
from tests.conftest import Database, empty_database


def test_migrations_match_the_models(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"models and migrations differ; add a migration: {differences}"


def test_db_upgrade_creates_a_fresh_sqlite_file(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from sms_board.cli import cli

    target = tmp_path / "fresh" / "board.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{target}")
    monkeypatch.setenv("SMS_BOARD_INSTANCE_PATH", str(tmp_path / "instance"))
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SMS_BOARD_TRANSPORT"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert target.exists()
    again = CliRunner().invoke(cli, ["area", "list", "--json"])
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == "[]"


@pytest.mark.postgres_only(reason="fillfactor and heap-only updates are PostgreSQL's (SQLite has neither)")
def test_the_tables_a_digest_updates_leave_room_for_heap_only_updates(db):
    """Migration 0011: the stamps a digest run writes (`last_digest_at`, `stop_reminded_at`)
    touch no indexed column, so with room on the page they are heap-only updates."""

    with db.engine.connect() as connection:
        options = dict(connection.execute(text(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN ('subscribers', 'subscriptions') "
            "AND relnamespace = current_schema()::regnamespace"
        )).all())
        indexed = connection.scalars(text(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid IN ('subscribers'::regclass, 'subscriptions'::regclass)"
        )).all()
    assert options == {"subscribers": ["fillfactor=50"], "subscriptions": ["fillfactor=50"]}
    assert not {"stop_reminded_at", "last_digest_at", "more_batch_id", "more_page"} & set(indexed)


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0011(request: pytest.FixtureRequest, tmp_path) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    """A database of its own, migrated up to 0011: as a board was before numbers were masked in the audit log."""
    with empty_database(request.param, tmp_path, "at_0011") as database:
        upgrade(database.engine, "0011")
        yield database


def test_migration_0012_masks_the_numbers_already_in_the_audit_log(at_0011):
    """Rows written before 0012 kept an organiser's words as typed; after it no full number is left in them."""
    audit = table("audit_log", column("id"), column("created_at"), column("actor"), column("channel"),
                  column("action"), column("detail", JSON))
    cut = "Elm Street: The street party is on Saturday; bring a chair. Ring Sam on 07700 90"
    rows = [
        {"text": "Elm Street: call Sam on 07700 900123 or +44 7700 900456", "recipients": 2},
        {"text": cut, "recipients": 2},  # cut at 80 characters through the number
        {"reason": "spam from 447700900789", "reports": 3},
        {"slug": "elm", "private": False, "organiser": "+44 7•••• ••001"},
        {"text": "Bins at 10:30 on 2026-12-06, code 228623, ref #R12"},
    ]
    with at_0011.engine.begin() as connection:
        connection.execute(audit.insert(), [
            {"created_at": datetime(2026, 1, 1), "actor": "Ruth +447700900001", "channel": "sms", "action": "broadcast",
             "detail": detail} for detail in rows])

    upgrade(at_0011.engine)

    with at_0011.engine.connect() as connection:
        stored = connection.execute(select(audit.c.actor, audit.c.detail).order_by(audit.c.id)).all()
    assert [actor for actor, _ in stored] == ["Ruth +44 7•••• ••001"] * 5
    assert [detail for _, detail in stored] == [
        {"text": "Elm Street: call Sam on +44 7•••• ••123 or +44 7•••• ••456", "recipients": 2},
        {"text": cut.removesuffix("07700 90") + "•••", "recipients": 2},
        {"reason": "spam from +44 7•••• ••789", "reports": 3},
        rows[3],
        rows[4],
    ]


def test_status_and_kind_columns_keep_their_stored_strings(db):
    """Rows written before the columns were typed read back as members, members are written as the same plain
    strings (never SQLAlchemy's member names), and a word no enum names is refused before it reaches a row."""
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO areas (slug, name, timezone, private, moderation, created_at) VALUES "
                                "('elm', 'Elm', 'Europe/London', false, 'open', CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO items (kind, area_id, body, status, created_at)"
                                " VALUES ('request', (SELECT id FROM areas), 'x', 'published', CURRENT_TIMESTAMP)"))
    with Session(db.engine) as session, session.begin():
        older = session.scalars(select(Item)).one()
        assert older.kind is ItemKind.REQUEST and older.status is ItemStatus.PUBLISHED
        assert older.ref == f"R{older.id}"
        session.add(Item(kind=ItemKind.OFFER, area_id=older.area_id, body="y", status=ItemStatus.HIDDEN,
                         created_at=utcnow()))
        with pytest.raises(ValueError, match="'publised' is not a valid ItemStatus"):
            older.status = "publised"  # type: ignore[assignment]
    with db.engine.connect() as connection:
        stored = connection.execute(text("SELECT kind, status FROM items ORDER BY id")).all()
    assert [tuple(row) for row in stored] == [("request", "published"), ("offer", "hidden")]
    assert all(type(value) is str for row in stored for value in row)


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0016(request: pytest.FixtureRequest, tmp_path) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    """A database of its own, migrated up to 0016: before responses, matches and subscriptions had CHECK constraints."""
    with empty_database(request.param, tmp_path, "at_0016") as database:
        upgrade(database.engine, "0016")
        yield database


def test_migration_0017_names_the_rows_it_cannot_check_instead_of_failing_on_a_constraint(at_0016):
    with at_0016.engine.begin() as connection:
        for statement in [
            "INSERT INTO areas (slug, name, timezone, private, moderation, created_at)"
            " VALUES ('elm', 'Elm', 'Europe/London', false, 'open', CURRENT_TIMESTAMP)",
            "INSERT INTO items (kind, area_id, body, status, created_at)"
            " VALUES ('notice', (SELECT id FROM areas), 'x', 'published', CURRENT_TIMESTAMP)",
            "INSERT INTO matches (item_id, status, created_at) VALUES ((SELECT id FROM items), 'conected', CURRENT_TIMESTAMP)",
            "INSERT INTO matches (item_id, status, created_at) VALUES ((SELECT id FROM items), 'done', CURRENT_TIMESTAMP)",
        ]:
            connection.execute(text(statement))

    with pytest.raises(MigrationRefused) as refused:
        upgrade(at_0016.engine)

    assert str(refused.value) == (
        "Migration 0017 did not run: matches.status holds 'conected' (allowed: connected, done, ended, unlinked)."
        " Correct those rows, then run the upgrade again.")
    with at_0016.engine.begin() as connection:
        connection.execute(text("UPDATE matches SET status = 'connected' WHERE status = 'conected'"))
    upgrade(at_0016.engine)  # corrected, it goes through
    with pytest.raises(IntegrityError), at_0016.engine.begin() as connection:
        connection.execute(text("UPDATE matches SET status = 'conected'"))


# A board in use at 0016, written as older versions wrote it: every word each column has held.
BOARD_IN_USE = [
    "INSERT INTO areas (id, slug, name, timezone, private, moderation, created_at)"
    " VALUES (1, 'elm', 'Elm', 'Europe/London', false, 'first', CURRENT_TIMESTAMP)",
    "INSERT INTO subscribers (id, phone, is_admin, digest_frequency, created_at)"
    " VALUES (1, '+447700900123', false, 'daily', CURRENT_TIMESTAMP), (2, '+447700900456', false, 'daily', CURRENT_TIMESTAMP)",
    "INSERT INTO organisers (subscriber_id, area_id, created_at) VALUES (2, 1, CURRENT_TIMESTAMP)",
    "INSERT INTO subscriptions (subscriber_id, area_id, status, consent_at, consent_text, consent_channel)"
    " VALUES (1, 1, 'active', CURRENT_TIMESTAMP, 'JOIN ELM', 'sms')",
    "INSERT INTO consent_events (subscriber_id, area_id, action, channel, words, created_at) VALUES"
    " (1, 1, 'subscribe', 'sms', 'JOIN ELM', CURRENT_TIMESTAMP), (1, 1, 'leave', 'sms', 'LEAVE', CURRENT_TIMESTAMP),"
    " (1, NULL, 'opt_out', 'sms', 'STOP', CURRENT_TIMESTAMP), (1, NULL, 'opt_in', 'sms', 'START', CURRENT_TIMESTAMP)",
    "INSERT INTO items (id, kind, area_id, author_id, body, status, created_at)"
    " VALUES (1, 'request', 1, 1, 'Lift to the GP', 'closed', CURRENT_TIMESTAMP)",
    "INSERT INTO responses (id, item_id, responder_id, kind, number, status, created_at)"
    " VALUES (1, 1, 2, 'offer', 1, 'accepted', CURRENT_TIMESTAMP)",
    "INSERT INTO matches (id, item_id, owner_id, helper_id, status, created_at)"
    " VALUES (1, 1, 1, 2, 'done', CURRENT_TIMESTAMP)",
    "INSERT INTO item_events (item_id, match_id, action, detail, created_at) VALUES"
    " (1, NULL, 'opened', '{}', CURRENT_TIMESTAMP), (1, NULL, 'join_accepted', '{}', CURRENT_TIMESTAMP),"
    " (1, 1, 'connected', '{}', CURRENT_TIMESTAMP), (1, 1, 'done', '{}', CURRENT_TIMESTAMP),"
    " (1, 1, 'forgotten_ended', '{}', CURRENT_TIMESTAMP)",
    "INSERT INTO exchanges (item_id, match_id, area_id, giver_id, receiver_id, description, hours, created_at)"
    " VALUES (1, 1, 1, 2, 1, 'Lift to the GP', 1.5, CURRENT_TIMESTAMP)",
    "INSERT INTO outbox (to_number, subscriber_id, body, kind, status, segments, encoding, attempts, item_id,"
    " response_id, match_id, created_at) VALUES ('+447700900123', 1, 'Priya can help', 'notify', 'delivered', 1,"
    " 'GSM-7', 1, 1, 1, 1, CURRENT_TIMESTAMP)",
    "INSERT INTO reports (item_id, reporter_id, created_at, resolved_at, resolution) VALUES"
    " (1, 2, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'upheld'), (1, 1, CURRENT_TIMESTAMP, NULL, NULL)",
    "INSERT INTO confirmations (subscriber_id, action, payload, created_at, expires_at, resolved_at, resolution) VALUES"
    " (1, 'forget', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'lapsed'),"
    " (2, 'broadcast', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'confirmed'),"
    " (1, 'forget', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, NULL, NULL)",
]
LINKS = {
    "subscriptions": "SELECT area_id FROM subscriptions",
    "organisers": "SELECT area_id FROM organisers",
    "items": "SELECT area_id FROM items",
    "consent_events": "SELECT area_id FROM consent_events ORDER BY id",
    "item_events": "SELECT match_id FROM item_events ORDER BY id",
    "exchanges": "SELECT match_id FROM exchanges",
    "outbox": "SELECT response_id, match_id FROM outbox",
}


def _links(database: Database) -> dict[str, list[tuple[object, ...]]]:
    with database.engine.connect() as connection:
        return {name: [tuple(row) for row in connection.execute(text(query))] for name, query in LINKS.items()}


def test_an_upgrade_keeps_every_row_and_link_of_a_board_in_use(at_0016):
    """Adding a constraint rebuilds a table on SQLite; the rows pointing at it stay, and so do their links."""
    with at_0016.engine.begin() as connection:
        for statement in BOARD_IN_USE:
            connection.execute(text(statement))
    before = _links(at_0016)
    assert before["subscriptions"] == [(1,)] and before["item_events"][2:] == [(1,), (1,), (1,)]

    upgrade(at_0016.engine)

    assert _links(at_0016) == before
    with Session(at_0016.engine) as session:
        assert session.scalars(select(Area.moderation)).one() is Moderation.FIRST
        assert session.scalars(select(ConsentEvent.action).order_by(ConsentEvent.id)).all() == list(ConsentAction)
        assert session.scalars(select(ItemEvent.action).order_by(ItemEvent.id)).all() == [
            ItemEventAction.OPENED, ItemEventAction.JOIN_ACCEPTED, ItemEventAction.CONNECTED, ItemEventAction.DONE,
            ItemEventAction.FORGOTTEN_ENDED]
        assert session.scalars(select(Report.resolution).order_by(Report.id)).all() == [ReportResolution.UPHELD, None]
        assert session.scalars(select(Confirmation.resolution).order_by(Confirmation.id)).all() == [
            ConfirmationResolution.LAPSED, ConfirmationResolution.CONFIRMED, None]


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0017(request: pytest.FixtureRequest, tmp_path) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    """A database of its own, migrated up to 0017: before confirmations, reports, item and consent events and areas
    had CHECK constraints."""
    with empty_database(request.param, tmp_path, "at_0017") as database:
        upgrade(database.engine, "0017")
        yield database


def test_migration_0018_names_the_rows_it_cannot_check_instead_of_failing_on_a_constraint(at_0017):
    with at_0017.engine.begin() as connection:
        for statement in BOARD_IN_USE[:2] + BOARD_IN_USE[5:6] + [
            "INSERT INTO item_events (item_id, action, detail, created_at)"
            " VALUES (1, 'aproved', '{}', CURRENT_TIMESTAMP), (1, 'opened', '{}', CURRENT_TIMESTAMP)",
            "UPDATE areas SET moderation = 'some'",
        ]:
            connection.execute(text(statement))

    with pytest.raises(MigrationRefused) as refused:
        upgrade(at_0017.engine)

    assert str(refused.value) == (
        "Migration 0018 did not run: item_events.action holds 'aproved' (allowed: "
        + ", ".join(ItemEventAction) + "); areas.moderation holds 'some' (allowed: open, first, all)."
        " Correct those rows, then run the upgrade again.")


@pytest.mark.parametrize(("table", "statement"), [
    ("areas", "UPDATE areas SET moderation = 'closed'"),
    ("consent_events", "UPDATE consent_events SET action = 'unsubscribe'"),
    ("item_events", "UPDATE item_events SET action = 'reopened'"),
    ("reports", "UPDATE reports SET resolution = 'ignored'"),
    ("confirmations", "UPDATE confirmations SET resolution = 'cancelled'"),
    ("invite_attempts", "INSERT INTO invite_attempts (subscriber_id, outcome, created_at)"
                        " VALUES (1, 'guessed', CURRENT_TIMESTAMP)"),
    ("audit_log", "INSERT INTO audit_log (created_at, actor, channel, action, detail)"
                  " VALUES (CURRENT_TIMESTAMP, 'operator', 'cli', 'delete', '{}')"),
])
def test_the_database_refuses_a_word_no_enum_names(db, table, statement):
    with db.engine.begin() as connection:
        for row in BOARD_IN_USE:
            connection.execute(text(row))
    with pytest.raises(IntegrityError, match=f"ck_{table}_"), db.engine.begin() as connection:
        connection.execute(text(statement))
