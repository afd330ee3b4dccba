"""Each of the monthly report's figures, on a month whose exchanges are known (tests/reports/conftest.py)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from sms_board.app import board_of
from sms_board.community.report_figures import DEFINITIONS, Figures, Scope, figures, month_period
from sms_board.models import Area
from tests.conftest import session_of
from tests.reports.conftest import AFTER_NOVEMBER, AUGUST, JOE, NOVEMBER, PRIYA, RUTH, ref_in
from tests.support.statements import counting

ELM_NOVEMBER: Figures = {
    "new_connections": 2,  # Sam–Joe and Priya–Ruth; Sam and Priya first exchanged in October
    "exchanges": 4,
    "hours": 5.0,
    "people_who_gave": 2,  # Priya and Sam
    "people_who_received": 2,  # Sam and Joe (Ruth is an organiser)
    "gave_and_received": 1,  # Sam
    "repeat_givers": 1,  # Priya gave to Sam and to Ruth
    "requests": 5,
    "requests_with_offer": 4,
    "requests_unanswered_3_days": 1,  # Joe's dog walk
    "median_hours_to_first_offer": 3.0,  # offers after 2, 4, 1 and 8 hours
    "active_members": 5,  # Sam, Priya, Joe, Bob (LEAVE) and Dee (JOIN); not Ann, who said nothing
    "new_members": 1,  # Dee
    "left": 1,  # Bob
    "isolated_members": 1,  # Ann, on Elm since August and never in an exchange
}


def figures_of(app, slug: str | None, month: date, *, include_organisers: bool = False) -> Figures:  # type: ignore[no-untyped-def]
    settings = board_of(app).settings
    with session_of(app) as session:
        area_id = session.scalar(select(Area.id).where(Area.slug == slug)) if slug else None
        return figures(session, Scope.of(area_id, include_organisers), month_period(month, settings.zone), AFTER_NOVEMBER)


def test_a_known_month_on_elm_street_gives_exactly_its_figures(app, elm_november):
    assert figures_of(app, "elm", date(2026, 11, 1)) == ELM_NOVEMBER


def test_the_whole_board_counts_the_same_month_and_other_areas_count_nothing(app, elm_november):
    assert figures_of(app, None, date(2026, 11, 1)) == ELM_NOVEMBER
    oak = figures_of(app, "oak", date(2026, 11, 1))
    assert oak["median_hours_to_first_offer"] is None
    assert {key: value for key, value in oak.items() if key != "median_hours_to_first_offer"} == dict.fromkeys(
        [key for key in DEFINITIONS if key != "median_hours_to_first_offer"], 0)


def test_a_pair_is_new_only_in_the_month_of_its_first_exchange_ever(app, elm_november):
    october = figures_of(app, "elm", date(2026, 10, 1))
    assert (october["new_connections"], october["exchanges"], october["hours"]) == (1, 1, 1.0)


def test_organisers_count_as_people_only_when_the_board_says_so(app, elm_november):
    included = figures_of(app, "elm", date(2026, 11, 1), include_organisers=True)
    assert included == {**ELM_NOVEMBER, "people_who_received": 3, "active_members": 6}


def test_an_introduction_both_accepted_is_a_new_connection_and_its_done_is_not_another(
    app, elm_november, runner, month,
):
    ruth, joe = elm_november["ruth"], elm_november["joe"]
    month.at(NOVEMBER + timedelta(days=40))  # mid December
    ref = ref_in(ruth.text(f"INTRO {JOE} {PRIYA} chess")[0], "I")
    joe.text(f"OK {ref}")
    elm_november["priya"].text(f"OK {ref}")
    month.at(NOVEMBER + timedelta(days=41))
    joe.text(f"DONE {ref} 1")
    december = figures_of(app, "elm", date(2026, 12, 1))
    assert (december["new_connections"], december["exchanges"]) == (1, 1)
    assert RUTH not in str(december)


def test_a_report_is_a_handful_of_statements_whatever_the_people(app, elm_november):
    with counting(app) as log:
        figures_of(app, "elm", date(2026, 11, 1))
    assert len([kind for kind in log.kinds() if kind.startswith(("SELECT", "WITH"))]) <= 5, log.kinds()


MAX, OLU = "+447700900222", "+447700900333"


def test_isolated_members_are_people_counted_once_up_to_the_months_end_and_staff_only_when_asked(
    app, elm_november, phone, runner, month,
):
    # Ann is on Oak too (two active memberships, one person); Max joins Elm in August and first takes part
    # in December (after November's end); Olu joins Elm and organises Oak, and never takes part.
    month.at(AUGUST + timedelta(days=1))
    elm_november["ann"].text("JOIN OAK")
    max_, olu = phone(MAX), phone(OLU)
    max_.text("JOIN ELM")
    olu.text("JOIN ELM")
    runner("organiser", "add", OLU, "oak")
    month.exchange(max_, elm_november["sam"], NOVEMBER + timedelta(days=30), timedelta(hours=1), "1")
    month.at(AFTER_NOVEMBER)
    november = date(2026, 11, 1)
    assert figures_of(app, None, november)["isolated_members"] == 2  # Ann (once) and Max
    assert figures_of(app, "elm", november)["isolated_members"] == 2
    assert figures_of(app, "oak", november)["isolated_members"] == 1  # Ann
    assert figures_of(app, None, november, include_organisers=True)["isolated_members"] == 3  # and Olu
    december = date(2026, 12, 1)
    assert figures_of(app, None, december)["isolated_members"] == 1  # Ann: Max took part in December
    assert figures_of(app, None, december, include_organisers=True)["isolated_members"] == 2
    assert figures_of(app, "elm", december, include_organisers=True)["isolated_members"] == 2
