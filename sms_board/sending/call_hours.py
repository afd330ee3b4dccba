"""When a call may be placed: outside quiet hours and inside SMS_BOARD_CALL_HOURS, on the area's clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sms_board.plumbing.config import Settings
from sms_board.plumbing.voice_config import CallHours
from sms_board.sending.quiet import release_time

# Quiet hours and call hours each push the other on at most once a day: a few rounds settle it.
_ROUNDS = 4


def _hours_open(now: datetime, hours: CallHours | None, zone: ZoneInfo) -> datetime | None:
    """None inside the call hours (or with none), else the UTC instant they next open."""
    if hours is None:
        return None
    local = now.astimezone(zone)
    if hours.contains(local.time().replace(tzinfo=None)):
        return None
    day = local.date() if local.time().replace(tzinfo=None) < hours.start else local.date() + timedelta(days=1)
    return datetime.combine(day, hours.start, tzinfo=zone).astimezone(now.tzinfo)


def call_opens(now: datetime, settings: Settings, zone_name: str | None) -> datetime | None:
    """None when a call may be placed now on this clock (the board's when None), else when it may."""
    zone = ZoneInfo(zone_name or settings.timezone)
    moment = now
    for _ in range(_ROUNDS):
        later = release_time(moment, settings.quiet_hours, zone) or _hours_open(moment, settings.voice.call_hours, zone)
        if later is None:
            break
        moment = later
    return None if moment == now else moment
