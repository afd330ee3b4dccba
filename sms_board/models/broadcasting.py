"""Texts to whole areas: campaigns (digests and broadcasts) and a digest run's batches."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from sms_board.models.base import Base, Named, one_of
from sms_board.plumbing.utc import utcnow


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
    # A broadcast the organiser wrote once per language (`BROADCAST CY …`, `--version`, the composer's
    # boxes); else one text for everyone, around it the fixed words of each reader's language.
    by_language: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class CampaignVersion(Base):
    """One text of a broadcast, as residents receive it: the organiser's words for the readers of one
    language, or (`Campaign.by_language` false) the one text for everyone under one language's fixed words.

    A reader who gets several versions (their language is not known) gets them in `position` order, the
    board's first language first; who gets which is `broadcast.versions.versions_for`. The fan-out joins
    each subscriber to their versions in its one statement a chunk, as a digest joins its batches.
    """

    __tablename__ = "campaign_versions"
    __table_args__ = (UniqueConstraint("campaign_id", "position", name="uq_campaign_versions_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    # A language code of the board; None: for every reader (a broadcast stored before versions).
    language: Mapped[str | None] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)  # the organiser's words
    body: Mapped[str] = mapped_column(Text)  # what residents receive: the words under the area's name, smart-encoded
    segments: Mapped[int] = mapped_column(Integer)
    encoding: Mapped[str] = mapped_column(String(6))
    # How many people it was for when previewed (those who get several versions count in each).
    readers: Mapped[int | None] = mapped_column(Integer)


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
    # The language its pages are in, on a board that speaks more than one (None: the board's only one).
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
