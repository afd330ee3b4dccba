"""Trusted helpers: a neighbour or relative who reads and answers the board for a resident who can't.

Not the `helper` of an exchange (`Match.helper_id`, the neighbour answering a request): a trusted
helper stands in for a person, with consent both ways (docs/helpers.md). Only
`community/trusted_helpers.py` moves `trusted_helpers.status`.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sms_board.models.base import Base, Named, one_of
from sms_board.models.residents import Subscriber

# The letter of a trusted helper's ref (`H4`): always written, so `OK 4` still means item 4.
HELPER_LETTER = "H"


class TrustedHelperStatus(enum.StrEnum):
    PROPOSED = "proposed"  # the helper was asked; nothing happens until they agree
    ACTIVE = "active"  # both have agreed
    DECLINED = "declined"  # the helper said NO
    LAPSED = "lapsed"  # the helper did not answer in time, or the resident did not confirm it after 12 months
    ENDED = "ended"  # the resident, the helper or an organiser ended it, or STOP / FORGET did


class TrustedHelper(Base):
    """One resident's helper, from the proposal to its end; its id is the `H<n>` both are told."""

    __tablename__ = "trusted_helpers"
    __table_args__ = (
        one_of("status", TrustedHelperStatus),
        Index("ix_trusted_helpers_resident_id", "resident_id", "status"),
        Index("ix_trusted_helpers_helper_id", "helper_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    helper_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    status: Mapped[TrustedHelperStatus] = mapped_column(Named(TrustedHelperStatus, 10),
                                                        default=TrustedHelperStatus.PROPOSED)
    proposed_at: Mapped[datetime]
    # The resident's consent: who asked (the resident by text, or an organiser who asked them in
    # person), how (sms, cli, web) and in what words (their text, or the organiser's note).
    asked_by: Mapped[str] = mapped_column(String(60))
    resident_channel: Mapped[str] = mapped_column(String(8))
    resident_words: Mapped[str] = mapped_column(Text)
    # What the board texted the helper (the proposal, in their language), and their answer.
    proposal_wording: Mapped[str | None] = mapped_column(Text)
    helper_answered_at: Mapped[datetime | None]
    helper_words: Mapped[str | None] = mapped_column(Text)
    # Every 12 months the resident (an organiser, for one on a landline) confirms with OK H<n>: when it
    # was last agreed or confirmed, and when the board asked again (None: not waiting for an answer).
    confirmed_at: Mapped[datetime | None]
    reconfirm_asked_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(60))  # who or what ended it, as it read then

    resident: Mapped[Subscriber] = relationship(foreign_keys=[resident_id])
    helper: Mapped[Subscriber] = relationship(foreign_keys=[helper_id])

    @property
    def ref(self) -> str:
        return f"{HELPER_LETTER}{self.id}"

    def __repr__(self) -> str:
        return f"<TrustedHelper {self.ref} {self.status}>"
