"""The facts the monthly report counts, kept as they happen (migration 0027): each person's first
join to any area and their first exchange, written on every path that makes one, and back-filled
from the history a board had before."""

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
from tests.reports.conftest import NOVEMBER, ref_in
from tests.support.web import sign_in, submit

SAM, PRIYA, JOE, RUTH = "+447700900301", "+447700900302", "+447700900303", "+447700900001"


def facts(app, number: str) -> tuple[datetime | None, datetime | None]:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return session.execute(select(Subscriber.first_joined_at, Subscriber.first_exchange_at)
                               .where(Subscriber.phone == number)).one()  # type: ignore[return-value]


def test_a_first_join_by_text_is_kept_and_a_later_join_elsewhere_leaves_it(areas, phone, app, month):
    sam = phone(SAM)
    month.at(NOVEMBER)
    sam.text("Hello?")
    assert facts(app, SAM) == (None, None)  # texting is not joining
    sam.text("JOIN ELM")
    month.at(NOVEMBER + timedelta(days=3))
    sam.text("JOIN OAK")
    sam.text("LEAVE ELM")
    sam.text("JOIN ELM")
    assert facts(app, SAM) == (NOVEMBER, None)


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
    assert facts(app, SAM) == (NOVEMBER, None)
    assert facts(app, JOE) == (NOVEMBER + timedelta(days=1), None)


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
    assert facts(voice_board, "+442920180123") == (NOVEMBER, None)


def test_the_first_exchange_is_kept_for_giver_and_receiver_and_an_introduction_is_not_one(areas, phone, app, runner,
                                                                                         month):
    sam, priya, joe, ruth = phone(SAM), phone(PRIYA), phone(JOE), phone(RUTH)
    for person in (sam, priya, joe, ruth):
        person.text("JOIN ELM")
    runner("organiser", "add", RUTH, "elm")
    month.exchange(sam, priya, NOVEMBER + timedelta(days=1), timedelta(hours=1), "1")
    assert facts(app, SAM)[1] == facts(app, PRIYA)[1] == NOVEMBER + timedelta(days=1, hours=1)
    month.exchange(sam, priya, NOVEMBER + timedelta(days=2), timedelta(hours=1), "1")
    assert facts(app, SAM)[1] == NOVEMBER + timedelta(days=1, hours=1)  # the first stays

    month.at(NOVEMBER + timedelta(days=3))
    ref = ref_in(ruth.text(f"INTRO {JOE} {PRIYA} chess")[0], "I")
    joe.text(f"OK {ref}")
    priya.text(f"OK {ref}")
    assert facts(app, JOE)[1] is None  # accepted, but nothing exchanged yet
    month.at(NOVEMBER + timedelta(days=4))
    joe.text(f"DONE {ref} 1")
    assert facts(app, JOE)[1] == NOVEMBER + timedelta(days=4)
    assert facts(app, PRIYA)[1] == NOVEMBER + timedelta(days=1, hours=1)


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0026(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database of its own, migrated up to 0026: a board with history from before the facts were kept."""
    with empty_database(request.param, tmp_path, "at_0026") as database:
        upgrade(database.engine, "0026")
        yield database


def test_migration_0027_keeps_each_persons_first_join_and_first_exchange_from_the_history(at_0026):
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
        run(text("INSERT INTO items (id, kind, area_id, author_id, body, status, created_at) VALUES "
                 "(1, 'request', 1, 1, 'A lift', 'closed', :at)"), {"at": day[0]})
        run(text("INSERT INTO exchanges (item_id, area_id, giver_id, receiver_id, description, hours, created_at) "
                 "VALUES (1, 1, :giver, :receiver, 'A lift', 1.0, :at)"), [
            {"giver": 2, "receiver": 1, "at": day[6]},
            {"giver": 1, "receiver": 3, "at": day[4]},  # Sam's first, as giver; Joe's, as receiver
            {"giver": 2, "receiver": None, "at": day[5]}])  # Priya's first

    upgrade(at_0026.engine)

    with at_0026.engine.connect() as connection:
        kept = connection.execute(select(Subscriber.id, Subscriber.first_joined_at, Subscriber.first_exchange_at)
                                  .order_by(Subscriber.id))
        utc = [moment.replace(tzinfo=UTC) for moment in day]
        assert [tuple(row) for row in kept] == [
            (1, utc[1], utc[4]), (2, utc[2], utc[5]), (3, None, utc[4]), (4, None, None)]

