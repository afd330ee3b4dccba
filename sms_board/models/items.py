"""What residents post and how neighbours answer: items, responses, connections, exchanges, reports, invites, notices to organisers, confirmations."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sms_board.models.base import Base, Named, one_of
from sms_board.plumbing.utc import utcnow

if TYPE_CHECKING:
    from sms_board.models.residents import Area, Subscriber


class ItemKind(enum.StrEnum):
    NOTICE = "notice"
    REQUEST = "request"
    OFFER = "offer"
    INTRO = "intro"
    JOIN = "join"  # a resident asking to join a private area, for its organisers to ACCEPT or NO

    @property
    def letter(self) -> str:
        return {"notice": "N", "request": "R", "offer": "O", "intro": "I", "join": "J"}[self.value]

    @classmethod
    def from_letter(cls, letter: str) -> ItemKind:
        return {"N": cls.NOTICE, "R": cls.REQUEST, "O": cls.OFFER, "I": cls.INTRO, "J": cls.JOIN}[letter.upper()]


class ItemStatus(enum.StrEnum):
    UNNAMED = "unnamed"  # kept until its author gives a NAME (pre-moderated areas need one)
    PENDING = "pending"  # waiting for moderation
    PUBLISHED = "published"  # notices, open requests and offers
    HIDDEN = "hidden"  # reported by enough neighbours: out of sight until an organiser decides
    CLOSED = "closed"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Item(Base):
    """A notice, help request, standing offer or introduction.

    Its id is the reference residents use (`#12`, `R12`): one sequence for all kinds,
    so a number alone names one thing.
    """

    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_area_status_created", "area_id", "status", "created_at"),
        # The monthly report's requests: those that went up in a month (community/report_figures.py).
        Index("ix_items_kind_published", "kind", "published_at"),
        # An area's requests of a month (migration 0026).
        Index("ix_items_area_kind_published", "area_id", "kind", "published_at"),
        one_of("status", ItemStatus),
        one_of("kind", ItemKind),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ItemKind] = mapped_column(Named(ItemKind, 8))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"), index=True)
    author_name: Mapped[str | None] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[ItemStatus] = mapped_column(Named(ItemStatus, 10), default=ItemStatus.PUBLISHED)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    moderation_note: Mapped[str | None] = mapped_column(Text)

    area: Mapped[Area] = relationship()
    author: Mapped[Subscriber | None] = relationship()

    @property
    def ref(self) -> str:
        return f"{self.kind.letter}{self.id}"


class ResponseKind(enum.StrEnum):
    OFFER = "offer"  # CAN R7: a neighbour offers to help with a request
    ASK = "ask"  # ASK O3: a neighbour asks for a standing offer
    INTRO = "intro"  # one side of an organiser's introduction


class ResponseStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Response(Base):
    """A neighbour's answer to a request or offer, waiting for the owner's OK (or NO)."""

    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("item_id", "responder_id"),
        one_of("status", ResponseStatus),
        one_of("kind", ResponseKind),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    responder_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"))
    kind: Mapped[ResponseKind] = mapped_column(Named(ResponseKind, 8))
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … within the item: OK R7 2
    status: Mapped[ResponseStatus] = mapped_column(Named(ResponseStatus, 10), default=ResponseStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]

    item: Mapped[Item] = relationship()
    responder: Mapped[Subscriber | None] = relationship()


class MatchStatus(enum.StrEnum):
    CONNECTED = "connected"
    DONE = "done"
    ENDED = "ended"  # a party opted out or forgot, or the item closed
    UNLINKED = "unlinked"  # an organiser ended it


class Match(Base):
    """Two residents connected through an item: the board relays between them without numbers."""

    __tablename__ = "matches"
    # The monthly report reads a month's introductions by time (community/report_figures.py).
    __table_args__ = (one_of("status", MatchStatus), Index("ix_matches_created_at", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"), index=True)
    helper_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"), index=True)
    status: Mapped[MatchStatus] = mapped_column(Named(MatchStatus, 10), default=MatchStatus.CONNECTED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    item: Mapped[Item] = relationship()
    owner: Mapped[Subscriber | None] = relationship(foreign_keys=[owner_id])
    helper: Mapped[Subscriber | None] = relationship(foreign_keys=[helper_id])


class ItemEventAction(enum.StrEnum):
    """What happened to an item, in its history (`item_events.action`)."""

    OPENED = "opened"  # posted (a notice, request or offer)
    NAMED = "named"  # its author gave a NAME, so it went on
    APPROVED = "approved"  # an organiser published a held post (lifts an author's hold where `first` moderates)
    RESTORED = "restored"  # an organiser put a hidden post back
    REPORTS_DISMISSED = "reports_dismissed"  # an organiser kept a reported post up
    REPORTED = "reported"  # a neighbour reported it (no actor: the author never learns who)
    HIDDEN = "hidden"  # reports, or an organiser, took it out of sight
    JOIN_REQUESTED = "join_requested"
    JOIN_ACCEPTED = "join_accepted"
    JOIN_DECLINED = "join_declined"
    REMINDED = "reminded"  # the board asked a quiet request's author whether it is still needed
    OFFERED = "offered"  # CAN on a request
    ASKED = "asked"  # ASK on an offer
    INTRODUCED = "introduced"  # an organiser's INTRO
    INTRO_ACCEPTED = "intro_accepted"
    CONNECTED = "connected"
    KEPT_OPEN = "kept_open"  # its owner said OK and kept the request open for more help
    WITHDRAWN = "withdrawn"
    DECLINED = "declined"
    SHARED_NUMBER = "shared_number"
    RELAYED = "relayed"
    # How it finished (`exchange.close_item`) …
    CLOSED = "closed"
    EXPIRED = "expired"
    REJECTED = "rejected"
    FORGOTTEN = "forgotten"  # its author erased themselves with FORGET
    # … and how a connection on it ended (`exchange.end_match`): by itself, or with the item.
    DONE = "done"
    UNLINKED = "unlinked"
    OPTED_OUT = "opted_out"
    CLOSED_ENDED = "closed_ended"
    EXPIRED_ENDED = "expired_ended"
    REJECTED_ENDED = "rejected_ended"
    DECLINED_ENDED = "declined_ended"
    FORGOTTEN_ENDED = "forgotten_ended"

    @property
    def ended(self) -> ItemEventAction:
        """A connection's end when the item finished this way: `closed` → `closed_ended`."""
        return ItemEventAction(f"{self.value}_ended")


class ItemEvent(Base):
    """The neighbourhood's memory: every state change of an item, with its time. Never overwritten."""

    __tablename__ = "item_events"
    __table_args__ = (one_of("action", ItemEventAction),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"))
    action: Mapped[ItemEventAction] = mapped_column(Named(ItemEventAction, 20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Exchange(Base):
    """The ledger: who helped whom, where, with what, for how long, and when."""

    __tablename__ = "exchanges"
    # The monthly report and the ledger read a period's exchanges by time (community/report_figures.py),
    # with their people and hours, from the index alone (`ix_exchanges_created`); an area's report reads
    # the area's exchanges of the period (migration 0026);
    # each person's exchanges, as giver and as receiver, with the other person and the time: whether
    # someone was ever in an exchange (`isolated_members`, for the whole board in person order) and a
    # pair's earlier exchanges, read from the index alone (migration 0028).
    __table_args__ = (Index("ix_exchanges_created", "created_at", "area_id", "giver_id", "receiver_id", "hours"),
                      Index("ix_exchanges_area_created", "area_id", "created_at"),
                      Index("ix_exchanges_giver", "giver_id", "receiver_id", "created_at"),
                      Index("ix_exchanges_receiver", "receiver_id", "giver_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"), index=True)
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="SET NULL"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"), index=True)
    giver_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"))
    receiver_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text)
    hours: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportResolution(enum.StrEnum):
    DISMISSED = "dismissed"  # APPROVE: the item stays up (or is back)
    UPHELD = "upheld"  # REJECT: the item is taken down


class Report(Base):
    """A neighbour's REPORT of an item: one per resident and item, never shown to the item's author."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("item_id", "reporter_id"), one_of("resolution", ReportResolution))

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When an organiser decided on the item: APPROVE dismisses its reports, REJECT upholds them.
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[ReportResolution | None] = mapped_column(Named(ReportResolution, 10))


class Invite(Base):
    """An invite code to a private area; only a keyed hash of the code is stored."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    uses: Mapped[int] = mapped_column(Integer)
    uses_left: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(60))


class InviteOutcome(enum.StrEnum):
    JOINED = "joined"
    WRONG = "wrong"
    EXPIRED = "expired"
    USED_UP = "used_up"


class InviteAttempt(Base):
    """Every code a number tried: wrong, expired and used-up ones count toward the lock-out."""

    __tablename__ = "invite_attempts"
    __table_args__ = (
        Index("ix_invite_attempts_subscriber_created", "subscriber_id", "created_at"),
        one_of("outcome", InviteOutcome),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id", ondelete="SET NULL"))
    outcome: Mapped[InviteOutcome] = mapped_column(Named(InviteOutcome, 8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NoticeKind(enum.StrEnum):
    HELD = "held"  # a post waits for moderation
    REPORTED = "reported"  # a neighbour reported an item
    HIDDEN = "hidden"  # reports hid an item
    JOIN = "join"  # a resident asks to join a private area


class OrganiserNotice(Base):
    """Something an organiser is to be told; the clock gathers them into one text per 15 minutes."""

    __tablename__ = "organiser_notices"
    __table_args__ = (
        Index("ix_organiser_notices_organiser_sent", "organiser_id", "sent_at"),
        one_of("kind", NoticeKind),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[NoticeKind] = mapped_column(Named(NoticeKind, 8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class ConfirmationResolution(enum.StrEnum):
    """How a confirmation ended; a pending one has none (NULL), `community.confirmations` moves it."""

    CONFIRMED = "confirmed"  # YES, in time
    LAPSED = "lapsed"  # any other text, a newer confirmation, or the 15 minutes ran out


class Confirmation(Base):
    """Something a resident must confirm with YES (a broadcast, FORGET): 15 minutes, the newest wins."""

    __tablename__ = "confirmations"
    __table_args__ = (one_of("resolution", ConfirmationResolution),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    # What YES does: a name in `handlers.router.CONFIRM_ACTIONS`, a registry features add to, so a plain string.
    action: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[ConfirmationResolution | None] = mapped_column(Named(ConfirmationResolution, 10))
