"""The dashboard's sign-in: codes, sessions, subscriber searches, and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from sms_board.models.base import Base, Named, one_of
from sms_board.plumbing.utc import utcnow


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
    HELPER_ADD = "helper_add"  # an organiser recorded a resident's trusted helper (migration 0024)
    HELPER_END = "helper_end"  # an organiser ended a trusted helper


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
    action: Mapped[AuditAction] = mapped_column(Named(AuditAction, 16))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
