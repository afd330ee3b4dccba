"""Every CSV the board writes, from the CLI as from the dashboard, is safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel
and LibreOffice (`=HYPERLINK(…)` sends whoever clicks it anywhere). Residents write the ledger's
descriptions and organisers the consent sources; the operator opens both files beside names and
full numbers. A phone number (`+447700900123`) is the one cell that starts with `+` by right: it
is written as it is (nothing but digits follows, so no spreadsheet can run it) and imports again.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import delete, select, update

from sms_board import create_app
from sms_board.models import LanguageChoice, Subscriber, Subscription
from tests.conftest import Runner, app_config, session_of
from tests.support.web import csrf_token, sign_in

SAM, PRIYA, ADMIN = "+447700900123", "+447700900456", "+447700900002"
TRAPS = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
         "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def runs_as_formula(cell: str) -> bool:
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(r"\+\d+(?: [\d•]+)*", cell)


def a_need_done(phone, text: str) -> None:  # type: ignore[no-untyped-def]
    """Sam asks with `text`, Priya helps, Sam marks it done: one row of the ledger."""
    sam, priya = phone(SAM), phone(PRIYA)
    ref = re.search(r"#(R\d+)", sam.text(f"NEED {text}")[0]).group(1)  # type: ignore[union-attr]
    priya.text(f"CAN {ref}")
    sam.text(f"OK {ref}")
    sam.text(f"DONE {ref} 1")


@pytest.fixture
def neighbours(areas, phone):  # type: ignore[no-untyped-def]
    for number, name in ((SAM, "Sam"), (PRIYA, "Priya")):
        phone(number).text("JOIN ELM")
        phone(number).text(f"NAME {name}")


@pytest.mark.parametrize("trap", [*TRAPS[:1], "-1 ladder, =2 hands"])
def test_the_ledger_csv_of_the_cli_never_starts_a_cell_with_a_formula(neighbours, phone, runner, trap):
    a_need_done(phone, f"{trap} a ladder")

    rows = rows_of(runner("ledger", "--csv").stdout)

    assert len(rows) == 1 and (rows[0]["giver"], rows[0]["receiver"]) == ("Priya", "Sam")
    assert rows[0]["description"] == f"'{trap} a ladder"
    assert not any(runs_as_formula(cell) for row in rows for cell in row.values())


def test_the_cli_and_the_dashboard_write_the_same_ledger(neighbours, phone, runner, client):
    a_need_done(phone, '=HYPERLINK("http://evil.example","x") a ladder')
    runner("admin", "add", ADMIN)
    sign_in(client, ADMIN)

    downloaded = client.get("/dashboard/exchange/ledger.csv").get_data(as_text=True)

    assert downloaded == runner("ledger", "--csv").stdout
    assert rows_of(downloaded)[0]["description"].startswith("'=HYPERLINK")


@pytest.mark.parametrize("trap", TRAPS)
def test_the_subscribers_export_quotes_a_consent_source_that_is_a_formula_and_keeps_full_numbers(
    areas, runner, tmp_path, trap,
):
    listing = tmp_path / "list.csv"
    with listing.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([("number", "area", "name", "consent_source"), (SAM, "elm", "Sam", trap)])
    runner("subscribers", "import", str(listing))

    runner("subscribers", "export", str(tmp_path / "out.csv"))
    for exported in (runner("subscribers", "export").stdout, (tmp_path / "out.csv").read_text(encoding="utf-8")):
        rows = rows_of(exported)
        assert [(r["number"], r["name"]) for r in rows] == [(SAM, "Sam")]
        assert rows[0]["consent_source"] == "'" + " ".join(trap.split())
        assert not any(runs_as_formula(cell) for row in rows for cell in row.values())


def test_an_exported_list_imports_again_with_the_same_numbers_consent_and_languages(db, tmp_path):
    app = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en"))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("area", "add", "oak", "Oak Road", "--postcode", "SE6")
    listing = tmp_path / "list.csv"
    source = '=HYPERLINK("http://evil.example","signed at the door")'
    with listing.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([("number", "area", "name", "consent_source", "consent_at", "language"),
                                   ("07700 900123", "elm", "Sam", source, "2025-11-12", "cy"),
                                   ("+447700900456", "oak", "", "paper form", "2025-11-13", "")])
    runner("subscribers", "import", str(listing))
    exported = tmp_path / "export.csv"
    runner("subscribers", "export", str(exported))
    assert sorted((r["number"], r["language"]) for r in rows_of(exported.read_text(encoding="utf-8"))) == [
        (SAM, "cy"), (PRIYA, "")]
    # The same list on a board that has lost its subscriptions and languages (a restore, another system's copy).
    with session_of(app) as session, session.begin():
        session.execute(delete(Subscription))
        session.execute(delete(LanguageChoice))
        session.execute(update(Subscriber).values(language=None))

    again = json.loads(runner("subscribers", "import", str(exported), "--json").stdout)

    assert (again["imported"], again["errors"], again["refused"]) == (2, [], [])
    with session_of(app) as session:
        restored = {phone: (text, language) for phone, text, language in session.execute(
            select(Subscriber.phone, Subscription.consent_text, Subscriber.language)
            .join(Subscription, Subscription.subscriber_id == Subscriber.id))}
        chosen = session.execute(select(LanguageChoice.language, LanguageChoice.channel, LanguageChoice.wording)).all()
    assert restored == {SAM: (source, "cy"), PRIYA: ("paper form", None)}
    assert [tuple(row) for row in chosen] == [("cy", "import", source)]


def test_the_dashboard_exports_still_quote_formulas_for_organisers_and_administrators(
    areas, runner, app, client, tmp_path,
):
    runner("organiser", "add", "+447700900001", "elm")
    runner("admin", "add", ADMIN)
    listing = tmp_path / "list.csv"
    listing.write_text(f"number,area,name,consent_source\n{SAM},elm,Sam,\"=HYPERLINK(\"\"x\"\")\"\n", encoding="utf-8")
    runner("subscribers", "import", str(listing))
    for number, shown in (("+447700900001", "+44 7•••• ••123"), (ADMIN, SAM)):
        browser = app.test_client()
        sign_in(browser, number)
        token = csrf_token(browser, "/dashboard/subscribers")
        rows = rows_of(browser.post("/dashboard/subscribers/export.csv", data={"csrf_token": token})
                       .get_data(as_text=True))
        assert [(r["number"], r["consent_source"]) for r in rows] == [(shown, "'=HYPERLINK(\"x\")")]
