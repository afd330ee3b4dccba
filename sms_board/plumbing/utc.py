"""The one place the board asks what time it is (tests travel with time-machine)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
