"""A confirmation's life: pending until a YES confirms it or anything else lets it lapse, and then
never moved again; two YES at the same moment confirm it once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from sms_board.app import board_of
from sms_board.community.confirmations import PENDING, newest_pending, transition
from sms_board.models import Confirmation, ConfirmationResolution, Subscriber
from sms_board.plumbing.utc import utcnow
from sms_board.text.templates import render
from tests.conftest import session_of

SAM, RUTH = "+447700900123", "+447700900001"
CR = ConfirmationResolution


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2026, 11, 25, 12, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def street(clock, areas, phone, runner):  # type: ignore[no-untyped-def]
    """Sam lives on Elm Street; Ruth organises it."""
    sam, ruth = phone(SAM), phone(RUTH)
    sam.text("JOIN ELM")
    ruth.text("JOIN ELM")
    runner("organiser", "add", RUTH, "elm")
    return {"sam": sam, "ruth": ruth}


def confirmations(app) -> list[tuple[str, CR | None, datetime | None]]:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return [(c.action, c.resolution, c.resolved_at)
                for c in session.scalars(select(Confirmation).order_by(Confirmation.id))]


def test_a_confirmation_moves_only_while_it_is_pending(street, app, clock):
    sam, ruth = street["sam"], street["ruth"]
    sam.text("FORGET")
    sam.text("HELP")  # any text but YES lets the FORGET lapse
    ruth.text("BROADCAST Litter pick on Sunday at 10")
    assert ruth.text("YES")[0].startswith("On its way")
    settled = confirmations(app)
    assert [(action, resolution) for action, resolution, _ in settled] == [
        ("forget", CR.LAPSED), ("broadcast", CR.CONFIRMED)]
    clock.shift(timedelta(minutes=1))

    with session_of(app) as session:
        lapsed_forget, confirmed_broadcast = session.scalars(select(Confirmation).order_by(Confirmation.id)).all()
        # A lapsed FORGET is never confirmed after all, and a confirmed broadcast never lapses.
        assert transition(session, lapsed_forget, CR.CONFIRMED, allowed_from=PENDING, now=utcnow()) == []
        assert transition(session, confirmed_broadcast, CR.LAPSED, allowed_from=PENDING, now=utcnow()) == []
        assert (lapsed_forget.resolution, confirmed_broadcast.resolution) == (CR.LAPSED, CR.CONFIRMED)
        session.commit()

    assert confirmations(app) == settled, "neither row moved, nor was stamped again"
    assert sam.text("YES") == [render("nothing_to_confirm")]
    with session_of(app) as session:
        assert session.scalar(select(Subscriber).where(Subscriber.phone == SAM)) is not None, "nothing erased"


@pytest.mark.postgres_only(reason="two sessions writing at once need a database that takes concurrent writers")
def test_two_yes_at_once_confirm_once(street, app):
    """YES sent twice (a double tap, a retry from another phone app): both find the broadcast waiting, one confirms it."""
    street["ruth"].text("BROADCAST Street party on Saturday from noon")
    factory = board_of(app).sessions
    both_found_it = threading.Barrier(2, timeout=10)
    moved: list[int] = []

    def yes() -> None:
        with factory() as session:
            ruth = session.scalars(select(Subscriber).where(Subscriber.phone == RUTH)).one()
            pending = newest_pending(session, ruth, utcnow())
            assert pending is not None and pending.action == "broadcast"
            both_found_it.wait()
            moved.append(len(transition(session, pending, CR.CONFIRMED, allowed_from=PENDING, now=utcnow())))
            session.commit()

    threads = [threading.Thread(target=yes) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(moved) == [0, 1]
    assert [(action, resolution) for action, resolution, _ in confirmations(app)] == [("broadcast", CR.CONFIRMED)]
    assert street["ruth"].text("YES") == [render("nothing_to_confirm")], "confirmed once, and for good"
