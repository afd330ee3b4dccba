"""A trusted helper (docs/helpers.md): a resident names one by text, the helper agrees or not, and
either ends it; through the signed webhook, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from sms_board.models import TrustedHelper
from tests.conftest import session_of

ROSE, SAM, PRIYA, TOM = "+447700900111", "+447700900222", "+447700900333", "+447700900444"
LANDLINE = "+442079460123"  # Ofcom's drama range for London landlines


def rows(app) -> list[TrustedHelper]:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return list(session.scalars(select(TrustedHelper).order_by(TrustedHelper.id)))


def rose_in_elm(phone):  # type: ignore[no-untyped-def]
    rose = phone(ROSE)
    rose.text("JOIN ELM")
    rose.text("NAME Rose")
    return rose


def bodies(phone) -> list[str]:  # type: ignore[no-untyped-def]
    return [row.body for row in phone.received()]


def test_a_resident_names_a_helper_who_is_asked_and_agrees_with_their_ref(areas, phone, app):
    rose, sam = rose_in_elm(phone), phone(SAM)
    reply = rose.text("HELPER 07700 900222")[0]
    [row] = rows(app)
    assert reply == (f"We've asked +44 7---- --222 to be your helper ({row.ref}). Nothing changes unless they "
                     f"reply OK {row.ref} within 48 hours. HELPER OFF cancels it.")
    assert bodies(sam) == [f"Rose (Elm Street) asks you to be their helper on the board: you'll get copies of "
                           f"their texts and can answer for them. Reply OK {row.ref} to agree, NO {row.ref} to say no."]
    assert (row.status, row.asked_by, row.resident_channel, row.resident_words) == (
        "proposed", "Rose +44 7•••• ••111", "sms", "HELPER 07700 900222")
    assert row.proposal_wording == bodies(sam)[0]

    assert sam.text(f"OK {row.ref}") == [f"Thank you: you're now Rose's helper ({row.ref}). "
                                         "Text HELPER OFF Rose at any time to stop."]
    [row] = rows(app)
    assert (row.status, row.helper_words) == ("active", f"OK {row.ref}") and row.helper_answered_at is not None
    assert bodies(rose)[-1] == f"+44 7---- --222 agreed to be your helper ({row.ref}). Text HELPER OFF to end it at any time."


def test_ok_needs_the_h_ok_4_is_still_item_4_and_yes_never_accepts(areas, phone, app):
    rose_in_elm(phone).text("HELPER 07700 900222")
    sam = phone(SAM)
    [row] = rows(app)
    assert sam.text("YES")[0] != "" and rows(app)[0].status == "proposed"
    assert "Text OK <ref> to accept" in sam.text(f"OK {row.id}")[0]
    assert rows(app)[0].status == "proposed"
    assert sam.text(f"ok h{row.id}")[0].startswith("Thank you: you're now Rose's helper")


def test_no_declines_and_the_resident_is_told(areas, phone, app):
    rose, sam = rose_in_elm(phone), phone(SAM)
    rose.text("HELPER 07700900222")
    [row] = rows(app)
    assert sam.text(f"NO {row.ref}") == [f"Thanks: you're not Rose's helper, and nothing more will come about {row.ref}."]
    assert rows(app)[0].status == "declined"
    assert bodies(rose)[-1] == f"+44 7---- --222 said no to being your helper ({row.ref})."
    assert sam.text(f"OK {row.ref}") == [f"{row.ref} is no longer waiting for an answer."]


def test_only_the_person_asked_can_answer_a_proposal(areas, phone, app):
    rose_in_elm(phone).text("HELPER 07700900222")
    [row] = rows(app)
    assert phone(PRIYA).text(f"OK {row.ref}") == [f"We can't find {row.ref}. Text MY for your refs."]
    assert phone(PRIYA).text("OK H999") == ["We can't find H999. Text MY for your refs."]
    assert rows(app)[0].status == "proposed"


def test_helper_refuses_own_number_landline_twice_and_a_resident_without_a_name(areas, phone, app):
    rose = rose_in_elm(phone)
    assert rose.text("HELPER 07700 900111") == ["That's your own number: your helper is someone else, with a mobile."]
    assert rose.text("HELPER 020 7946 0123") == ["That number can't get texts: a helper needs a mobile."]
    rose.text("HELPER 07700 900222")
    assert rose.text("HELPER +447700900222") == [f"You've already asked that number ({rows(app)[0].ref})."]
    tom = phone(TOM)
    tom.text("JOIN ELM")
    assert tom.text("HELPER 07700 900333") == ["Text NAME <your first name> first: your helper is told who is asking."]
    assert len(rows(app)) == 1


def test_helper_with_words_and_no_number_says_how_and_keeps_the_text(areas, phone, inbound_rows):
    rose = rose_in_elm(phone)
    assert rose.text("Helper needed at the fete") == [
        "Text HELPER and your helper's mobile number, e.g. HELPER 07700 900123. Nothing changes until they agree. "
        "HELPER OFF ends it."]
    assert inbound_rows()[-1].in_inbox


def test_an_opted_out_or_forgotten_number_is_never_asked_and_the_resident_is_not_told_why(areas, phone, app):
    rose = rose_in_elm(phone)
    sam, priya = phone(SAM), phone(PRIYA)
    sam.text("STOP")
    priya.text("FORGET")
    priya.text("YES")
    cannot = ["Sorry, we couldn't ask that number to be your helper."]
    assert rose.text("HELPER 07700 900222") == cannot
    assert rose.text("HELPER 07700 900333") == cannot
    assert rows(app) == [] and bodies(sam) == [] and bodies(priya) == []


def test_at_most_two_helpers_and_three_proposals_a_day(areas, phone, app):
    rose = rose_in_elm(phone)
    rose.text("HELPER 07700 900222")
    rose.text("HELPER 07700 900333")
    assert rose.text("HELPER 07700 900444") == [
        "You have 2 helpers already, the most the board allows. HELPER OFF ends yours."]
    rose.text("HELPER OFF")
    rose.text("HELPER 07700 900444")
    assert rose.text("HELPER 07700 900555") == [
        "You've asked 3 people today, the most in a day. Please try again tomorrow."]
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=25)):
        assert rose.text("HELPER 07700 900555")[0].startswith("We've asked +44 7---- --555")


def test_a_proposal_unanswered_for_48_hours_lapses_and_the_resident_is_told(areas, phone, app, runner):
    rose, sam = rose_in_elm(phone), phone(SAM)
    rose.text("HELPER 07700 900222")
    [row] = rows(app)
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=47)):
        runner("tick")
        assert rows(app)[0].status == "proposed"
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=49)):
        runner("tick")
        assert rows(app)[0].status == "lapsed"
        assert bodies(rose)[-1] == (f"+44 7---- --222 didn't answer within 48 hours, so they are not your helper "
                                    f"({row.ref}).")
        assert sam.text(f"OK {row.ref}") == [f"{row.ref} is no longer waiting for an answer."]


def test_helper_off_by_the_resident_ends_it_and_the_helper_is_not_told(areas, phone, app):
    rose, sam = rose_in_elm(phone), phone(SAM)
    rose.text("HELPER 07700 900222")
    [row] = rows(app)
    sam.text(f"OK {row.ref}")
    told_before = len(bodies(sam))
    assert rose.text("HELPER OFF") == [f"Done: {row.ref} ended. Your helper isn't told."]
    assert rows(app)[0].status == "ended" and rows(app)[0].ended_by == "HELPER OFF"
    assert len(bodies(sam)) == told_before
    assert rose.text("HELPER OFF") == ["You have no helper to end. Text HELPER <mobile number> to ask someone."]


def test_helper_off_name_by_the_helper_ends_their_helping_and_the_resident_is_told(areas, phone, app):
    rose, sam = rose_in_elm(phone), phone(SAM)
    rose.text("HELPER 07700 900222")
    [row] = rows(app)
    sam.text(f"OK {row.ref}")
    assert sam.text("HELPER OFF Priya") == ["You're not Priya's helper."]
    assert sam.text("HELPER OFF rose") == [f"Done: you're no longer Rose's helper ({row.ref})."]
    assert rows(app)[0].status == "ended"
    assert bodies(rose)[-1] == f"+44 7---- --222 is no longer your helper ({row.ref})."


def test_my_shows_a_resident_their_helpers_and_a_helper_whom_they_help(areas, phone, app):
    rose, sam = rose_in_elm(phone), phone(SAM)
    rose.text("HELPER 07700 900222")
    rose.text("HELPER 07700 900333")
    first, second = rows(app)
    sam.text("NAME Sam")
    sam.text(f"OK {first.ref}")
    assert rose.text("MY") == [f"Your helpers:\n{first.ref} Sam\n{second.ref} +44 7---- --333 (asked, no answer yet)"]
    assert sam.text("MY") == [f"You help:\n{first.ref} Rose"]


def test_a_residents_stop_ends_their_helpers_and_a_helpers_stop_tells_the_resident(areas, phone, app):
    rose, sam, priya = rose_in_elm(phone), phone(SAM), phone(PRIYA)
    rose.text("HELPER 07700 900222")
    first = rows(app)[0]
    sam.text(f"OK {first.ref}")
    sam.text("STOP")
    assert rows(app)[0].status == "ended" and rows(app)[0].ended_by == "STOP"
    assert bodies(rose)[-1] == f"+44 7---- --222 is no longer your helper ({first.ref})."
    rose.text("HELPER 07700 900333")
    second = rows(app)[1]
    priya.text(f"OK {second.ref}")
    told_before = len(bodies(priya))
    rose.text("STOP")
    assert rows(app)[1].status == "ended" and len(bodies(priya)) == told_before


def test_a_helpers_forget_ends_their_helping_and_the_resident_is_told(areas, phone, app):
    rose, sam = rose_in_elm(phone), phone(SAM)
    rose.text("HELPER 07700 900222")
    [row] = rows(app)
    sam.text(f"OK {row.ref}")
    sam.text("FORGET")
    sam.text("YES")
    assert rows(app) == []  # the helper's row went with the person
    assert bodies(rose)[-1] == f"+44 7---- --222 is no longer your helper ({row.ref})."


def test_in_welsh_cynorthwyydd_names_a_helper_and_the_reply_is_welsh(areas, phone, app, db, tmp_path):
    from sms_board import create_app
    from tests.conftest import Phone, app_config

    welsh = create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en"))
    rose = Phone(welsh.test_client(), ROSE)
    rose.text("YMUNO ELM")
    rose.text("ENW Rose")
    reply = rose.text("CYNORTHWYYDD 07700 900222")
    assert reply[0].startswith("Eich cynorthwyydd (H")
    assert rose.text("CYNORTHWYYDD DIM")[0].startswith("Wedi'i wneud:")


def test_a_finished_helper_never_moves_again(areas, phone, app):
    from sms_board.app import board_of
    from sms_board.community.trusted_helpers import ACTIVE, WAITING, end, transition
    from sms_board.plumbing.utc import utcnow

    rose_in_elm(phone).text("HELPER 07700 900222")
    phone(SAM).text(f"NO {rows(app)[0].ref}")
    with board_of(app).sessions.begin() as session:
        row = session.scalars(select(TrustedHelper)).one()
        assert not transition(session, row, ACTIVE[0], allowed_from=WAITING, now=utcnow())
        assert not end(session, row, utcnow(), by="operator")
        assert row.status == "declined"


def test_the_limits_are_settings_and_a_bad_one_stops_the_board_at_start(areas, db, tmp_path):
    import pytest

    from sms_board import create_app
    from sms_board.plumbing.config import ConfigError, load_settings
    from tests.conftest import Phone, app_config

    one = create_app(app_config(db, tmp_path, SMS_BOARD_HELPERS_PER_RESIDENT="1"))
    rose = Phone(one.test_client(), ROSE)
    rose.text("JOIN ELM")
    rose.text("NAME Rose")
    rose.text("HELPER 07700 900222")
    assert rose.text("HELPER 07700 900333") == [
        "You have 1 helper already, the most the board allows. HELPER OFF ends yours."]
    for name in ("SMS_BOARD_HELPERS_PER_RESIDENT", "SMS_BOARD_RESIDENTS_PER_HELPER"):
        with pytest.raises(ConfigError, match=f"{name}='0' must be at least 1"):
            load_settings(environ={"SMS_BOARD_INSTANCE_PATH": str(tmp_path), name: "0"})


def test_a_helper_at_their_limit_cannot_be_asked_again(areas, db, tmp_path):
    from sms_board import create_app
    from tests.conftest import Phone, app_config

    board = create_app(app_config(db, tmp_path, SMS_BOARD_RESIDENTS_PER_HELPER="1"))
    rose, priya = Phone(board.test_client(), ROSE), Phone(board.test_client(), PRIYA)
    for person, name in ((rose, "Rose"), (priya, "Priya")):
        person.text("JOIN ELM")
        person.text(f"NAME {name}")
    rose.text("HELPER 07700 900222")
    assert priya.text("HELPER 07700 900222") == ["Sorry, we couldn't ask that number to be your helper."]


def test_every_12_months_the_resident_confirms_with_ok_or_it_lapses_and_both_are_told(areas, phone, app, runner):
    rose, sam = rose_in_elm(phone), phone(SAM)
    rose.text("HELPER 07700 900222")
    [row] = rows(app)
    sam.text(f"OK {row.ref}")
    start = datetime.now(UTC)
    with time_machine.travel(start + timedelta(days=366), tick=False) as clock:
        runner("tick")
        assert bodies(rose)[-1] == (f"Is +44 7---- --222 still your helper ({row.ref})? Reply OK {row.ref} within "
                                    "14 days to keep them; otherwise it ends.")
        assert rose.text(f"OK {row.ref}") == [f"Thank you: +44 7---- --222 stays your helper ({row.ref})."]
        clock.shift(timedelta(days=15))
        runner("tick")
        assert rows(app)[0].status == "active"

        clock.shift(timedelta(days=366))
        runner("tick")
        clock.shift(timedelta(days=14))
        runner("tick")
        assert (rows(app)[0].status, rows(app)[0].ended_by) == ("lapsed", "not confirmed")
        assert bodies(rose)[-1] == f"+44 7---- --222 is no longer your helper ({row.ref}): it was not confirmed."
        assert bodies(sam)[-1] == f"You're no longer Rose's helper ({row.ref}): it was not confirmed after 12 months."
        assert rose.text(f"OK {row.ref}") == [f"We can't find {row.ref}. Text MY for your refs."]
