"""Areas, the people who text the board, their subscriptions, consent, organisers and the suppression list."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sms_board.models.base import Base, Named, one_of
from sms_board.plumbing.utc import utcnow


class Moderation(enum.StrEnum):
    OPEN = "open"  # published at once
    FIRST = "first"  # a resident's first post waits for an organiser
    ALL = "all"  # every post waits


class SubscriptionStatus(enum.StrEnum):
    ACTIVE = "active"
    LEFT = "left"  # LEAVE: the resident left this area
    STOPPED = "stopped"  # ended by STOP; START brings these back


class ConsentAction(enum.StrEnum):
    """A step in a number's consent history (`consent_events.action`)."""

    SUBSCRIBE = "subscribe"  # JOIN, an invite code, an accepted request, an import
    LEAVE = "leave"
    OPT_OUT = "opt_out"  # STOP, FORGET, the carrier
    OPT_IN = "opt_in"  # START, or YES from an opted-out number


class Area(Base):
    __tablename__ = "areas"
    __table_args__ = (one_of("moderation", Moderation),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    moderation: Mapped[Moderation] = mapped_column(Named(Moderation, 8), default=Moderation.OPEN)
    # `/board/<slug>`: its posts, with their authors' first names, for anyone to read. Never for a private area.
    public_page: Mapped[bool] = mapped_column(Boolean, default=True)
    # The board's languages this area speaks, e.g. "cy,en" (`area add … --languages`); None: all of them.
    languages: Mapped[str | None] = mapped_column(String(64))
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


class HearsBy(enum.StrEnum):
    """How a subscriber hears the board (not `channel`, which is how a consent was given)."""

    SMS = "sms"  # texts: replies, notices and digests
    VOICE = "voice"  # digests read by a telephone call; a landline is never texted (docs/voice.md)


class Subscriber(Base):
    """Everyone who has ever texted the board or been added to it: one row per number."""

    __tablename__ = "subscribers"
    __table_args__ = (
        one_of("hears_by", HearsBy),
        # The administrators (left out of the report's people counts): never a pass over everyone.
        Index("ix_subscribers_admin", "id", postgresql_where=text("is_admin"), sqlite_where=text("is_admin")),
        # The monthly report's `new_members` of the whole board: first joins of a month, by time (with the
        # person, so that the month is counted from the index alone, never a visit to each row).
        Index("ix_subscribers_first_joined", "first_joined_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str | None] = mapped_column(String(40))
    opted_out_at: Mapped[datetime | None]
    undeliverable_at: Mapped[datetime | None]
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_frequency: Mapped[str] = mapped_column(String(8), default="daily")
    last_hint_at: Mapped[datetime | None]
    # The language texts go to this person in (a code of the board's languages); None: not known
    # yet, and every text goes in each of the board's languages (community/languages.py).
    language: Mapped[str | None] = mapped_column(String(8))
    # How the board reaches this person: texts, or (docs/voice.md) digests read by a call.
    hears_by: Mapped[HearsBy] = mapped_column(Named(HearsBy, 8), default=HearsBy.SMS, server_default="sms")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Where MORE continues: the digest batch last sent to this number and the page it reached.
    more_batch_id: Mapped[int | None] = mapped_column(ForeignKey("digest_batches.id", ondelete="SET NULL", use_alter=True))
    more_page: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When a digest last ended with the "how to stop" line (once a calendar month). Not indexed,
    # and the table keeps half of each page free (migration 0011): the month's stamp is a heap-only update.
    stop_reminded_at: Mapped[datetime | None]
    # The person's first join to any area (their earliest `subscribe` consent event), kept as it happens
    # rather than worked out from the history each month: the whole board's `new_members` in the monthly
    # report (community/report_figures.py, migration 0027). Written by `subscriptions.subscribe` and the
    # roster's import and enrolment.
    first_joined_at: Mapped[datetime | None]

    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="subscriber")

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None

    def __repr__(self) -> str:
        return f"<Subscriber {self.id}>"


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "area_id"),
        one_of("status", SubscriptionStatus),
        # The monthly report's `left`: memberships that ended in a month (community/report_figures.py).
        Index("ix_subscriptions_ended", "ended_at"),
        # The whole board's `isolated_members`: the active memberships with when each began, in person
        # order, read from the index alone (migration 0028).
        Index("ix_subscriptions_active_person", "subscriber_id", "consent_at",
              postgresql_where=text("status = 'active'"), sqlite_where=text("status = 'active'")),
    )

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
    __table_args__ = (
        one_of("action", ConsentAction),
        # The monthly report's `new_members`: the month's joins (community/report_figures.py).
        Index("ix_consent_events_action_created", "action", "created_at"),
        # An area's joins of a month, and each person's first join (migration 0026).
        Index("ix_consent_events_area_action_created", "area_id", "action", "created_at"),
        Index("ix_consent_events_subscriber_action_created", "subscriber_id", "action", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    action: Mapped[ConsentAction] = mapped_column(Named(ConsentAction, 16))
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


class Suppression(Base):
    """Numbers erased with FORGET, kept only as a keyed hash: never texted again unless they return."""

    __tablename__ = "suppressions"

    number_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LanguageChoice(Base):
    """Each time a person's language was set, and how: kept like consent (who, when, in what words)."""

    __tablename__ = "language_choices"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    # What the person wrote ("YMUNO ELM", "IAITH CY"), or how an organiser set it.
    wording: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))  # sms, import, web, cli, migration
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
