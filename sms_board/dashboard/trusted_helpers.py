"""A resident's trusted helpers on the dashboard (docs/helpers.md): shown, recorded and ended by an
organiser of one of the resident's areas, through the same rules as `HELPER` by text and
`sms-board helper add|end` (`community/trusted_helpers.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_board.community.trusted_helpers import (
    CURRENT,
    end_by_organiser,
    record_for_resident,
)
from sms_board.dashboard.scope import Viewer
from sms_board.dashboard.subscribers import listed_for
from sms_board.models import Subscriber, TrustedHelper
from sms_board.plumbing.config import Settings
from sms_board.text.phone import mask
from sms_board.text.phrases import phrase
from sms_board.text.templates import Said

CHANNEL = "web"


# Each state in the organiser's words.
STATUS_NAMES = {"proposed": phrase("asked, no answer yet"), "active": phrase("agreed"), "declined": phrase("said no"),
                "lapsed": phrase("lapsed (no answer in 48 hours)"), "ended": phrase("ended")}


@dataclass(frozen=True)
class HelperRow:
    ref: str
    helper: str  # their NAME and masked number
    status: str
    asked_by: str
    consent: str
    proposed_at: datetime
    endable: bool
    id: int

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]


@dataclass(frozen=True)
class ResidentHelpers:
    subscriber_id: int
    resident: str  # their NAME and masked number
    named: bool  # a proposal names them: none can be recorded without a NAME
    rows: list[HelperRow]


def _label(person: Subscriber) -> str:
    return f"{person.name} {mask(person.phone)}" if person.name else mask(person.phone)


def helpers_page(session: Session, viewer: Viewer, subscriber_id: int) -> ResidentHelpers | None:
    resident = listed_for(session, viewer, subscriber_id)
    if resident is None:
        return None
    rows = session.scalars(select(TrustedHelper).where(TrustedHelper.resident_id == resident.id)
                           .order_by(TrustedHelper.id.desc())).all()
    return ResidentHelpers(resident.id, _label(resident), bool(resident.name), [
        HelperRow(row.ref, _label(row.helper), str(row.status), row.asked_by, row.resident_words, row.proposed_at,
                  row.status in CURRENT, row.id) for row in rows])


# Why a helper could not be recorded, in the organiser's words (the resident's own are for a text).
_REFUSALS = {
    "own": phrase("That is the resident's own number: a helper is someone else, with a mobile."),
    "mobile": phrase("That number can't get texts: a helper needs a mobile."),
    "name": phrase("The resident has no NAME: the helper is told who is asking, so they need one first."),
    "twice": phrase("That number has been asked already."),
    "limit": phrase("The resident has as many helpers as the board allows (SMS_BOARD_HELPERS_PER_RESIDENT)."),
    "cannot_ask": phrase("That number could not be asked."),
}


def record(session: Session, settings: Settings, viewer: Viewer, subscriber_id: int, number: str, consent: str,
           now: datetime) -> Said | None:
    """Record a helper for a resident the viewer may act for (None: not theirs to act for)."""
    resident = listed_for(session, viewer, subscriber_id)
    if resident is None:
        return None
    organiser = session.get(Subscriber, viewer.subscriber_id)
    return record_for_resident(session, settings, resident, number, consent, now, actor=organiser, channel=CHANNEL)


def refusal(said: Said) -> str:
    """The organiser's words for a refused `record`."""
    if said.template == "helper_usage":
        return phrase("Write the helper's mobile number, e.g. 07700 900123.")
    return _REFUSALS.get(str(said.data.get("reason")), _REFUSALS["cannot_ask"])


def end(session: Session, viewer: Viewer, helper_id: int, now: datetime) -> TrustedHelper | None:
    """End one of a resident's helpers for the viewer (None: no such helper of someone they act for)."""
    row = session.get(TrustedHelper, helper_id)
    if row is None or listed_for(session, viewer, row.resident_id) is None:
        return None
    end_by_organiser(session, row, now, actor=session.get(Subscriber, viewer.subscriber_id), channel=CHANNEL)
    return row
