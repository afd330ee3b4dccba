"""The board's data: typed SQLAlchemy 2 models.

Models know nothing of Flask, handlers or sending. Times are stored as naive
UTC and come back timezone-aware (`UTCDateTime`), the same on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship

from sms_board.utc import utcnow


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in Python, naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use sms_board.utc.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


E = TypeVar("E", bound=enum.StrEnum)


class Named(TypeDecorator[E], Generic[E]):
    """An enum member in Python, its value in the database: the column stays a plain String.

    SQLAlchemy's own `Enum` would store member names and compare differently against the
    migrations; this keeps the stored strings and the schema exactly as they were. A
    string that is not one of the enum's values is refused before it reaches the
    database (whose CHECK constraint refuses it too).
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[E], length: int) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> E | None:
        return None if value is None else self.enum_class(value)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}


@event.listens_for(Base, "mapper_configured", propagate=True)
def _members_on_assignment(mapper: Mapper[Any], cls: type[Any]) -> None:
    """A string assigned to a `Named` column becomes its enum member at once (an unknown one is refused),
    so `item.kind.letter` holds before the row has been to the database and back."""
    for prop in mapper.column_attrs:
        column_type = prop.columns[0].type
        if isinstance(column_type, Named):
            members = column_type.enum_class
            event.listen(getattr(cls, prop.key), "set",
                         lambda _target, value, _old, _initiator, members=members: value if value is None
                         else members(value), retval=True)


class Moderation(enum.StrEnum):
    OPEN = "open"  # published at once
    FIRST = "first"  # a resident's first post waits for an organiser
    ALL = "all"  # every post waits


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


class SubscriptionStatus(enum.StrEnum):
    ACTIVE = "active"
    LEFT = "left"  # LEAVE: the resident left this area
    STOPPED = "stopped"  # ended by STOP; START brings these back


class OutboxKind(enum.StrEnum):
    DIGEST = "digest"
    BROADCAST = "broadcast"
    NOTIFY = "notify"  # a text to one person: an offer, a connection, a reminder, an organiser's alert
    RELAY = "relay"  # one neighbour's words passed on to the other
    REPLY = "reply"  # the direct answer to an inbound text, handed to Twilio as TwiML


class OutboxLane(enum.IntEnum):
    """Which waiting text the sender takes first: the lowest lane, then the oldest row."""

    DIRECT = 0  # texts to one person: replies, relays, notices, login codes
    URGENT = 1  # URGENT broadcasts (a flood, a water cut)
    BULK = 2  # ordinary broadcasts and digests


class OutboxStatus(enum.StrEnum):
    HELD = "held"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"


def one_of(column: str, values: type[enum.Enum]) -> CheckConstraint:
    """A CHECK constraint that makes the database refuse any value the enum does not name."""
    listed = ", ".join(f"'{member.value}'" for member in values)  # type: ignore[attr-defined]
    return CheckConstraint(f"{column} IN ({listed})", name=column)


class InboundStatus(enum.StrEnum):
    RECEIVED = "received"  # stored, not yet routed
    HANDLED = "handled"
    IGNORED = "ignored"  # stored, deliberately not answered (short code, own number, opted out)
    HELD = "held"  # flood: kept for an organiser, not routed
    ERROR = "error"  # a handler failed; the error is kept


class Area(Base):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    moderation: Mapped[str] = mapped_column(String(8), default=Moderation.OPEN.value)
    # `/board/<slug>`: its posts, with their authors' first names, for anyone to read. Never for a private area.
    public_page: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    postcodes: Mapped[list[AreaPostcode]] = relationship(
        back_populates="area", cascade="all, delete-orphan", order_by="AreaPostcode.prefix"
    )

    def __repr__(self) -> str:
        return f"<Area {self.slug}>"


class AreaPostcode(Base):
    """A postcode prefix (outward code, or outward code plus sector) served by an area."""

    __tablename__ = "area_postcodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(12), unique=True)

    area: Mapped[Area] = relationship(back_populates="postcodes")


class Subscriber(Base):
    """Everyone who has ever texted the board or been added to it: one row per number."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str | None] = mapped_column(String(40))
    opted_out_at: Mapped[datetime | None]
    undeliverable_at: Mapped[datetime | None]
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_frequency: Mapped[str] = mapped_column(String(8), default="daily")
    last_hint_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Where MORE continues: the digest batch last sent to this number and the page it reached.
    more_batch_id: Mapped[int | None] = mapped_column(ForeignKey("digest_batches.id", ondelete="SET NULL", use_alter=True))
    more_page: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When a digest last ended with the "how to stop" line (once a calendar month). Not indexed,
    # and the table keeps half of each page free (migration 0011): the month's stamp is a heap-only update.
    stop_reminded_at: Mapped[datetime | None]

    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="subscriber")

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None

    def __repr__(self) -> str:
        return f"<Subscriber {self.id}>"


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("subscriber_id", "area_id"), one_of("status", SubscriptionStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    status: Mapped[SubscriptionStatus] = mapped_column(Named(SubscriptionStatus, 8), default=SubscriptionStatus.ACTIVE)
    consent_at: Mapped[datetime] = mapped_column(default=utcnow)
    consent_text: Mapped[str] = mapped_column(Text)
    consent_channel: Mapped[str] = mapped_column(String(8), default="sms")
    ended_at: Mapped[datetime | None]
    last_digest_at: Mapped[datetime | None]

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")
    area: Mapped[Area] = relationship()


class ConsentEvent(Base):
    """The consent history of a number: every subscribe, leave, opt-out and opt-in, with its words."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))  # subscribe, leave, opt_out, opt_in
    channel: Mapped[str] = mapped_column(String(8))  # sms, cli, import, web, carrier
    words: Mapped[str] = mapped_column(Text)  # what the resident sent
    wording: Mapped[str | None] = mapped_column(Text)  # what the board told them
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the resident gave the consent, where that was before this record (a paper list imported).
    given_at: Mapped[datetime | None]


class Organiser(Base):
    __tablename__ = "organisers"
    __table_args__ = (UniqueConstraint("subscriber_id", "area_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    subscriber: Mapped[Subscriber] = relationship()
    area: Mapped[Area] = relationship()


class InboundMessage(Base):
    """Every text the board receives, kept whatever happens to it."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        Index("ix_inbound_from_received", "from_number", "received_at"),
        Index("ix_inbound_received", "received_at", postgresql_where=text("status = 'received'"),
              sqlite_where=text("status = 'received'")),
        # The organisers' inbox, newest first, however many texts were routed normally.
        Index("ix_inbound_inbox", "id", postgresql_where=text("in_inbox"), sqlite_where=text("in_inbox")),
        one_of("status", InboundStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str] = mapped_column(String(64))  # E.164 when possible, else as received
    to_number: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[InboundStatus] = mapped_column(Named(InboundStatus, 10), default=InboundStatus.RECEIVED)
    handler: Mapped[str | None] = mapped_column(String(32))
    replies: Mapped[list[str]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    in_inbox: Mapped[bool] = mapped_column(Boolean, default=False)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None]
    # Routing attempts: the first delivery counts as one; the clock counts each takeover of a
    # text left `received` by a process that died, and gives up to the inbox after two.
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The replies went by REST through the outbox (a takeover has no webhook to answer), so a
    # late retry of the webhook must not send them again as TwiML.
    replies_queued: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # An organiser marked this inbox text dealt with (on the dashboard).
    dealt_with_at: Mapped[datetime | None]
    dealt_with_by_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"))
    # It may be a cry for help (`community.urgent`): first in the inbox until dealt with.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When the organisers were texted about it (at most once an hour for one sender).
    organisers_alerted_at: Mapped[datetime | None]


class Item(Base):
    """A notice, help request, standing offer or introduction.

    Its id is the reference residents use (`#12`, `R12`): one sequence for all kinds,
    so a number alone names one thing.
    """

    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_area_status_created", "area_id", "status", "created_at"),
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


class Outbox(Base):
    """One text to send. Only the sender hands these to a transport.

    For campaigns it is also the delivery record: (campaign, subscriber) is unique,
    so running a digest or broadcast twice, or resuming one, never texts anyone twice.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_send_after", "status", "send_after"),
        # Loop protection: the replies to one number in the last hour, and its latest texts.
        Index("ix_outbox_to_number_sent", "to_number", "sent_at"),
        # Texts per day and segments this month read a range of creation times.
        Index("ix_outbox_created_at", "created_at"),
        # The sender's claim: queued rows in lane order, then oldest first, read straight off
        # this index however many rows wait (docs/architecture.md shows the plan).
        Index("ix_outbox_claim", "lane", "id", postgresql_where=text("status = 'queued'"),
              sqlite_where=text("status = 'queued'")),
        UniqueConstraint("campaign_id", "subscriber_id", name="uq_outbox_campaign_subscriber"),
        # What a text to one person is about: when that is withdrawn before the text goes, the
        # text is cancelled (`delivery.cancel_about`). Digests and broadcasts are about nothing.
        Index("ix_outbox_item", "item_id", postgresql_where=text("item_id IS NOT NULL"),
              sqlite_where=text("item_id IS NOT NULL")),
        Index("ix_outbox_response", "response_id", postgresql_where=text("response_id IS NOT NULL"),
              sqlite_where=text("response_id IS NOT NULL")),
        Index("ix_outbox_match", "match_id", postgresql_where=text("match_id IS NOT NULL"),
              sqlite_where=text("match_id IS NOT NULL")),
        one_of("status", OutboxStatus),
        one_of("kind", OutboxKind),
        CheckConstraint("lane IN (0, 1, 2)", name="lane"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    to_number: Mapped[str] = mapped_column(String(20))
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"), index=True)
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[OutboxKind] = mapped_column(Named(OutboxKind, 10))
    status: Mapped[OutboxStatus] = mapped_column(Named(OutboxStatus, 12), default=OutboxStatus.QUEUED)
    lane: Mapped[int] = mapped_column(Integer, default=OutboxLane.DIRECT.value, server_default="0")
    segments: Mapped[int] = mapped_column(Integer)
    encoding: Mapped[str] = mapped_column(String(6))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(Text)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id", ondelete="SET NULL"))
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("digest_batches.id", ondelete="SET NULL"))
    # A reply: the inbound text it answers.
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    send_after: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    status_updated_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class Confirmation(Base):
    """Something a resident must confirm with YES (a broadcast, FORGET): 15 minutes, the newest wins."""

    __tablename__ = "confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(10))  # confirmed, lapsed


class CampaignKind(enum.StrEnum):
    DIGEST = "digest"
    BROADCAST = "broadcast"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"  # a broadcast waiting for its organiser's YES
    CONFIRMED = "confirmed"  # due to fan out (at once, or when quiet hours end)
    FANNING_OUT = "fanning_out"
    SENDING = "sending"  # every outbox row written; the sender is draining them
    DONE = "done"
    PAUSED = "paused"  # the monthly segment cap was reached
    CANCELLED = "cancelled"


class Campaign(Base):
    """A digest run for one area, or an organiser's broadcast to one or more areas."""

    __tablename__ = "campaigns"
    __table_args__ = (
        UniqueConstraint("kind", "area_id", "run_key", name="uq_campaigns_run"),
        one_of("status", CampaignStatus),
        one_of("kind", CampaignKind),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CampaignKind] = mapped_column(Named(CampaignKind, 10))
    status: Mapped[CampaignStatus] = mapped_column(Named(CampaignStatus, 12), default=CampaignStatus.DRAFT)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    area_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # a broadcast's audience areas
    run_key: Mapped[str | None] = mapped_column(String(40))  # a digest's run, e.g. 2026-11-24T18:00
    body: Mapped[str | None] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(8), default="sms")
    audience: Mapped[int | None] = mapped_column(Integer)
    segments: Mapped[int | None] = mapped_column(Integer)
    estimated_cost: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    not_before: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)


class DigestBatch(Base):
    """The pages of one digest, built once for everyone in an area who shares a last-digest time.

    It is for the area's subscribers whose last digest was in [`since`, `until`): one
    statement joins a whole run's subscriptions to its batches and writes every area's
    texts at once, so the batch carries what that statement needs (the first page as
    sent, the same page with how to stop, its segments and encoding). An author's own
    batch (`author_id`) leaves out what they wrote; its `body` is None when nothing is left.
    """

    __tablename__ = "digest_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    since: Mapped[datetime | None]
    until: Mapped[datetime | None]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    pages: Mapped[list[str]] = mapped_column(JSON, default=list)
    body: Mapped[str | None] = mapped_column(Text)
    # The first page ending with how to stop; None when that line would cost a segment.
    reminder: Mapped[str | None] = mapped_column(Text)
    segments: Mapped[int | None] = mapped_column(Integer)
    encoding: Mapped[str | None] = mapped_column(String(6))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SenderState(Base):
    """The shared send rate: every sender process takes its slots from this row."""

    __tablename__ = "sender_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_slot_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]


class Heartbeat(Base):
    """When a long-running process (the clock, a sender) last said it was alive."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    beat_at: Mapped[datetime]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


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
    __table_args__ = (one_of("status", MatchStatus),)

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


class ItemEvent(Base):
    """The neighbourhood's memory: every state change of an item, with its time. Never overwritten."""

    __tablename__ = "item_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Exchange(Base):
    """The ledger: who helped whom, where, with what, for how long, and when."""

    __tablename__ = "exchanges"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"), index=True)
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="SET NULL"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"), index=True)
    giver_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"), index=True)
    receiver_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"), index=True)
    description: Mapped[str] = mapped_column(Text)
    hours: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Suppression(Base):
    """Numbers erased with FORGET, kept only as a keyed hash: never texted again unless they return."""

    __tablename__ = "suppressions"

    number_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginCode(Base):
    """One request for a dashboard sign-in code, whether or not the number may sign in.

    Every request is a row (so rate limits count organisers and strangers alike and the
    page can answer the same); only an organiser's or administrator's row has a code, kept
    as a keyed hash. The number and the address asking are keyed hashes too.
    """

    __tablename__ = "login_codes"
    __table_args__ = (
        Index("ix_login_codes_number", "number_hash", "created_at"),
        Index("ix_login_codes_ip", "ip_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number_hash: Mapped[str] = mapped_column(String(64))
    ip_hash: Mapped[str] = mapped_column(String(64))
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    wrong_tries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_at: Mapped[datetime | None]
    # The text that carried the code; its words are blanked once the code is used or expired.
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    redacted_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in organiser's or administrator's dashboard session; the cookie holds its token."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class Report(Base):
    """A neighbour's REPORT of an item: one per resident and item, never shown to the item's author."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("item_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When an organiser decided on the item: APPROVE dismisses its reports, REJECT upholds them.
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(10))


class AuditAction(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    HIDE = "hide"  # reports reached SMS_BOARD_REPORT_HIDE
    RESTORE = "restore"  # APPROVE of a hidden item
    BROADCAST = "broadcast"
    URGENT = "urgent"
    INTRO = "intro"
    UNLINK = "unlink"
    INVITE = "invite"  # an invite code was made
    JOIN_ACCEPT = "join_accept"
    JOIN_DECLINE = "join_decline"
    IMPORT = "import"
    EXPORT = "export"
    AREA_ADD = "area_add"  # an administrator (dashboard) or the operator (CLI) added an area
    AREA_CHANGE = "area_change"  # an area's settings changed (its public page on or off)
    ORGANISER_ADD = "organiser_add"  # appointed an organiser of an area (dashboard or CLI)
    ORGANISER_REMOVE = "organiser_remove"
    ADMIN_ADD = "admin_add"  # `sms-board admin add` made someone an administrator (migration 0016)


class SubscriberSearch(Base):
    """One search of the subscribers page by number, kept only to count searches against the limit
    (`dashboard.subscribers.SEARCHES`): who searched and when, never what for."""

    __tablename__ = "subscriber_searches"
    __table_args__ = (Index("ix_subscriber_searches_searcher", "searcher_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    searcher_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """What organisers and administrators did: who, what, when, which item. Only ever added to."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_area_created", "area_id", "created_at"),
        one_of("action", AuditAction),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"))
    # Who, as it read when it happened: a name and a masked number, "operator" (CLI), "the board".
    actor: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(8))  # sms, cli, web, board
    action: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


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
    outcome: Mapped[str] = mapped_column(String(8))
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
