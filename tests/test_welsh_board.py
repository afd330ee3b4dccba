"""A Welsh council's board, end to end, as residents and an organiser would meet it (issue 20, "Measured by").

On a `cy,en` board, every text through the signed Twilio webhook (the real RequestValidator) and
every text out through the sender to a fake Twilio over HTTP: Sioned joins in Welsh (and Gwen
with a typo), switches to English and back, gets the digest in Welsh with Gwen's Welsh-lettered
post intact in UCS-2, while Tom, who joined in English, gets his in English; STOPIO stops Sioned
and her next digest never comes; the subscriber export carries each language. Then the segment
calculator on Welsh and Polish text: of the 56 Welsh vowels with a grave, acute, diaeresis or
circumflex, the 13 GSM-7 has cost nothing, the 43 others make a text UCS-2 (70 characters in one
part, 67 a part when split), and Polish letters are kept too.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from sms_board import create_app
from sms_board.app import board_of
from sms_board.models import LanguageChoice, Outbox, Subscriber
from sms_board.sending.sender import drain
from tests.conftest import Phone, Runner, app_config, session_of

SIONED, TOM, GWEN = "+447700900321", "+447700900654", "+447700900222"
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
WELSH_POST = "Dŵr wedi'i ddiffodd — ŷ â ê"
AS_SENT = "Dŵr wedi'i ddiffodd - ŷ â ê"  # the dash made plain; every letter as Gwen wrote it

# The Welsh vowels (a e i o u w y) with each diacritic Welsh writes: grave, acute, diaeresis, circumflex.
WELSH_ACCENTED = [
    unicodedata.normalize("NFC", base + mark)
    for base in "aeiouwyAEIOUWY"
    for mark in ("\u0300", "\u0301", "\u0308", "\u0302")
]
IN_GSM7 = set("ÄÉÖÜàäèéìòöùü")


def sent_to(fake_twilio, number: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [request.body for request in fake_twilio.requests if request.to == number]


def send(app, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    board = board_of(app)
    settings = replace(board.settings, rate=1000)
    report = drain(board.sessions, fake_twilio.transport(settings), settings)
    assert not report.errors, report


def segments(runner: Runner, text: str) -> dict[str, object]:
    return json.loads(runner("segments", "--smart", "--json", text).output)


def test_a_welsh_board_from_joining_to_stopio(db, tmp_path, fake_twilio):
    with time_machine.travel(MONDAY, tick=False) as clock:
        app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en"))
        runner = Runner(app)
        runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
        client = app.test_client()
        sioned, tom, gwen = Phone(client, SIONED), Phone(client, TOM), Phone(client, GWEN)

        # Joining: in Welsh, in English, and in Welsh with a typo.
        [welcome] = sioned.text("YMUNO ELM")
        assert (
            welcome.startswith("Croeso i fwrdd Elm Street.")
            and "English? Reply ENGLISH." in welcome
        )
        [english] = tom.text("JOIN ELM")
        assert (
            english.startswith("Welcome to Elm Street") and "Cymraeg? Atebwch CYMRAEG." in english
        )
        assert gwen.text("YMNUO ELM")[0].startswith("Croeso i fwrdd Elm Street.")
        gwen.text("ENW Gwen")

        # Switching, each choice kept with its words.
        assert sioned.text("SAESNEG") == [
            "Texts from this board will now come in English. Text LANGUAGE to see the others."
        ]
        assert sioned.text("CYMRAEG") == [
            "Iaith negeseuon y bwrdd hwn o hyn ymlaen: Cymraeg. Tecstiwch IAITH i weld y lleill."
        ]
        with session_of(app) as session:
            person = session.scalars(select(Subscriber).where(Subscriber.phone == SIONED)).one()
            history = session.scalars(
                select(LanguageChoice.wording)
                .where(LanguageChoice.subscriber_id == person.id)
                .order_by(LanguageChoice.id)
            ).all()
        assert (person.language, history) == ("cy", ["YMUNO ELM", "SAESNEG", "CYMRAEG"])

        # A Welsh-lettered post, and the evening's digest in each reader's language.
        clock.shift(timedelta(minutes=5))
        assert gwen.text(f"POSTIO {WELSH_POST}")[0].startswith("Postiwyd fel #N")
        clock.shift(timedelta(minutes=5))
        runner("digest")
        send(app, fake_twilio)

        [welsh_digest] = [body for body in sent_to(fake_twilio, SIONED) if "Gwen:" in body]
        assert (
            welsh_digest.startswith("Newyddion Elm Street:") and f"Gwen: {AS_SENT}" in welsh_digest
        )
        [english_digest] = [body for body in sent_to(fake_twilio, TOM) if "Gwen:" in body]
        assert (
            english_digest.startswith("Elm Street news:") and f"Gwen: {AS_SENT}" in english_digest
        )
        with session_of(app) as session:
            row = session.scalars(
                select(Outbox).where(Outbox.to_number == SIONED, Outbox.kind == "digest")
            ).one()
            assert (row.status, row.encoding, row.body) == ("sent", "UCS-2", welsh_digest)

        # STOPIO: confirmed in Welsh, and no more digests.
        assert sioned.text("STOPIO") == [
            "Rydych wedi dad-danysgrifio ac ni chewch ragor o negeseuon gan y bwrdd hwn. Atebwch DECHRAU i ailymuno."
        ]
        clock.shift(timedelta(days=1))
        tom.text("POST Bins out on Tuesday")
        clock.shift(timedelta(minutes=5))
        runner("digest")
        send(app, fake_twilio)
        assert not any("Bins out" in body for body in sent_to(fake_twilio, SIONED))
        assert any("Bins out" in body for body in sent_to(fake_twilio, GWEN))

        # The export carries each subscriber's language (Sioned has stopped: she is not in it).
        exported = list(csv.DictReader(io.StringIO(runner("subscribers", "export").output)))
        assert {row["number"]: row["language"] for row in exported} == {TOM: "en", GWEN: "cy"}


def test_the_13_welsh_letters_gsm7_has_cost_nothing(db, tmp_path):
    runner = Runner(create_app(app_config(db, tmp_path)))
    gsm7 = [letter for letter in WELSH_ACCENTED if letter in IN_GSM7]
    assert len(gsm7) == 13
    for letter in gsm7:
        text = f"Croeso{letter}" + "x" * 153  # 160 characters: one GSM-7 part
        assert segments(runner, text) == {
            "encoding": "GSM-7",
            "segments": 1,
            "characters": 160,
            "text": text,
        }


def test_the_other_43_welsh_letters_make_a_text_ucs2_and_stay_as_written(db, tmp_path):
    runner = Runner(create_app(app_config(db, tmp_path)))
    ucs2 = [letter for letter in WELSH_ACCENTED if letter not in IN_GSM7]
    assert len(WELSH_ACCENTED) == 56 and len(ucs2) == 43

    for letter in ucs2:
        one = segments(runner, f"Dyma {letter}".ljust(70, "a"))
        two = segments(runner, f"Dyma {letter}".ljust(71, "a"))
        assert (one["encoding"], one["segments"], two["segments"]) == ("UCS-2", 1, 2), letter
        assert letter in one["text"]
    three = segments(runner, "ŵ" * 135)  # 67 + 67 + 1
    assert (three["encoding"], three["segments"]) == ("UCS-2", 3)


def test_polish_text_keeps_its_letters_in_ucs2(db, tmp_path):
    runner = Runner(create_app(app_config(db, tmp_path)))
    polish = "Zażółć gęślą jaźń – ą ć ę ł ń ó ś ź ż"
    measured = segments(runner, polish)
    assert measured == {
        "encoding": "UCS-2",
        "segments": 1,
        "characters": len(polish),
        "text": polish.replace("–", "-"),
    }
