"""A STOP's confirmation is worded once, and a text's plain words are worked out once.

The confirmation of a STOP is both the reply and what the consent record keeps of it: rendered
once in the router and passed down, so someone whose language is not known costs one reading of
their areas' languages there, not two. The plain words STOP and urgent phrases are looked for in
are worked out once a text, however many packs' phrases are read.
"""

from __future__ import annotations

from sqlalchemy import select

from sms_board import create_app
from sms_board.models import ConsentEvent, Subscriber
from sms_board.text.languages import vocabulary
from sms_board.text.words import Words, holds_phrase
from tests.conftest import Phone, Runner, app_config, session_of
from tests.support.statements import counting

NEB = "+447700900111"


def test_a_stop_from_someone_not_known_reads_their_areas_languages_once_in_the_router(db, tmp_path):
    app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en"))
    Runner(app)("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    phone = Phone(app.test_client(), NEB)
    phone.text("ELM")  # a bare area word: no language is known yet

    with counting(app) as log:
        replies = phone.text("STOP")

    reads = [sql for sql in log.statements if "areas.languages" in sql]
    assert len(reads) == 2, (
        "one when the STOP is stored, one in the router (reply and record alike)"
    )
    assert len(replies) == 2 and replies[0].startswith("Rydych wedi dad-danysgrifio")  # Welsh first
    with session_of(app) as session:
        person = session.scalars(select(Subscriber).where(Subscriber.phone == NEB)).one()
        event = session.scalars(
            select(ConsentEvent).where(
                ConsentEvent.subscriber_id == person.id, ConsentEvent.action == "opt_out"
            )
        ).one()
        assert event.wording == "\n\n".join(replies)


def test_a_texts_plain_words_are_worked_out_once():
    words = Words.parse("Dw i wedi cwympo, help", vocabulary(("cy", "en")))

    first = words.plain
    assert holds_phrase(words, vocabulary(("cy", "en")).urgent_phrases)
    assert words.plain is first
