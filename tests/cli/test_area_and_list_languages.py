"""Languages from the command line: the `language` column of a subscriber list, in and out, an area's
languages (`area add|set … --languages`), and a number's language in `consent`.

On a `cy,en` board an imported row's language is set and kept with the consent source as its wording;
an empty one leaves it not known; any other value refuses the file with its line and the board's
languages. An area may speak only some of the board's languages: texts to a person whose language is
not known, and whose every area is narrowed, go in those languages only.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from sms_board import create_app
from sms_board.models import LanguageChoice, Outbox, Subscriber
from tests.conftest import Phone, Runner, app_config, session_of

SAM, PRIYA, JOE = "+447700900123", "+447700900456", "+447700900789"
HEADER = "number,area,name,consent_source,consent_at,language\n"
PAPER = "paper form at the 12 Nov residents' meeting"
CYMRAEG_WELCOME = "Helo gan fwrdd cymdogaeth"
ENGLISH_WELCOME = "Hello from"


@pytest.fixture
def bilingual(db, tmp_path) -> Flask:
    app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en"))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("area", "add", "oak", "Oak Road", "--postcode", "SE6 2")
    return app


@pytest.fixture
def cli(bilingual) -> Runner:
    return Runner(bilingual)


def write(tmp_path: Path, body: str, name: str = "list.csv") -> str:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return str(path)


def language_of(app: Flask, number: str) -> tuple[str | None, list[tuple[str, str, str]]]:
    with session_of(app) as session:
        person = session.scalars(select(Subscriber).where(Subscriber.phone == number)).one()
        choices = session.scalars(select(LanguageChoice).where(LanguageChoice.subscriber_id == person.id)
                                  .order_by(LanguageChoice.id)).all()
        return person.language, [(c.language, c.wording, c.channel) for c in choices]


def welcomes(app: Flask, number: str) -> list[str]:
    with session_of(app) as session:
        return list(session.scalars(select(Outbox.body).where(Outbox.to_number == number).order_by(Outbox.id)))


# ── import and export ──────────────────────────────────────────────────────


def test_an_imported_language_is_set_with_the_consent_source_and_the_welcome_comes_in_it(bilingual, cli, tmp_path):
    listing = write(tmp_path, f"07700 900123,elm,Sam,{PAPER},2025-11-12,cy\n"
                              f"07700 900456,elm,Priya,{PAPER},,EN\n"
                              f"07700 900789,elm,Joe,{PAPER},,\n")

    result = cli("subscribers", "import", listing)

    assert result.stderr.splitlines()[-1] == "3 of 3 rows subscribed, each sent a welcome; 0 already subscribed, 0 refused."
    assert language_of(bilingual, SAM) == ("cy", [("cy", PAPER, "import")])
    assert language_of(bilingual, PRIYA) == ("en", [("en", PAPER, "import")])
    assert language_of(bilingual, JOE) == (None, [])
    [welsh] = welcomes(bilingual, SAM)
    assert welsh.startswith(CYMRAEG_WELCOME)
    [english] = welcomes(bilingual, PRIYA)
    assert english.startswith(ENGLISH_WELCOME)
    both = welcomes(bilingual, JOE)
    assert [text.startswith(start) for text, start in zip(both, (CYMRAEG_WELCOME, ENGLISH_WELCOME), strict=True)] \
        == [True, True], "not known: Welsh first, then English"


def test_a_language_the_board_does_not_speak_refuses_the_file_with_its_line_and_the_boards_languages(
    bilingual, cli, tmp_path,
):
    listing = write(tmp_path, f"07700 900123,elm,Sam,{PAPER},,cy\n"
                              f"07700 900456,elm,Priya,{PAPER},,Welsh\n"
                              f"07700 900789,elm,Joe,{PAPER},,pl\n"
                              f"07700 900123,oak,Sam,{PAPER},,en\n")

    for dry_run in (["--dry-run"], []):
        result = cli("subscribers", "import", listing, *dry_run, ok=False)
        assert result.exit_code == 1
        assert result.stderr.splitlines()[-4:] == [
            "line 3: 07700 900456: language 'Welsh' is not one this board speaks; write one of cy (Cymraeg), "
            "en (English), or leave it empty",
            "line 4: 07700 900789: language 'pl' is not one this board speaks; write one of cy (Cymraeg), "
            "en (English), or leave it empty",
            "line 5: 07700 900123: language en, but line 2 gives this number cy",
            "3 row(s) failed: nothing was imported. Fix them and run it again.",
        ]
    with session_of(bilingual) as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 0
        assert session.scalar(select(func.count()).select_from(LanguageChoice)) == 0


def test_an_english_only_board_takes_en_and_refuses_cy(areas, runner, app, tmp_path):
    assert runner("subscribers", "import", write(tmp_path, f"07700 900123,elm,Sam,{PAPER},,en\n")).exit_code == 0
    refused = runner("subscribers", "import", write(tmp_path, f"07700 900456,elm,,{PAPER},,cy\n"), ok=False)
    assert refused.stderr.splitlines()[-2] == ("line 2: 07700 900456: language 'cy' is not one this board speaks; "
                                              "write one of en (English), or leave it empty")
    assert language_of(app, SAM) == ("en", [("en", PAPER, "import")])


def test_an_empty_language_keeps_the_one_a_person_chose_and_a_subscription_already_there_changes_nothing(
    bilingual, cli, tmp_path,
):
    Phone(bilingual.test_client(), SAM).text("YMUNO ELM")
    cli("subscribers", "import", write(tmp_path, f"{SAM},oak,,{PAPER},,\n{SAM},elm,,{PAPER},,en\n"))

    assert language_of(bilingual, SAM) == ("cy", [("cy", "YMUNO ELM", "sms")])
    assert welcomes(bilingual, SAM)[-1].startswith(CYMRAEG_WELCOME)


def test_the_export_writes_each_language_and_nothing_while_it_is_not_known(bilingual, cli, tmp_path):
    cli("subscribers", "import", write(tmp_path, f"07700 900123,elm,Sam,{PAPER},,cy\n07700 900789,oak,Joe,{PAPER},,\n"))

    rows = list(csv.DictReader(io.StringIO(cli("subscribers", "export").stdout)))

    assert [(r["number"], r["area"], r["language"]) for r in rows] == [(SAM, "elm", "cy"), (JOE, "oak", "")]


# ── areas ──────────────────────────────────────────────────────────────────


def areas_listed(cli: Runner) -> dict[str, object]:
    return {row["slug"]: row["languages"] for row in json.loads(cli("area", "list", "--json").stdout)}


def test_an_area_may_speak_some_of_the_boards_languages_and_area_list_says_which(bilingual, cli):
    added = cli("area", "add", "llan", "Llanfair", "--postcode", "LL61", "--languages", "CY")
    assert added.stderr == "Added area llan (Llanfair) with postcodes LL61, speaking cy (Cymraeg) only.\n"
    cli("area", "add", "both", "Both Ways", "--languages", "en,cy")

    assert areas_listed(cli) == {"both": ["cy", "en"], "elm": ["cy", "en"], "llan": ["cy"], "oak": ["cy", "en"]}
    lines = cli("area", "list").stdout.splitlines()
    assert "[open, cy]" in next(line for line in lines if line.startswith("llan"))
    assert "[open, cy en]" in next(line for line in lines if line.startswith("elm"))
    audit = [e["detail"] for e in json.loads(cli("audit", "--json").stdout) if e["action"] == "area_add"]
    assert [d.get("languages") for d in audit if d["slug"] in ("llan", "both")] == ["cy", None]


@pytest.mark.parametrize(("languages", "message"), [
    ("pl", "pl: not a language of this board; it speaks cy (Cymraeg), en (English)."),
    ("cy,fr", "fr: not a language of this board; it speaks cy (Cymraeg), en (English)."),
    (",", "name at least one of the board's languages: cy (Cymraeg), en (English)."),
])
def test_an_area_language_the_board_does_not_speak_is_refused_in_one_line(bilingual, cli, languages, message):
    for command in (["add", "llan", "Llanfair", "--languages", languages], ["set", "elm", "--languages", languages]):
        refused = cli("area", *command, ok=False)
        assert refused.exit_code == 2
        assert refused.stderr.splitlines()[-1] == f"Error: Invalid value for --languages: {message}"
    assert "llan" not in areas_listed(cli) and areas_listed(cli)["elm"] == ["cy", "en"]


def test_area_set_narrows_an_area_and_naming_every_language_lifts_it_in_the_audit_log(bilingual, cli):
    assert cli("area", "set", "elm", "--languages", "cy").stderr == "Elm Street now speaks cy (Cymraeg) only.\n"
    assert cli("area", "set", "elm", "--languages", "cy").stderr == "Elm Street already speaks cy (Cymraeg) only.\n"
    assert areas_listed(cli)["elm"] == ["cy"]
    assert cli("area", "set", "elm", "--languages", "en,cy", "--no-public-page").stderr == (
        "Elm Street has no public page now: /board/elm is gone and welcomes no longer mention it.\n"
        "Elm Street now speaks cy (Cymraeg), en (English).\n")
    assert areas_listed(cli)["elm"] == ["cy", "en"]

    changes = [e["detail"] for e in json.loads(cli("audit", "--json").stdout) if e["action"] == "area_change"]
    assert changes == [{"languages": "cy"}, {"public_page": False, "languages": None}]


def test_an_import_into_an_area_that_speaks_welsh_only_welcomes_in_welsh_whoever_is_not_known(bilingual, cli, tmp_path):
    cli("area", "set", "elm", "--languages", "cy")

    cli("subscribers", "import", write(tmp_path, f"07700 900123,elm,Sam,{PAPER},,\n"
                                                 f"07700 900456,elm,Priya,{PAPER},,en\n"
                                                 f"07700 900789,oak,Joe,{PAPER},,\n"
                                                 f"07700 900789,elm,Joe,{PAPER},,\n"))

    [welsh] = welcomes(bilingual, SAM)
    assert welsh.startswith(CYMRAEG_WELCOME) and language_of(bilingual, SAM)[0] is None
    assert welcomes(bilingual, PRIYA)[0].startswith(ENGLISH_WELCOME), "a language of their own wins"
    assert len(welcomes(bilingual, JOE)) == 4, "Oak Road speaks both: Joe reads both"


# ── one number ─────────────────────────────────────────────────────────────


def test_consent_shows_a_numbers_language_and_every_choice_of_it(bilingual, cli, tmp_path):
    cli("subscribers", "import", write(tmp_path, f"07700 900123,elm,Sam,{PAPER},,en\n07700 900789,elm,Joe,{PAPER},,\n"))
    Phone(bilingual.test_client(), SAM).text("CYMRAEG")

    lines = cli("consent", SAM).stdout.splitlines()
    assert lines[1] == "  language: cy (Cymraeg)"
    assert [line.split()[1:] for line in lines[2:]] == [
        ["subscribe", "elm", "via", "import", *f'"{PAPER}"'.split()],
        ["language", "en", "via", "import", *f'"{PAPER}"'.split()],
        ["language", "cy", "via", "sms", '"CYMRAEG"'],
    ]
    history = json.loads(cli("consent", SAM, "--json").stdout)
    assert history["language"] == "cy"
    assert [(c["language"], c["channel"], c["wording"]) for c in history["language_choices"]] == [
        ("en", "import", PAPER), ("cy", "sms", "CYMRAEG")]
    assert cli("consent", JOE).stdout.splitlines()[1] == "  language: not known: texts go in each of cy, en"
