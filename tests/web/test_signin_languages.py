"""Signing in on a board that speaks Welsh and English: the code goes in the organiser's language,
and what the database is asked still does not tell an organiser's number from anyone else's.

The code's language is chosen inside the one `INSERT … SELECT` that texts it
(`sending.outbox.enqueue_if_one(by_language=…)`), whoever asks: a Welsh organiser, an English
one, one whose language is not known, a resident, an opted-out number, a stranger.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms_board import create_app
from sms_board.models import LoginCode, Outbox
from tests.conftest import Phone, Runner, app_config, session_of
from tests.support.statements import counting
from tests.support.web import ask_for_code

RUTH, ADMIN, UNKNOWN = "+447700900001", "+447700900002", "+447700900003"
SAM, OPTED_OUT, NOBODY = "+447700900123", "+447700900124", "+447700900555"
WELSH, ENGLISH = "Eich cod mewngofnodi sms-board yw", "Your sms-board sign-in code is"


@pytest.fixture
def bilingual(db, tmp_path):  # type: ignore[no-untyped-def]
    app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en"))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("organiser", "add", RUTH, "elm")
    runner("organiser", "add", UNKNOWN, "elm")  # enrolled by the CLI: no language known
    runner("admin", "add", ADMIN)
    client = app.test_client()
    Phone(client, RUTH).text("CYMRAEG")
    Phone(client, ADMIN).text("ENGLISH")
    Phone(client, SAM).text("YMUNO ELM")
    Phone(client, OPTED_OUT).text("YMUNO ELM")
    Phone(client, OPTED_OUT).text("STOPIO")
    return app


def code_texts(app, number: str) -> list[str]:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return list(
            session.scalars(
                select(Outbox.body)
                .where(Outbox.to_number == number, Outbox.body.like("%sms-board%"))
                .order_by(Outbox.id)
            )
        )


def test_asking_for_a_code_runs_the_same_statements_for_every_number_on_a_welsh_board(bilingual):
    ask_for_code(
        bilingual.test_client(), "+447700900999"
    )  # the first request may load more (templates, the CSRF token)
    numbers = (RUTH, ADMIN, UNKNOWN, SAM, OPTED_OUT, NOBODY)
    work = {}
    for number in numbers:
        with counting(bilingual) as log:
            assert ask_for_code(bilingual.test_client(), number).status_code == 302
        work[number] = log

    statements = [work[number].statements for number in numbers]
    assert all(these == statements[0] for these in statements), {
        n: log.kinds() for n, log in work.items()
    }
    assert "INSERT INTO outbox" in work[NOBODY].kinds(), (
        "the stranger's request runs the statement that texts"
    )
    [welsh], [english], [both] = (
        code_texts(bilingual, RUTH),
        code_texts(bilingual, ADMIN),
        code_texts(bilingual, UNKNOWN),
    )
    assert welsh.startswith(WELSH) and ENGLISH not in welsh
    assert english.startswith(ENGLISH) and WELSH not in english
    assert both.startswith(WELSH) and f"\n{ENGLISH}" in both, (
        "not known: Welsh first, then English, in one text"
    )
    assert (
        code_texts(bilingual, SAM)
        == code_texts(bilingual, OPTED_OUT)
        == code_texts(bilingual, NOBODY)
        == []
    )
    with session_of(bilingual) as session:
        rows = session.scalars(select(LoginCode).order_by(LoginCode.id)).all()[1:]
        assert [row.code_hash is not None for row in rows] == [
            True,
            True,
            True,
            False,
            False,
            False,
        ]
