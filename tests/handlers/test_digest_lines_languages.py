"""A post taken down, or erased with FORGET, after the digest was built: the line that replaces it
is in each digest's language ("(tynnwyd)" to a Welsh reader, "(withdrawn)" to an English one)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from sms_board import create_app
from sms_board.models import Outbox
from tests.conftest import Phone, Runner, app_config, session_of

SIONED, TOM, GWEN, RUTH = "+447700900321", "+447700900654", "+447700900222", "+447700900001"
WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
POST = "POSTIO Dŵr wedi'i ddiffodd ar Stryd y Llwyfen tan 3yp"


def board(db, tmp_path, languages: str):  # type: ignore[no-untyped-def]
    app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES=languages))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("organiser", "add", RUTH, "elm")
    return app, runner


def digest_of(app, number: str) -> str:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return session.scalars(
            select(Outbox.body).where(Outbox.to_number == number, Outbox.kind == "digest")
        ).one()


def posted(app, runner, clock) -> str:  # type: ignore[no-untyped-def]
    """Sioned (Welsh) and Tom (English) on Elm Street, Gwen's post in the digest waiting for them."""
    client = app.test_client()
    Phone(client, SIONED).text("YMUNO ELM")
    Phone(client, TOM).text("JOIN ELM")
    gwen = Phone(client, GWEN)
    gwen.text("YMUNO ELM")
    gwen.text("ENW Gwen")
    clock.shift(timedelta(minutes=1))  # posted after the readers joined
    ref = re.search(r"#(N\d+)", gwen.text(POST)[0]).group(1)
    clock.shift(timedelta(minutes=1))
    runner("digest")
    assert f"#{ref} Gwen: Dŵr" in digest_of(app, SIONED) and f"#{ref} Gwen: Dŵr" in digest_of(
        app, TOM
    )
    return ref


def test_a_rejected_post_is_withdrawn_in_each_readers_language(db, tmp_path):
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as clock:
        app, runner = board(db, tmp_path, "cy,en")
        ref = posted(app, runner, clock)

        Phone(app.test_client(), RUTH).text(f"REJECT {ref}")

        assert f"#{ref} (tynnwyd)" in digest_of(app, SIONED)
        assert f"#{ref} (withdrawn)" in digest_of(app, TOM)


def test_a_forgotten_authors_post_is_removed_in_each_readers_language(db, tmp_path):
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as clock:
        app, runner = board(db, tmp_path, "cy,en")
        ref = posted(app, runner, clock)
        gwen = Phone(app.test_client(), GWEN)

        gwen.text("ANGHOFIO")
        gwen.text("IE")

        welsh, english = digest_of(app, SIONED), digest_of(app, TOM)
        assert f"#{ref} (tynnwyd ar gais yr awdur)" in welsh and "Gwen" not in welsh
        assert f"#{ref} (removed at the author's request)" in english and "Gwen" not in english


@pytest.mark.parametrize(("languages", "said"), [("cy", "(tynnwyd)"), ("en", "(withdrawn)")])
def test_on_a_board_of_one_language_the_line_is_in_that_language(db, tmp_path, languages, said):
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as clock:
        app, runner = board(db, tmp_path, languages)
        client = app.test_client()
        Phone(client, SIONED).text("JOIN ELM")
        gwen = Phone(client, GWEN)
        gwen.text("JOIN ELM")
        clock.shift(timedelta(minutes=1))
        ref = re.search(r"#(N\d+)", gwen.text("POST Bins out on Tuesday")[0]).group(1)
        clock.shift(timedelta(minutes=1))
        runner("digest")

        Phone(client, RUTH).text(f"REJECT {ref}")

        assert f"#{ref} {said}" in digest_of(app, SIONED)
