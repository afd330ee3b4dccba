"""HELP as residents use it (a carrier keyword, a cry for help, from an opted-out phone) and YES as they write it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms_board.models import Campaign, Confirmation, Subscriber
from sms_board.text.segments import analyse
from sms_board.text.templates import render
from tests.conftest import session_of

SAM, RUTH = "+447700900123", "+447700900001"
DANGER = "If you or someone is in danger, call 999."


# ── HELP ───────────────────────────────────────────────────────────────────


def test_help_names_need_offer_and_can_in_one_text(areas, phone):
    sam = phone(SAM)
    sam.text("JOIN ELM")

    reply = sam.text("HELP")

    assert len(reply) == 1
    for keyword in ("POST", "NEED", "OFFER", "CAN", "HELP MORE", "STOP"):
        assert keyword in reply[0]
    assert analyse(reply[0]).segments == 1


def test_help_before_joining_says_how_to_join_in_one_text(areas, phone):
    reply = phone(SAM).text("HELP")

    assert "JOIN <area or postcode>" in reply[0] and "NEED" in reply[0] and "HELP MORE" in reply[0]
    assert analyse(reply[0]).segments == 1


def test_help_more_lists_the_rest_and_is_not_filed(areas, phone, inbound_rows):
    sam = phone(SAM)
    sam.text("JOIN ELM")

    reply = sam.text("HELP MORE")

    assert len(reply) == 1
    for keyword in ("NAME", "OK <ref>", "DONE <ref>", "CLOSE <ref>", "MY", "DIGEST", "LEAVE"):
        assert keyword in reply[0]
    assert analyse(reply[0]).segments == 1
    assert not inbound_rows()[-1].in_inbox


def test_an_organiser_finds_broadcast_in_help_more(areas, phone, runner):
    ruth = phone(RUTH)
    ruth.text("JOIN ELM")
    runner("organiser", "add", RUTH, "elm")

    reply = " ".join(ruth.text("HELP MORE"))
    assert "BROADCAST <msg>" in reply and "A version per language" not in reply, "a board of one language"


def test_a_cry_for_help_says_call_999_first_and_that_organisers_have_it(areas, phone, inbound_rows):
    sam = phone(SAM)
    sam.text("JOIN ELM")

    reply = sam.text("HELP I have fallen")

    assert len(reply) == 1
    lines = reply[0].splitlines()
    assert lines[0] == DANGER
    assert "passed your message to the organisers" in lines[1]
    assert "NEED <msg>" in lines[2]
    assert inbound_rows()[-1].in_inbox


def test_help_with_ordinary_words_says_it_was_passed_on_without_alarm(areas, phone, inbound_rows):
    sam = phone(SAM)
    sam.text("JOIN ELM")

    reply = sam.text("Help wanted at the fete on Saturday")

    assert DANGER not in reply[0]
    assert reply[0].startswith("We've passed your message to the organisers.")
    assert inbound_rows()[-1].in_inbox


def test_twilio_classified_help_in_another_language_gets_the_usage_text(areas, phone, inbound_rows):
    sam = phone(SAM)
    sam.text("JOIN ELM")

    reply = sam.text("AIDE", OptOutType="HELP")

    assert reply == [render("help", areas=[type("A", (), {"name": "Elm Street"})()], filed=False, urgent=False,
                            lapsed=())]
    assert inbound_rows()[-1].handler == "help"


def test_help_from_an_opted_out_number_says_how_to_come_back_and_nothing_else_is_answered(areas, phone):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    sam.text("STOP")

    reply = sam.text("HELP")

    assert reply == ["You've stopped all texts from this board. Reply START to get them again."]
    assert sam.text("JOIN ELM") == []
    assert sam.text("AREAS") == []
    assert sam.received() == []
    assert len(sam.text("START")) == 1


def test_a_cry_for_help_from_an_opted_out_number_is_answered_and_filed(areas, phone, inbound_rows):
    sam = phone(SAM)
    sam.text("STOP")

    reply = sam.text("help my mum has collapsed")

    assert reply[0].startswith(DANGER) and "START" in reply[0]
    assert inbound_rows()[-1].in_inbox


# ── YES with courtesy words ────────────────────────────────────────────────


@pytest.fixture
def organiser(areas, phone, runner):
    ruth, sam = phone(RUTH), phone(SAM)
    ruth.text("JOIN ELM")
    sam.text("JOIN ELM")
    runner("organiser", "add", RUTH, "elm")
    return ruth


def _broadcast_confirmed(app) -> bool:
    with session_of(app) as session:
        campaign = session.scalar(select(Campaign).where(Campaign.kind == "broadcast"))
        return campaign is not None and campaign.confirmed_at is not None


@pytest.mark.parametrize("yes", ["YES please", "Yes!", "yes ok", "Yes, thank you", "yes please!!"])
def test_yes_with_courtesy_words_sends_the_broadcast(organiser, app, yes):
    organiser.text("BROADCAST Litter pick on Sunday at 10")

    reply = organiser.text(yes)

    assert reply[0].startswith("On its way")
    assert _broadcast_confirmed(app)


def test_yes_with_more_than_courtesy_lets_the_broadcast_lapse(organiser, app):
    organiser.text("BROADCAST Litter pick on Sunday at 10")

    organiser.text("yes but change the time to 11")

    assert not _broadcast_confirmed(app)
    with session_of(app) as session:
        assert session.scalar(select(Confirmation.resolution)) == "lapsed"


def test_yes_please_confirms_forget(areas, phone, app):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    sam.text("FORGET")

    assert sam.text("yes please") == [render("forget_done")]
    with session_of(app) as session:
        assert session.scalar(select(Subscriber).where(Subscriber.phone == SAM)) is None


def test_yes_please_from_an_opted_out_number_opts_back_in(areas, phone):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    sam.text("STOP")

    assert sam.text("Yes please")[0].startswith("Welcome back!")


# ── any other text lets a pending confirmation lapse, HELP, STOP and START included ──


def _still_here(app) -> bool:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return session.scalar(select(Subscriber).where(Subscriber.phone == SAM)) is not None


def test_forget_then_help_then_yes_erases_nothing_and_help_says_so(areas, phone, app):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    sam.text("FORGET")

    help_reply = sam.text("HELP")[0]
    assert help_reply.startswith("Your FORGET was not confirmed: nothing was erased.")
    assert sam.text("YES") == [render("nothing_to_confirm")]
    assert _still_here(app)


def test_forget_then_help_with_words_then_yes_erases_nothing(areas, phone, app):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    sam.text("FORGET")

    assert "Your FORGET was not confirmed" in sam.text("HELP what does forget do")[0]
    sam.text("YES")
    assert _still_here(app)


def test_forget_then_stop_then_yes_opts_back_in_and_erases_nothing(areas, phone, app):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    sam.text("FORGET")
    sam.text("STOP")

    assert sam.text("YES")[0].startswith("Welcome back!")
    assert _still_here(app)


def test_forget_then_start_then_yes_erases_nothing(areas, phone, app):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    sam.text("FORGET")
    sam.text("START")

    assert sam.text("YES") == [render("nothing_to_confirm")]
    assert _still_here(app)


def test_broadcast_then_help_then_yes_sends_nothing_and_help_says_so(organiser, app):
    organiser.text("BROADCAST Litter pick on Sunday at 10")

    assert organiser.text("HELP")[0].startswith("Your broadcast was not sent.")
    assert organiser.text("YES") == [render("nothing_to_confirm")]
    assert not _broadcast_confirmed(app)


def test_help_says_nothing_of_a_confirmation_already_past_its_time(areas, phone, app):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    sam.text("FORGET")
    with session_of(app) as session, session.begin():
        pending = session.scalars(select(Confirmation)).one()
        pending.expires_at = pending.created_at

    assert "FORGET" not in sam.text("HELP")[0]
