"""A fact the monthly report counts, kept as it happens (migration 0027): each person's first join to
any area, written on every path that makes one, and back-filled from the history a board had before."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from sms_board import create_app
from sms_board.models import Subscriber
from sms_board.plumbing.migrate import upgrade
from tests.conftest import Database, Phone, Runner, app_config, empty_database, session_of
from tests.reports.conftest import AUGUST, NOVEMBER, ref_in
from tests.support.web import sign_in, submit

SAM, PRIYA, JOE, RUTH = "+447700900301", "+447700900302", "+447700900303", "+447700900001"


def first_join(app, number: str) -> datetime | None:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return session.scalars(select(Subscriber.first_joined_at).where(Subscriber.phone == number)).one()


def test_a_first_join_by_text_is_kept_and_a_later_join_elsewhere_leaves_it(areas, phone, app, month):
    sam = phone(SAM)
    month.at(NOVEMBER)
    sam.text("Hello?")
    assert first_join(app, SAM) is None  # texting is not joining
    sam.text("JOIN ELM")
    month.at(NOVEMBER + timedelta(days=3))
    sam.text("JOIN OAK")
    sam.text("LEAVE ELM")
    sam.text("JOIN ELM")
    assert first_join(app, SAM) == NOVEMBER


def test_an_import_and_an_enrolment_by_hand_keep_the_first_join(areas, runner, app, tmp_path, month):
    month.at(NOVEMBER)
    listing = tmp_path / "list.csv"
    listing.write_text("number,area,name,consent_source,consent_date\n"
                       f"{SAM},elm,Sam,paper sign-up sheet,2025-11-12\n", encoding="utf-8")
    assert runner("subscribers", "import", str(listing)).exit_code == 0
    month.at(NOVEMBER + timedelta(days=1))
    assert runner("subscribers", "add", JOE, "oak", "--consent", "phoned by Ruth, 3 Dec").exit_code == 0
    month.at(NOVEMBER + timedelta(days=2))
    assert runner("subscribers", "add", SAM, "oak", "--consent", "phoned by Ruth, 3 Dec").exit_code == 0
    # (the import's consent date is when they agreed on paper; they joined the board when imported)
    assert first_join(app, SAM) == NOVEMBER
    assert first_join(app, JOE) == NOVEMBER + timedelta(days=1)


@pytest.fixture
def voice_board(db: Database, tmp_path: Path) -> Iterator[object]:
    app = create_app(app_config(db, tmp_path, SMS_BOARD_VOICE="on"))
    Runner(app)("area", "add", "elm", "Elm Street")
    Phone(app.test_client(), RUTH).text("JOIN ELM")
    Runner(app)("organiser", "add", RUTH, "elm")
    yield app


def test_someone_enrolled_on_the_dashboard_has_their_first_join_kept(voice_board, month):
    month.at(NOVEMBER)
    client = voice_board.test_client()  # type: ignore[attr-defined]
    sign_in(client, RUTH)
    enrolled = submit(client, "/dashboard/subscribers/enrol", "/dashboard/subscribers/enrol",
                      {"area": "elm", "name": "Glenys", "language": "", "number": "029 2018 0123",
                       "consent_source": "phoned by Ruth, 3 Dec"})
    assert enrolled.status_code == 302
    assert first_join(voice_board, "+442920180123") == NOVEMBER


def test_an_invite_and_an_accepted_introduction_are_joins_only_when_they_are_ones(areas, phone, app, runner, month):
    sam, priya, joe, ruth = phone(SAM), phone(PRIYA), phone(JOE), phone(RUTH)
    for person in (sam, priya, ruth):
        person.text("JOIN ELM")
    runner("organiser", "add", RUTH, "elm")
    month.at(NOVEMBER)
    joe.text("Hello, is this the street board?")
    ref = ref_in(ruth.text(f"INTRO {SAM} {PRIYA} chess")[0], "I")
    sam.text(f"OK {ref}")
    priya.text(f"OK {ref}")
    assert first_join(app, JOE) is None  # a number that only texted never joined
    joe.text("JOIN ELM")
    assert first_join(app, JOE) == NOVEMBER
    assert first_join(app, SAM) == first_join(app, PRIYA) == AUGUST  # an introduction is not a join


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0026(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database of its own, migrated up to 0026: a board with history from before the facts were kept."""
    with empty_database(request.param, tmp_path, "at_0026") as database:
        upgrade(database.engine, "0026")
        yield database


def test_migration_0027_keeps_each_persons_first_join_from_the_consent_history(at_0026):
    day = [datetime(2026, 3, d) for d in range(1, 9)]
    with at_0026.engine.begin() as connection:
        run = connection.execute
        run(text("INSERT INTO areas (id, slug, name, timezone, private, moderation, public_page, created_at) VALUES "
                 "(1, 'elm', 'Elm', 'Europe/London', false, 'open', true, :at), "
                 "(2, 'oak', 'Oak', 'Europe/London', false, 'open', true, :at)"), {"at": day[0]})
        run(text("INSERT INTO subscribers (id, phone, is_admin, digest_frequency, hears_by, created_at, more_page) "
                 "VALUES (:id, :phone, false, 'daily', 'sms', :at, 0)"),
            [{"id": n, "phone": f"+44770090030{n}", "at": day[0]} for n in (1, 2, 3, 4)])
        run(text("INSERT INTO consent_events (subscriber_id, area_id, action, channel, words, created_at) "
                 "VALUES (:who, :area, :action, 'sms', 'JOIN', :at)"), [
            {"who": 1, "area": 2, "action": "subscribe", "at": day[3]},
            {"who": 1, "area": 1, "action": "subscribe", "at": day[1]},  # Sam's first: Elm, on the 2nd
            {"who": 1, "area": 1, "action": "leave", "at": day[0]},
            {"who": 2, "area": 1, "action": "subscribe", "at": day[2]},
            {"who": 4, "area": 1, "action": "opt_out", "at": day[2]}])  # never joined

    upgrade(at_0026.engine)

    with at_0026.engine.connect() as connection:
        kept = connection.execute(select(Subscriber.id, Subscriber.first_joined_at).order_by(Subscriber.id))
        assert [tuple(row) for row in kept] == [
            (1, day[1].replace(tzinfo=UTC)), (2, day[2].replace(tzinfo=UTC)), (3, None), (4, None)]

