"""Quiet hours: when held texts (digests, broadcasts, notifications) may go out."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sms_board.plumbing.config import QuietHours, Settings


def release_time(now: datetime, quiet: QuietHours | None, zone: ZoneInfo) -> datetime | None:
    """None when `now` is outside quiet hours, else the UTC instant quiet hours end.

    Computed on the local wall clock, so the end is right across a DST change.
    """
    if quiet is None:
        return None
    local = now.astimezone(zone)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return None
    end_day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        end_day += timedelta(days=1)
    end_local = datetime.combine(end_day, quiet.end, tzinfo=zone)
    return end_local.astimezone(now.tzinfo)


def held_until(now: datetime, settings: Settings, zone_name: str, *, urgent: bool = False) -> datetime | None:
    """When quiet hours end in this zone, or None when a text may go now (URGENT always may)."""
    if urgent:
        return None
    return release_time(now, settings.quiet_hours, ZoneInfo(zone_name))


def held_phrase(until: datetime, zone: ZoneInfo) -> str:
    """`held until 08:00 (quiet hours)`, on that zone's clock: how CLI and dashboard say a text waits."""
    return f"held until {until.astimezone(zone):%H:%M} (quiet hours)"
