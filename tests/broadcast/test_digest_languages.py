"""Digests on a board that speaks Welsh and English: each reader's fixed words in their language,
the posts as their authors wrote them, the same items to every reader, each page within the budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from sms_board import create_app
from sms_board.app import board_of
from sms_board.clock.jobs import tick
from sms_board.models import DigestBatch, Outbox, Subscriber
from sms_board.plumbing.utc import utcnow
from sms_board.text.segments import analyse
from tests.conftest import Phone, Runner, app_config, session_of

SIONED, TOM, NEB, GWEN = "+447700900321", "+447700900654", "+447700900111", "+447700900222"
TUESDAY_MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TUESDAY_DIGEST = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


@pytest.fixture
def board(db, tmp_path):
    with time_machine.travel(TUESDAY_MORNING, tick=False) as clock:
        app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en"))
        Runner(app)("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
        client = app.test_client()
        Phone(client, SIONED).text("YMUNO ELM")
        Phone(client, TOM).text("JOIN ELM")
        Phone(client, NEB).text("JOIN ELM")
        Phone(client, GWEN).text("YMUNO ELM")
        with session_of(app) as session:  # Neb's language is not known (say, imported without one)
            session.execute(update(Subscriber).where(Subscriber.phone == NEB).values(language=None))
            session.commit()
        clock.shift(timedelta(minutes=5))
        yield app, clock


def digests(app, number: str) -> list[str]:
    with session_of(app) as session:
        return list(session.scalars(select(Outbox.body).where(Outbox.to_number == number, Outbox.kind == "digest")
                                    .order_by(Outbox.id)))


def test_each_reader_gets_the_digest_in_their_language_with_the_posts_as_written(board):
    app, clock = board
    Phone(app.test_client(), GWEN).text("POSTIO Dŵr wedi'i ddiffodd ar Stryd y Llwyfen tan 3yp")
    Phone(app.test_client(), TOM).text("POST Bins go out on Tuesday this week")
    clock.move_to(TUESDAY_DIGEST)

    tick(board_of(app).sessions, board_of(app).settings, utcnow())

    [welsh], [english], [unknown] = digests(app, SIONED), digests(app, TOM), digests(app, NEB)
    assert "Dŵr wedi'i ddiffodd ar Stryd y Llwyfen tan 3yp" in welsh  # the post as its author wrote it
    assert "Dŵr wedi'i ddiffodd ar Stryd y Llwyfen tan 3yp" in english
    assert "Bins go out on Tuesday this week" in welsh
    assert english.startswith("Elm Street news:") and not welsh.startswith("Elm Street news:")
    assert unknown == welsh  # not known: the board's first language
    with session_of(app) as session:
        languages = {batch.language for batch in session.scalars(select(DigestBatch))}
    assert languages == {"cy", "en"}


def test_a_welsh_digest_in_ucs2_holds_fewer_items_a_page_and_more_reads_on_to_the_same_items(board):
    app, clock = board
    for n in range(12):
        Phone(app.test_client(), GWEN).text(f"POSTIO Neges {n}: ŵ ŷ â — digwyddiad yn neuadd yr eglwys nos Iau")
    clock.move_to(TUESDAY_DIGEST)
    tick(board_of(app).sessions, board_of(app).settings, utcnow())

    def read_all(number: str, more: str) -> list[str]:
        pages = digests(app, number)
        phone = Phone(app.test_client(), number)
        while True:
            answer = phone.text(more)
            if not answer or "#" not in answer[0]:
                break
            pages.append(answer[0])
        return pages

    welsh_pages, english_pages = read_all(SIONED, "MWY"), read_all(TOM, "MORE")
    for page in welsh_pages + english_pages:
        assert analyse(page).segments <= 3  # SMS_BOARD_DIGEST_SEGMENTS, in GSM-7 or UCS-2
    refs = lambda pages: sorted(  # noqa: E731
        word for page in pages for word in page.split() if word.startswith("#N"))
    assert refs(welsh_pages) == refs(english_pages) and len(refs(welsh_pages)) == 12
