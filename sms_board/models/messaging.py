"""Texts in and out: the inbound log, the outbox, the shared send rate and the processes' heartbeats."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from sms_board.models.base import Base, Named, one_of
from sms_board.plumbing.utc import utcnow


class OutboxKind(enum.StrEnum):
    DIGEST = "digest"
    BROADCAST = "broadcast"
    NOTIFY = "notify"  # a text to one person: an offer, a connection, a reminder, an organiser's alert
    RELAY = "relay"  # one neighbour's words passed on to the other
    REPLY = "reply"  # the direct answer to an inbound text, handed to Twilio as TwiML
    CALL = "call"  # a digest read to someone by telephone (docs/voice.md): `body` is the script's words
    # A resident's digest copied to their trusted helper (docs/helpers.md): its `version` is the helper's
    # `trusted_helpers.id`, so a helper of two residents gets a row for each, and never one twice.
    COPY = "copy"


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


class InboundStatus(enum.StrEnum):
    RECEIVED = "received"  # stored, not yet routed
    HANDLED = "handled"
    IGNORED = "ignored"  # stored, deliberately not answered (short code, own number, opted out)
    HELD = "held"  # flood: kept for an organiser, not routed
    ERROR = "error"  # a handler failed; the error is kept


class InboundMessage(Base):
    """Every text the board receives, kept whatever happens to it."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        Index("ix_inbound_from_received", "from_number", "received_at"),
        Index("ix_inbound_received", "received_at", postgresql_where=text("status = 'received'"),
              sqlite_where=text("status = 'received'")),
        # The organisers' inbox, newest first, however many texts were routed normally.
        Index("ix_inbound_inbox", "id", postgresql_where=text("in_inbox"), sqlite_where=text("in_inbox")),
        # The monthly report's `active_members`: the month's texts the board acted on.
        Index("ix_inbound_handled", "handled_at", postgresql_where=text("status = 'handled'"),
              sqlite_where=text("status = 'handled'")),
        # The whole board's `active_members`: the month's texts acted on, with their people, read from
        # the index alone; an area's: each member's texts by person (migration 0026).
        Index("ix_inbound_acted_on", "handled_at", "subscriber_id",
              postgresql_where=text("status = 'handled' AND handler <> 'inbox'"),
              sqlite_where=text("status = 'handled' AND handler <> 'inbox'")),
        Index("ix_inbound_subscriber_handled", "subscriber_id", "handled_at",
              postgresql_where=text("status = 'handled'"), sqlite_where=text("status = 'handled'")),
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


class Outbox(Base):
    """One text to send. Only the sender hands these to a transport.

    For campaigns it is also the delivery record: (campaign, subscriber, kind, version) is
    unique, so running a digest or broadcast twice, or resuming one, never texts or calls anyone
    twice (a broadcast's versions are texts of their own: someone whose language is not known
    gets each; a call is a row of its own beside any text of the same campaign).
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
        # The call lane's claim (`delivery.claim_calls`): queued calls, oldest first.
        Index("ix_outbox_call_claim", "id", postgresql_where=text("status = 'queued' AND kind = 'call'"),
              sqlite_where=text("status = 'queued' AND kind = 'call'")),
        UniqueConstraint("campaign_id", "subscriber_id", "kind", "version",
                         name="uq_outbox_campaign_subscriber_kind_version"),
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
    # Which of its broadcast's versions it carries (`CampaignVersion.position`); 0 for every other text.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A reply: the inbound text it answers.
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    send_after: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    status_updated_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class Call(Base):
    """One call Twilio placed for an outbox row of kind `call` (a row redialled has one per try).

    Stored when Twilio takes the call (its `CA…` sid), then kept up to date from Twilio's
    signed status callbacks (`/voice/status`): how it ended, who answered, how long it
    lasted (what it costs: `broadcast.billing`).
    """

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    # Twilio's call status, as Twilio says it: queued, ringing, in-progress, completed, busy, no-answer, …
    status: Mapped[str] = mapped_column(String(16))
    answered_by: Mapped[str | None] = mapped_column(String(24))  # human, machine_end_beep, fax, unknown, …
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    # What it cost, in text segments (minutes × price a minute ÷ price a segment, rounded up), once ended.
    segments: Mapped[int | None] = mapped_column(Integer)
    placed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None]


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
