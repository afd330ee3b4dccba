"""The 1st-of-the-month text to organisers: once, after quiet hours, in their language, within the budget."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from sms_board.app import board_of
from sms_board.community.report_texts import monthly_texts as monthly_texts_for
from sms_board.community.report_texts import text_organisers
from sms_board.models import Area, Subscriber
from sms_board.plumbing.config import QuietHours
from sms_board.text.segments import analyse
from sms_board.text.templates import render
from tests.conftest import session_of
from tests.reports.conftest import RUTH

FIRST_OF_DECEMBER = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def monthly_texts(person) -> list[str]:  # type: ignore[no-untyped-def]
    return [text.body for text in person.received() if " in Elm Street:" in text.body or " in Oak Road:" in text.body]


def test_each_organiser_hears_the_month_of_their_area_once(elm_november, runner, month):
    ruth = elm_november["ruth"]
    month.at(FIRST_OF_DECEMBER)
    runner("tick")
    runner("tick")
    assert monthly_texts(ruth) == ["November in Elm Street: 2 pairs of neighbours connected for the first time, "
                                   "5 hours given, 1 request waited more than 3 days. "
                                   "Reports: board.example.org/dashboard/reports?area=elm"]
    assert monthly_texts(elm_november["sam"]) == []


def test_an_organiser_of_two_areas_hears_of_each(elm_november, runner, month):
    runner("organiser", "add", elm_november["ruth"].number, "oak")
    month.at(FIRST_OF_DECEMBER)
    runner("tick")
    assert monthly_texts(elm_november["ruth"])[1] == ("November in Oak Road: 0 pairs of neighbours connected for the "
                                                      "first time, 0 hours given, 0 requests waited more than 3 days. "
                                                      "Reports: board.example.org/dashboard/reports?area=oak")


def test_nothing_goes_in_quiet_hours_nor_after_the_first_days(app, elm_november, month):
    board = board_of(app)
    quiet = replace(board.settings, quiet_hours=QuietHours(time(21, 0), time(8, 0)))
    with session_of(app) as session:
        assert text_organisers(session, quiet, datetime(2026, 12, 1, 3, 0, tzinfo=UTC)) == 0
        assert text_organisers(session, quiet, datetime(2026, 12, 4, 9, 0, tzinfo=UTC)) == 0
        assert text_organisers(session, quiet, datetime(2026, 12, 1, 8, 30, tzinfo=UTC)) == 1
        assert text_organisers(session, quiet, datetime(2026, 12, 1, 9, 30, tzinfo=UTC)) == 0
        session.rollback()


@pytest.mark.parametrize("language", ["en", "cy", "pl"])
def test_the_text_fits_the_segment_budget_in_every_language_even_for_a_long_name(app, language):
    worst = render("monthly_report", language, month=date(2026, 9, 1),
                   area=SimpleNamespace(name="Llanfair Pwllgwyngyll and the Menai Bridge estates"),
                   figures={"new_connections": 1234, "requests_unanswered_3_days": 123}, hours="1234.5",
                   hours_count=1234, link=None)
    assert analyse(worst).segments <= board_of(app).settings.digest_segments, worst
    assert {"cy": "Medi", "pl": "Wrzesień", "en": "September"}[language] in worst


def test_the_link_only_with_the_boards_address_and_only_when_it_fits(app, elm_november):
    settings = board_of(app).settings
    figures = {"new_connections": 2, "hours": 5.0, "requests_unanswered_3_days": 1}
    with session_of(app) as session:
        ruth = session.scalar(select(Subscriber).where(Subscriber.phone == RUTH))
        elm = session.scalar(select(Area).where(Area.slug == "elm"))
        texts = {url: monthly_texts_for(replace(settings, public_url=url), ruth, date(2026, 11, 1), elm, figures)
                 for url in ("https://board.example.org", None, "https://" + "long-" * 70 + "example.org")}
    assert texts["https://board.example.org"][0].endswith(" Reports: board.example.org/dashboard/reports?area=elm")
    assert texts[None] == texts["https://" + "long-" * 70 + "example.org"] == [
        "November in Elm Street: 2 pairs of neighbours connected for the first time, 5 hours given, "
        "1 request waited more than 3 days."]
