"""`subscribers import` and `subscribers export`: a tenants' association's paper list, with consent.

All rows or none; a forgotten or opted-out number is never added back (even after SECRET_KEY
is rotated); every new subscription has its consent source and a welcome that says how to
STOP; the export shows active subscriptions with full numbers and nothing of a forgotten one.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sqlalchemy import func, select

from sms_board import create_app
from sms_board.models import AuditEntry, ConsentEvent, Outbox, Subscriber, Subscription
from tests.conftest import Phone, Runner, app_config, session_of

SAM, PRIYA, JOE, ADA = "+447700900123", "+447700900456", "+447700900789", "+447700900321"
HEADER = "number,area,name,consent_source,consent_at\n"
PAPER = "paper form at the 12 Nov residents' meeting"


def write(tmp_path: Path, body: str, name: str = "list.csv") -> str:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return str(path)


def counts(app) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return tuple(session.scalar(select(func.count()).select_from(model))  # type: ignore[return-value]
                     for model in (Subscriber, Subscription, Outbox))


def test_an_import_subscribes_each_row_with_its_consent_source_and_a_welcome(areas, runner, app, tmp_path):
    listing = write(tmp_path, f"07700 900123,elm,Sam,{PAPER},2025-11-12\n"
                              f"+447700900456,Elm Street,,\"{PAPER}\",12/11/2025\n"
                              f"07700900789,oak,Joe,door-to-door sign-up sheet,\n")

    result = runner("subscribers", "import", listing)

    assert result.stderr.splitlines()[-1] == "3 of 3 rows subscribed, each sent a welcome; 0 already subscribed, 0 refused."
    with session_of(app) as session:
        sam = session.scalar(select(Subscriber).where(Subscriber.phone == SAM))
        assert sam.name == "Sam"
        subscription = session.scalar(select(Subscription).where(Subscription.subscriber_id == sam.id))
        assert (subscription.consent_channel, subscription.consent_text) == ("import", PAPER)
        assert subscription.consent_at.date().isoformat() == "2025-11-12"
        event = session.scalar(select(ConsentEvent).where(ConsentEvent.subscriber_id == sam.id))
        assert (event.channel, event.words, event.given_at.date().isoformat()) == ("import", PAPER, "2025-11-12")
        welcome = session.scalar(select(Outbox).where(Outbox.to_number == SAM))
        assert welcome.kind == "notify" and "STOP to stop" in welcome.body and "residents' meeting" in welcome.body
        assert "Your posts appear at board.example.org/board/elm with your first name." in welcome.body
        assert [e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.action != "area_add"))] \
            == ["import"]
    consent = json.loads(runner("consent", SAM, "--json").stdout)
    assert consent["events"][0]["channel"] == "import"


def test_one_bad_row_writes_nothing_and_every_failure_is_reported_with_its_line(areas, runner, app, tmp_path):
    listing = write(tmp_path, f"07700 900123,elm,Sam,{PAPER},\n"
                              "07700 900456,elm,Priya,,\n"
                              f"12345,elm,,{PAPER},\n"
                              f"07700 900789,atlantis,,{PAPER},\n"
                              f"07700 900321,elm,,{PAPER},next tuesday\n"
                              f"07700 900123,elm,Sam,{PAPER},\n")
    before = counts(app)

    result = runner("subscribers", "import", listing, ok=False)

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-6:] == [
        "line 3: 07700 900456: consent_source is empty: say where consent was given (e.g. \"paper form, 12 Nov meeting\")",
        "line 4: 12345: '12345' is not a phone number",
        "line 5: 07700 900789: no area 'atlantis'",
        "line 6: 07700 900321: consent_at 'next tuesday' is not a date; write e.g. 2025-11-12 or 12/11/2025",
        "line 7: 07700 900123: the same number and area as line 2",
        "5 row(s) failed: nothing was imported. Fix them and run it again.",
    ]
    assert counts(app) == before


def test_a_number_that_cannot_get_texts_is_refused_with_its_line_and_nothing_is_written(areas, runner, app, tmp_path):
    listing = write(tmp_path, f"07700 900123,elm,Sam,{PAPER},\n"
                              f"0770090030,elm,,{PAPER},\n"  # a UK mobile with a digit missing
                              f"07700 901000,elm,,{PAPER},\n"  # one past Ofcom's drama range: no such mobile
                              f"020 7946 0123,elm,,{PAPER},\n"
                              f"0800 111 1111,elm,,{PAPER},\n")
    before = counts(app)

    for dry_run in (["--dry-run"], []):
        result = runner("subscribers", "import", listing, *dry_run, ok=False)
        assert result.exit_code == 1
        assert result.stderr.splitlines()[-5:] == [
            "line 3: 0770090030: not a valid UK number: is a digit missing or one too many?",
            "line 4: 07700 901000: not a valid UK number: is a digit missing or one too many?",
            "line 5: 020 7946 0123: a landline can't get texts: write voice in its hears_by column",
            "line 6: 0800 111 1111: a freephone number, which cannot receive texts",
            "4 row(s) failed: nothing was imported. Fix them and run it again.",
        ]
    assert counts(app) == before


def test_a_hears_by_column_enrols_landlines_for_calls_and_refuses_bad_values_by_line(db, tmp_path):
    app = create_app(app_config(db, tmp_path, SMS_BOARD_VOICE="on"))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street")
    header = "number,area,name,consent_source,consent_at,hears_by\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(header + f"029 2018 0123,elm,Glenys,{PAPER},,phone\n0113 496 0456,elm,,{PAPER},,\n", encoding="utf-8")
    result = runner("subscribers", "import", str(bad), ok=False)
    assert result.stderr.splitlines()[-3:-1] == [
        "line 2: 029 2018 0123: hears_by 'phone' is not sms or voice",
        "line 3: 0113 496 0456: a landline can't get texts: write voice in its hears_by column",
    ]
    good = tmp_path / "good.csv"
    good.write_text(header + f"029 2018 0123,elm,Glenys,{PAPER},,voice\n07700 900123,elm,Sam,{PAPER},,VOICE\n"
                             f"07700 900456,elm,,{PAPER},,\n", encoding="utf-8")

    runner("subscribers", "import", str(good))

    with session_of(app) as session:
        heard = dict(session.execute(select(Subscriber.phone, Subscriber.hears_by)).all())
        assert heard == {"+442920180123": "voice", SAM: "voice", PRIYA: "sms"}
        assert session.scalars(select(Outbox.to_number).order_by(Outbox.to_number)).all() == [SAM, PRIYA]
    again = tmp_path / "again.csv"
    again.write_text(runner("subscribers", "export").stdout, encoding="utf-8")
    assert json.loads(runner("subscribers", "import", str(again), "--dry-run", "--json").stdout)["already"] == 3


def test_voice_rows_are_refused_on_a_board_that_places_no_calls(areas, runner, tmp_path):
    listing = tmp_path / "voice.csv"
    listing.write_text(f"number,area,consent_source,hears_by\n029 2018 0123,elm,{PAPER},voice\n", encoding="utf-8")

    result = runner("subscribers", "import", str(listing), ok=False)

    assert result.stderr.splitlines()[-2] == \
        "line 2: 029 2018 0123: this board doesn't place calls: set SMS_BOARD_VOICE=on"


def test_ofcoms_drama_range_is_importable_from_end_to_end(areas, runner, tmp_path):
    """07700 900000-900999 is never anyone's phone (the demo and these tests use it), though
    libphonenumber calls it invalid: an explicit exception, and not a number past its end."""
    listing = write(tmp_path, f"07700 900000,elm,,{PAPER},\n07700 900999,elm,,{PAPER},\n"
                              f"+44 7911 123456,elm,,{PAPER},\n")  # an ordinary mobile: only a dry run
    report = json.loads(runner("subscribers", "import", listing, "--dry-run", "--json").stdout)
    assert (report["would_import"], report["errors"]) == (3, [])
    just_outside = write(tmp_path, f"07700 901000,elm,,{PAPER},\n", name="outside.csv")  # unallocated
    report = json.loads(runner("subscribers", "import", just_outside, "--dry-run", "--json", ok=False).stdout)
    assert [e["message"] for e in report["errors"]] == ["not a valid UK number: is a digit missing or one too many?"]


def test_a_text_from_a_number_import_would_refuse_is_still_answered(areas, phone):
    """Inbound keeps the "possible number" rule: whoever texts gets an answer."""
    assert phone("+447700901000").text("HELP")


def test_a_dry_run_reports_the_same_and_writes_nothing(areas, runner, app, tmp_path):
    listing = write(tmp_path, f"07700 900123,elm,Sam,{PAPER},\n07700 900456,,Priya,{PAPER},\n")
    before = counts(app)

    report = json.loads(runner("subscribers", "import", listing, "--area", "elm", "--dry-run", "--json").stdout)

    assert (report["would_import"], report["imported"], report["written"], report["errors"]) == (2, 0, False, [])
    assert counts(app) == before


def test_a_forgotten_or_opted_out_number_is_refused_and_the_rest_go_ahead(areas, phone, runner, app, tmp_path):
    sam, priya = phone(SAM), phone(PRIYA)
    sam.text("JOIN ELM")
    sam.text("FORGET")
    sam.text("YES")
    priya.text("JOIN ELM")
    priya.text("STOP")
    listing = write(tmp_path, f"07700 900123,elm,Sam,{PAPER},\n07700 900456,elm,Priya,{PAPER},\n"
                              f"07700 900789,elm,Joe,{PAPER},\n")

    result = runner("subscribers", "import", listing, "--json")

    report = json.loads(result.stdout)
    assert [(r["line"], r["message"]) for r in report["refused"]] == [
        (2, "refused: this number asked the board to forget it (FORGET); it is never added back"),
        (3, f"refused: this number opted out by STOP on {_today()}"),
    ]
    assert (report["imported"], report["errors"]) == (1, [])
    assert Phone(app.test_client(), SAM).received() == []
    assert [row.kind for row in Phone(app.test_client(), PRIYA).received()] == []
    with session_of(app) as session:
        assert session.scalar(select(Subscriber).where(Subscriber.phone == SAM)) is None


def test_after_a_secret_key_rotation_a_forgotten_number_is_still_refused(areas, phone, db, tmp_path):
    """Rotating SECRET_KEY (routine after a leak) must not empty the suppression list."""
    before = create_app(app_config(db, tmp_path, SMS_BOARD_SUPPRESSION_KEY=None, SECRET_KEY="before-the-leak"))
    sam = Phone(before.test_client(), SAM)
    sam.text("JOIN ELM")
    sam.text("FORGET")
    sam.text("YES")

    rotated = create_app(app_config(db, tmp_path, SMS_BOARD_SUPPRESSION_KEY=None, SECRET_KEY="after-the-leak"))
    report = json.loads(Runner(rotated)(
        "subscribers", "import", write(tmp_path, f"07700 900123,elm,Sam,{PAPER},\n"), "--json").stdout)

    assert report["imported"] == 0 and report["refused"][0]["message"].startswith("refused: this number asked")
    assert (tmp_path / "instance" / "suppression_key").exists(), "its own key, kept in the instance folder"


def test_export_lists_active_subscriptions_with_consent_and_nothing_of_a_forgotten_number(
    areas, phone, runner, tmp_path,
):
    runner("subscribers", "import", write(tmp_path, f"07700 900789,oak,Joe,{PAPER},2025-11-12\n"))
    for number, name in ((SAM, "Sam"), (PRIYA, "Priya"), (ADA, "Ada")):
        person = phone(number)
        person.text("JOIN ELM")
        person.text(f"NAME {name}")
    phone(ADA).text("DIGEST WEEKLY")
    phone(PRIYA).text("LEAVE ELM")
    phone(SAM).text("FORGET")
    phone(SAM).text("YES")

    exported = runner("subscribers", "export").stdout

    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(r["number"], r["area"], r["name"], r["digest"], r["consent_source"], r["channel"]) for r in rows] == [
        (ADA, "elm", "Ada", "weekly", "JOIN ELM", "sms"),
        (JOE, "oak", "Joe", "daily", PAPER, "import"),
    ]
    assert rows[1]["consent_at"].startswith("2025-11-12") and rows[1]["joined"]
    assert "900123" not in exported
    target = tmp_path / "out.csv"
    saved = runner("subscribers", "export", str(target), "--area", "oak")
    assert saved.stdout == "" and saved.stderr == f"1 subscriptions written to {target}.\n"
    assert len(list(csv.DictReader(target.open()))) == 1


def test_an_export_can_be_imported_again_elsewhere(areas, phone, runner, tmp_path):
    phone(SAM).text("JOIN ELM")
    path = tmp_path / "export.csv"
    runner("subscribers", "export", str(path))
    assert json.loads(runner("subscribers", "import", str(path), "--json").stdout)["already"] == 1


def test_a_progress_bar_goes_to_standard_error_and_json_stays_one_document(areas, runner, tmp_path):
    body = "".join(f"07700 900{n:03d},elm,,{PAPER},\n" for n in range(100, 160))
    result = runner("subscribers", "import", write(tmp_path, body), "--json")
    assert json.loads(result.stdout)["imported"] == 60
    assert "Checking rows" in result.stderr


def _today() -> str:
    from sms_board.plumbing.utc import utcnow

    return utcnow().date().isoformat()


def test_a_file_that_is_not_utf8_or_has_no_header_is_refused_in_one_line(areas, runner, tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes(HEADER.encode() + "07700 900123,elm,Zoë,paper form,\n".encode("cp1252"))
    assert runner("subscribers", "import", str(latin), ok=False).stderr == (
        'Error: latin.csv is not UTF-8 text: save it as "CSV UTF-8" and try again.\n')
    headless = tmp_path / "headless.csv"
    headless.write_text("07700 900123,elm,Sam,paper form,\n")
    refused = runner("subscribers", "import", str(headless), ok=False)
    assert refused.exit_code == 1 and "line 1: -: the header needs the column(s) number, consent_source, area" in refused.stderr
