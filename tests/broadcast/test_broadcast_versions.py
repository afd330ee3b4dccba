"""An organiser's broadcast on a board that speaks Welsh and English: one version per language.

`BROADCAST CY …` then `BROADCAST EN …` before YES makes a pair; each subscriber gets their
language's version, and someone whose language is not known gets both, Welsh first, at the same
time. The preview counts and prices each language, and says before YES what a reader of a
language with no version will get.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select, update

from sms_board import create_app
from sms_board.app import board_of
from sms_board.broadcast.broadcasts import fan_out_broadcast
from sms_board.broadcast.campaign_lifecycle import REPLACED_NOTE
from sms_board.clock.jobs import tick
from sms_board.models import Campaign, CampaignVersion, Outbox, Subscriber
from sms_board.plumbing.utc import utcnow
from tests.conftest import Phone, Runner, app_config, session_of

RUTH, SIONED, GWEN, TOM, NEB, ADA = (
    "+447700900001",
    "+447700900321",
    "+447700900222",
    "+447700900654",
    "+447700900111",
    "+447700900999",
)
WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WELSH = "D\u0175r wedi\u2019i ddiffodd tan 3yp heddiw"
ENGLISH = "Water off until 3pm today"


def bilingual_street(app: Flask, clock) -> dict[str, Phone]:  # type: ignore[no-untyped-def]
    """Ruth (English) organises Elm Street: Sioned and Gwen read Welsh, Tom English, Neb's language is not
    known (imported without one, say). Ada lives in Oak Road, which Ruth organises too."""
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("area", "add", "oak", "Oak Road", "--postcode", "SE6 3")
    client = app.test_client()
    people = {}
    for number, name, words in [
        (RUTH, "ruth", "JOIN ELM"),
        (SIONED, "sioned", "YMUNO ELM"),
        (GWEN, "gwen", "YMUNO ELM"),
        (TOM, "tom", "JOIN ELM"),
        (NEB, "neb", "JOIN ELM"),
        (ADA, "ada", "JOIN OAK"),
    ]:
        people[name] = Phone(client, number)
        people[name].text(words)
    with session_of(app) as session:
        session.execute(update(Subscriber).where(Subscriber.phone == NEB).values(language=None))
        session.commit()
    runner("organiser", "add", RUTH, "elm")
    clock.shift(timedelta(minutes=1))
    return people


@pytest.fixture
def board(db, tmp_path):  # type: ignore[no-untyped-def]
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as clock:
        app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en"))
        yield app, bilingual_street(app, clock), clock


def run_clock(app: Flask) -> dict[str, int]:
    return tick(board_of(app).sessions, board_of(app).settings, utcnow())


def broadcasts_to(app: Flask, number: str) -> list[str]:
    with session_of(app) as session:
        return list(
            session.scalars(
                select(Outbox.body)
                .where(Outbox.to_number == number, Outbox.kind == "broadcast")
                .order_by(Outbox.id)
            )
        )


def campaigns(app: Flask) -> list[Campaign]:
    with session_of(app) as session:
        return list(
            session.scalars(
                select(Campaign).where(Campaign.kind == "broadcast").order_by(Campaign.id)
            )
        )


def test_a_welsh_and_an_english_version_reach_each_reader_in_theirs_and_the_unknown_get_both_welsh_first(
    board,
):
    app, people, _clock = board
    ruth = people["ruth"]

    first = ruth.text(f"BROADCAST CY {WELSH}")
    assert first == [
        "Send to 4 neighbours in Elm Street (~\u00a30.16)? Reply YES to send.\n"
        'Cymraeg "D\u0175r wedi\'i ddiffodd tan\u2026": 4 (1 text each, ~\u00a30.16)\n'
        "English: no version, so 1 reader gets the Cymraeg one. To add it: BROADCAST EN <message>"
    ]

    second = ruth.text(f"BROADCAST EN {ENGLISH}")
    # Re-sent with both: 3 texts in Welsh (Sioned, Gwen, Neb), 2 in English (Tom, Neb).
    assert second == [
        "Send to 4 neighbours in Elm Street (~\u00a30.20)? Reply YES to send.\n"
        'Cymraeg "D\u0175r wedi\'i ddiffodd tan\u2026": 3 (1 text each, ~\u00a30.12)\n'
        'English "Water off until 3pm\u2026": 2 (1 text each, ~\u00a30.08)\n'
        "1 neighbour whose language is not known gets every version."
    ]

    assert ruth.text("YES") == ["On its way: your message is going to 4 neighbours in Elm Street."]
    assert run_clock(app)["broadcast_texts"] == 5

    welsh, english = "Elm Street: D\u0175r wedi'i ddiffodd tan 3yp heddiw", f"Elm Street: {ENGLISH}"
    assert broadcasts_to(app, SIONED) == [welsh]
    assert broadcasts_to(app, GWEN) == [welsh]
    assert broadcasts_to(app, TOM) == [english]
    # Both, Welsh first (the lower id is sent first).
    assert broadcasts_to(app, NEB) == [
        welsh,
        english,
    ]
    assert broadcasts_to(app, RUTH) == [] and broadcasts_to(app, ADA) == []
    with session_of(app) as session:
        held = set(
            session.execute(
                select(Outbox.send_after, Outbox.status)
                .where(Outbox.to_number == NEB)
                .where(Outbox.kind == "broadcast")
            ).all()
        )
        assert held == {(None, "queued")}  # at the same time

    replaced, sent = campaigns(app)
    assert (replaced.status, replaced.note) == ("cancelled", REPLACED_NOTE)
    # People, not texts.
    assert (sent.status, sent.by_language, sent.audience) == (
        "sending",
        True,
        4,
    )
    with session_of(app) as session:
        versions = session.scalars(
            select(CampaignVersion)
            .where(CampaignVersion.campaign_id == sent.id)
            .order_by(CampaignVersion.position)
        ).all()
        assert [(v.language, v.text, v.readers) for v in versions] == [
            ("cy", WELSH, 3),
            ("en", ENGLISH, 2),
        ]


def test_the_area_word_comes_first_and_a_version_without_one_joins_the_pending_preview(board):
    app, people, _clock = board
    Runner(app)("organiser", "add", RUTH, "oak")
    ruth = people["ruth"]

    assert ruth.text(f"BROADCAST ELM CY {WELSH}")[0].startswith(
        "Send to 4 neighbours in Elm Street ("
    )
    assert ruth.text(f"BROADCAST EN {ENGLISH}")[0].startswith(
        "Send to 4 neighbours in Elm Street (~\u00a30.20)?"
    )
    ruth.text("YES")
    run_clock(app)

    assert broadcasts_to(app, NEB) == [
        "Elm Street: D\u0175r wedi'i ddiffodd tan 3yp heddiw",
        f"Elm Street: {ENGLISH}",
    ]
    assert broadcasts_to(app, ADA) == []  # Oak Road was not named


def test_an_organiser_of_one_area_may_name_it_before_the_language(board):
    app, people, _clock = board
    ruth = people["ruth"]
    ruth.text(f"BROADCAST ELM CY {WELSH}")
    ruth.text(f"BROADCAST ELM EN {ENGLISH}")
    ruth.text("YES")
    run_clock(app)
    assert broadcasts_to(app, TOM) == [f"Elm Street: {ENGLISH}"]  # not "ELM EN Water…"


def test_a_plain_broadcast_goes_to_everyone_once_as_written(board):
    app, people, _clock = board
    ruth = people["ruth"]
    assert ruth.text("BROADCAST Bin collection moved to Friday") == [
        "Send to 4 neighbours in Elm Street (1 text each, ~\u00a30.16)? Reply YES to send."
    ]
    ruth.text("YES")
    assert run_clock(app)["broadcast_texts"] == 4
    for number in (SIONED, GWEN, TOM, NEB):
        assert broadcasts_to(app, number) == ["Elm Street: Bin collection moved to Friday"]
    (campaign,) = campaigns(app)
    assert campaign.by_language is False


def test_an_urgent_broadcasts_fixed_words_are_in_each_readers_language(board):
    app, people, _clock = board
    ruth = people["ruth"]
    ruth.text("URGENT Gas leak: stay indoors")
    ruth.text("YES")
    run_clock(app)
    assert broadcasts_to(app, SIONED) == ["BRYS - Elm Street: Gas leak: stay indoors"]
    assert broadcasts_to(app, TOM) == ["URGENT - Elm Street: Gas leak: stay indoors"]
    # One text: the first language's.
    assert broadcasts_to(app, NEB) == ["BRYS - Elm Street: Gas leak: stay indoors"]


def test_an_urgent_pair_is_made_with_urgent_and_says_so_in_welsh_to_a_welsh_organiser(board):
    app, people, _clock = board
    Runner(app)("organiser", "add", SIONED, "elm")
    sioned = people["sioned"]
    first = sioned.text(f"BRYS CY {WELSH}")[0]
    assert "I ychwanegu fersiwn: BRYS EN <neges>" in first and first.startswith(
        "BRYS, yn mynd ar unwaith"
    )
    second = sioned.text(f"BRYS EN {ENGLISH}")[0]
    assert "Mae 1 cymydog heb iaith hysbys yn cael pob fersiwn." in second
    sioned.text("IE")
    run_clock(app)
    assert broadcasts_to(app, NEB) == [
        "BRYS - Elm Street: D\u0175r wedi'i ddiffodd tan 3yp heddiw",
        f"URGENT - Elm Street: {ENGLISH}",
    ]


def test_with_only_the_welsh_version_english_readers_get_it_as_the_preview_said(board):
    app, people, _clock = board
    ruth = people["ruth"]
    assert (
        "English: no version, so 1 reader gets the Cymraeg one."
        in ruth.text(f"BROADCAST CY {WELSH}")[0]
    )
    ruth.text("YES")
    run_clock(app)
    welsh = "Elm Street: D\u0175r wedi'i ddiffodd tan 3yp heddiw"
    for number in (SIONED, GWEN, TOM, NEB):
        assert broadcasts_to(app, number) == [welsh]


def test_with_only_the_english_version_on_a_welsh_first_board_everyone_gets_the_english(board):
    app, people, _clock = board
    ruth = people["ruth"]
    preview = ruth.text(f"BROADCAST EN {ENGLISH}")[0]
    assert (
        "Cymraeg: no version, so 2 readers get every version. To add it: BROADCAST CY <message>"
        in preview
    )
    ruth.text("YES")
    run_clock(app)
    for number in (SIONED, GWEN, TOM, NEB):
        assert broadcasts_to(app, number) == [f"Elm Street: {ENGLISH}"]


def test_a_language_the_board_does_not_speak_is_refused_and_other_first_words_are_the_message(
    board,
):
    app, people, _clock = board
    ruth = people["ruth"]
    assert ruth.text("BROADCAST PL Zbi\u00f3rka w sobot\u0119") == [
        "Not sent: this board speaks Cymraeg (CY), English (EN), not PL. "
        "BROADCAST CY <message> is for one language, BROADCAST <message> for everyone."
    ]
    assert campaigns(app) == []

    ruth.text("BROADCAST CYCLE race on Sunday: roads closed")  # a word, not a code
    ruth.text("YES")
    run_clock(app)
    assert broadcasts_to(app, TOM) == ["Elm Street: CYCLE race on Sunday: roads closed"]


def test_on_an_english_board_a_welsh_code_is_refused(db, tmp_path):
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as clock:
        app = create_app(app_config(db, tmp_path))
        runner = Runner(app)
        runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
        client = app.test_client()
        Phone(client, TOM).text("JOIN ELM")
        ruth = Phone(client, RUTH)
        ruth.text("JOIN ELM")
        runner("organiser", "add", RUTH, "elm")
        clock.shift(timedelta(minutes=1))
        assert ruth.text(f"URGENT CY {WELSH}") == [
            "Not sent: this board speaks English (EN), not CY. Write URGENT <message>."
        ]
        assert ruth.text("YES") == ["Nothing to confirm. Text HELP to see what you can do."]


def test_any_other_text_still_lets_a_versioned_preview_lapse(board):
    app, people, _clock = board
    ruth = people["ruth"]
    ruth.text(f"BROADCAST CY {WELSH}")
    ruth.text("Hang on, checking the time")
    assert ruth.text("YES") == ["Nothing to confirm. Text HELP to see what you can do."]

    ruth.text(f"BROADCAST CY {WELSH}")
    ruth.text("BROADCAST Bins on Friday")  # no language: a new preview, the newest wins
    ruth.text("YES")
    run_clock(app)
    assert broadcasts_to(app, NEB) == ["Elm Street: Bins on Friday"]


def test_urgent_does_not_join_a_pending_broadcast(board):
    app, people, _clock = board
    ruth = people["ruth"]
    ruth.text(f"BROADCAST CY {WELSH}")
    assert "English: no version" not in ruth.text(f"URGENT EN {ENGLISH}")[0]  # a preview of its own
    ruth.text("YES")
    run_clock(app)
    # Only the English went.
    assert broadcasts_to(app, SIONED) == [f"URGENT - Elm Street: {ENGLISH}"]
    # The Welsh preview is left to lapse, as any preview a newer one replaced.
    assert [c.status for c in campaigns(app)] == ["draft", "sending"]


def test_a_broadcast_naming_a_language_lets_a_pending_forget_lapse(board):
    app, people, _clock = board
    ruth = people["ruth"]
    ruth.text("FORGET")
    ruth.text(f"BROADCAST EN {ENGLISH}")
    assert ruth.text("YES") == ["On its way: your message is going to 4 neighbours in Elm Street."]
    with session_of(app) as session:
        # Not erased.
        assert (
            session.scalars(select(Subscriber.phone).where(Subscriber.phone == RUTH)).one() == RUTH
        )


def test_quiet_hours_hold_every_version_until_eight(db, tmp_path):
    app = create_app(
        app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en", SMS_BOARD_QUIET_HOURS="21:00-08:00")
    )
    with time_machine.travel(datetime(2026, 11, 25, 22, 30, tzinfo=UTC), tick=False) as clock:
        ruth = bilingual_street(app, clock)["ruth"]
        ruth.text(f"BROADCAST CY {WELSH}")
        ruth.text(f"BROADCAST EN {ENGLISH}")
        assert ruth.text("YES")[0].endswith("It waits for quiet hours to end at 08:00.")
        run_clock(app)
        with session_of(app) as session:
            rows = session.execute(
                select(Outbox.to_number, Outbox.status, Outbox.send_after).where(
                    Outbox.kind == "broadcast"
                )
            ).all()
        assert len(rows) == 5 and [row.to_number for row in rows].count(NEB) == 2
        assert {(row.status, row.send_after) for row in rows} == {
            ("held", datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
        }
        clock.move_to(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
        assert run_clock(app)["held_released"] == 5


def test_the_monthly_cap_counts_each_version_a_reader_gets(db, tmp_path):
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as clock:
        first = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en"))
        ruth = bilingual_street(first, clock)["ruth"]
        ruth.text(f"BROADCAST CY {WELSH}")
        ruth.text(f"BROADCAST EN {ENGLISH}")
        ruth.text("YES")
        with db.engine.connect() as connection:
            used = connection.execute(select(func.sum(Outbox.segments))).scalar() or 0
        # Room for one text each for the 4 neighbours, but not for Neb's second.
        app = create_app(
            app_config(
                db,
                tmp_path,
                SMS_BOARD_LANGUAGES="cy,en",
                SMS_BOARD_MONTHLY_SEGMENT_CAP=str(used + 4),
            )
        )
        assert run_clock(app)["broadcasts_paused"] == 1
        paused = campaigns(app)[-1]
        assert paused.status == "paused" and "needed 5, 4 left" in paused.note


def test_a_fan_out_killed_halfway_resumes_and_sends_each_version_once(board):
    app, people, clock = board
    for n in range(10, 16):  # six more whose language is not known
        Phone(app.test_client(), f"+4477009002{n}").text("JOIN ELM")
    with session_of(app) as session:
        session.execute(
            update(Subscriber).where(Subscriber.phone.like("+4477009002%")).values(language=None)
        )
        session.commit()
    clock.shift(timedelta(minutes=1))
    ruth = people["ruth"]
    ruth.text(f"BROADCAST CY {WELSH}")
    ruth.text(f"BROADCAST EN {ENGLISH}")
    ruth.text("YES")
    campaign_id = campaigns(app)[-1].id
    factory, settings = board_of(app).sessions, board_of(app).settings
    stopped = fan_out_broadcast(factory, settings, campaign_id, utcnow(), chunk=3, max_chunks=2)
    assert 0 < stopped.texts < 17
    run_clock(app)
    with session_of(app) as session:
        rows = session.execute(
            select(Outbox.to_number, Outbox.version)
            .where(Outbox.campaign_id == campaign_id)
            .order_by(Outbox.id)
        ).all()
    # Sioned, Gwen, Tom; Neb and the six get both.
    assert len(rows) == len(set(rows)) == 3 + 1 + 2 * 7
    for number in {row.to_number for row in rows}:
        assert [row.version for row in rows if row.to_number == number] in ([0], [1], [0, 1])
    assert campaigns(app)[-1].audience == 10


def test_a_resident_whose_urgent_text_names_a_language_still_lets_a_pending_forget_lapse(board):
    """The pipeline leaves a confirmation to the broadcast handler for such a text; when no handler
    settles it (the emergency stage answered this one), it lapses all the same."""
    app, people, _clock = board
    tom = people["tom"]
    tom.text("FORGET")
    assert "999" in tom.text("URGENT EN my neighbour has fallen and cannot get up")[0]
    assert tom.text("YES") == ["Nothing to confirm. Text HELP to see what you can do."]
    with session_of(app) as session:
        assert session.scalars(select(Subscriber.phone).where(Subscriber.phone == TOM)).one() == TOM


def test_the_cli_previews_and_sends_a_version_per_language(board):
    app, _people, _clock = board
    runner = Runner(app)
    shown = runner(
        "broadcast", "--area", "elm", "--version", "cy", WELSH, "--version", "EN", ENGLISH
    )
    assert shown.stdout.splitlines() == [  # from the CLI, Ruth (English) is among the recipients
        "Broadcast to Elm Street: 5 recipients, 6 texts, ~\u00a30.24",
        "cy (Cymraeg): 3 recipients, 1 segment (UCS-2) each, ~\u00a30.12",
        "  Elm Street: D\u0175r wedi'i ddiffodd tan 3yp heddiw",
        "en (English): 3 recipients, 1 segment (GSM-7) each, ~\u00a30.12",
        f"  Elm Street: {ENGLISH}",
        "1 recipient(s) whose language is not known get every version, cy first.",
    ]
    assert campaigns(app) == []

    sent = json.loads(
        runner(
            "broadcast",
            "--area",
            "elm",
            "--yes",
            "--json",
            "--version",
            "cy",
            WELSH,
            "--version",
            "en",
            ENGLISH,
        ).stdout
    )
    assert (sent["sent"], sent["texts"], sent["recipients"], sent["unknown"]) == (True, 6, 5, 1)
    assert [(v["language"], v["recipients"]) for v in sent["versions"]] == [("cy", 3), ("en", 3)]
    assert broadcasts_to(app, NEB) == [
        "Elm Street: D\u0175r wedi'i ddiffodd tan 3yp heddiw",
        f"Elm Street: {ENGLISH}",
    ]
    assert broadcasts_to(app, RUTH) == [f"Elm Street: {ENGLISH}"]


def test_the_cli_with_one_version_says_what_the_others_get(board):
    app, _people, _clock = board
    shown = Runner(app)("broadcast", "--area", "elm", "--version", "en", ENGLISH)
    assert shown.stdout.splitlines()[-1] == (
        "cy: no version; its 2 reader(s) get every version. Add --version cy TEXT for theirs."
    )


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (
            ["--version", "pl", "Zbi\u00f3rka"],
            "'pl' is not a language this board speaks; it speaks cy (Cymraeg), en (English).",
        ),
        (["--version", "cy", "Helo", "--version", "cy", "Eto"], "cy is given twice."),
        (["--version", "cy", "Helo", "Bins on Friday"], "not both"),
        ([], "write the message to send."),
    ],
)
def test_the_cli_refuses_a_version_it_cannot_send_in_one_line(board, arguments, said):
    app, _people, _clock = board
    refused = Runner(app)("broadcast", "--area", "elm", *arguments, ok=False)
    assert refused.exit_code != 0 and said in refused.output
    assert campaigns(app) == []
