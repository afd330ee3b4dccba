"""The monthly report's kept months: figures that do not move once a month is over (docs/reports.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sms_board.models.base import Base
from sms_board.plumbing.utc import utcnow


class ReportSnapshot(Base):
    """One month's figures for one scope, kept four days after the month ended (or when first asked for).

    `scope` is `board` for the whole board, `area:<id>` for an area: one row per month and scope.
    """

    __tablename__ = "report_snapshots"
    __table_args__ = (UniqueConstraint("month", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM on the board's clock
    scope: Mapped[str] = mapped_column(String(24))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    definitions_version: Mapped[int] = mapped_column(Integer)
    include_organisers: Mapped[bool] = mapped_column(Boolean)
    kept_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportTextRun(Base):
    """The 1st-of-the-month texts to organisers: one row per month, written by the run that sends them."""

    __tablename__ = "report_text_runs"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
