"""`sms-board helper add|list|end`: an organiser records a helper for a resident who has no mobile,
and ends one; the helper must still agree by text (docs/helpers.md)."""

from __future__ import annotations

import json

from sqlalchemy import select

from sms_board.models import AuditEntry, HearsBy, Subscriber, Subscription, TrustedHelper
from sms_board.plumbing.utc import utcnow
from tests.conftest import session_of

ROSE_LANDLINE, SAM, RUTH = "+442079460123", "+447700900222", "+447700900001"
CONSENT = "asked in person by Ruth, 3 Dec"


def landline_resident(app) -> None:  # type: ignore[no-untyped-def]
    """Rose, on a landline, enrolled to hear the board by telephone (as the voice enrolment does)."""
    with session_of(app) as session, session.begin():
        rose = Subscriber(phone=ROSE_LANDLINE, name="Rose", hears_by=HearsBy.VOICE, created_at=utcnow())
        session.add(rose)
        session.flush()
        session.add(Subscription(subscriber_id=rose.id, area_id=1, consent_text="enrolled by Ruth", consent_channel="cli"))


def the_row(app) -> TrustedHelper:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return session.scalars(select(TrustedHelper)).one()


def audit_actions(app) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return [(str(e.action), e.detail) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
                if str(e.action).startswith("helper")]


def test_an_organiser_records_a_landline_residents_helper_who_still_must_agree(areas, runner, phone, app):
    runner("organiser", "add", RUTH, "elm")
    landline_resident(app)
    sam = phone(SAM)
    added = runner("helper", "add", ROSE_LANDLINE, "07700 900222", "--consent", CONSENT)
    row = the_row(app)
    assert added.stderr.strip() == (f"Asked +44 7•••• ••222 to be the helper of Rose ({row.ref}): nothing changes "
                                    f"until they reply OK {row.ref} (within 48 hours).")
    assert (row.status, row.asked_by, row.resident_channel, row.resident_words) == ("proposed", "operator", "cli",
                                                                                     CONSENT)
    assert next(r.body for r in sam.received()).startswith("Rose (Elm Street) asks you to be their helper")
    assert audit_actions(app) == [("helper_add", {"ref": row.ref, "resident": "+44 2•••• ••123",
                                                  "helper": "+44 7•••• ••222", "consent": CONSENT})]

    sam.text(f"OK {row.ref}")
    assert the_row(app).status == "active"
    # Rose hears the board by telephone: her organisers are texted, never her landline.
    assert [r.body for r in phone(RUTH).received()][-1] == (
        f"Please tell Rose (they hear the board by phone): +44 7---- --222 agreed to be their helper ({row.ref}).")
    assert phone(ROSE_LANDLINE).received() == []

    listed = json.loads(runner("helper", "list", "--json").stdout)
    assert [(e["ref"], e["status"], e["resident"], e["resident_number"], e["helper_number"], e["consent"])
            for e in listed] == [(row.ref, "active", "Rose", "+44 2•••• ••123", "+44 7•••• ••222", CONSENT)]
    assert "+442079460123" not in runner("helper", "list").stdout


def test_an_organiser_ends_a_helper_at_once_and_it_is_in_the_audit_log(areas, runner, phone, app):
    landline_resident(app)
    runner("helper", "add", ROSE_LANDLINE, SAM, "--consent", CONSENT)
    row = the_row(app)
    phone(SAM).text(f"OK {row.ref}")
    told = len(phone(SAM).received())
    assert runner("helper", "end", row.ref.lower()).stderr.strip() == f"Ended {row.ref}; nobody is told."
    assert the_row(app).status == "ended" and the_row(app).ended_by == "operator"
    assert len(phone(SAM).received()) == told
    assert [action for action, _ in audit_actions(app)] == ["helper_add", "helper_end"]
    assert runner("helper", "end", row.ref).stderr.strip() == f"{row.ref} had already ended."


def test_helper_commands_refuse_bad_input_in_one_line(areas, runner, app):
    landline_resident(app)
    assert "nobody on the board has the number +44 7•••• ••999" in runner(
        "helper", "add", "+447700900999", SAM, "--consent", CONSENT, ok=False).output
    assert "a helper needs a mobile" in runner(
        "helper", "add", ROSE_LANDLINE, "020 7946 0555", "--consent", CONSENT, ok=False).output
    assert "say how the resident agreed" in runner("helper", "add", ROSE_LANDLINE, SAM, "--consent", " ",
                                                   ok=False).output
    assert "not a helper's ref" in runner("helper", "end", "4", ok=False).output
    assert "no helper H99" in runner("helper", "end", "H99", ok=False).output
    with session_of(app) as session:
        assert session.scalars(select(TrustedHelper)).all() == []


def test_for_a_landline_resident_the_organisers_are_asked_after_12_months_and_confirm_by_command(
    areas, runner, phone, app,
):
    from datetime import UTC, datetime, timedelta

    import time_machine

    runner("organiser", "add", RUTH, "elm")
    landline_resident(app)
    runner("helper", "add", ROSE_LANDLINE, SAM, "--consent", CONSENT)
    row = the_row(app)
    phone(SAM).text(f"OK {row.ref}")
    assert runner("helper", "confirm", row.ref).stderr.strip() == f"{row.ref} is not waiting to be confirmed."
    with time_machine.travel(datetime.now(UTC) + timedelta(days=366), tick=False) as clock:
        runner("tick")
        assert phone(RUTH).received()[-1].body == (
            f"Please ask Rose (they hear the board by phone) if +44 7---- --222 is still their helper; if so, "
            f"confirm {row.ref} within 14 days.")
        assert runner("helper", "confirm", row.ref).stderr.strip() == f"{row.ref} goes on for another 12 months."
        clock.shift(timedelta(days=15))
        runner("tick")
        assert the_row(app).status == "active"
