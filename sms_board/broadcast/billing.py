"""What texts cost: segments this month, the monthly cap, and amounts in the account's currency.

Every text counts, the direct replies included (they are in the outbox too);
only rows never sent, or refused before reaching a handset, cost nothing. The cap
pauses campaigns; it never holds back a reply, a relay or a notice to one person.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_board.models import Outbox
from sms_board.plumbing.config import Settings
from sms_board.sending.delivery import BILLABLE, in_statuses

# The account's currency is not in Twilio's API; the board's region is the best guess.
_CURRENCY_BY_REGION = {
    "GB": "£", "GG": "£", "JE": "£", "IM": "£",
    "US": "$", "CA": "$", "AU": "$", "NZ": "$",
    "IE": "€", "FR": "€", "DE": "€", "ES": "€", "IT": "€", "NL": "€", "BE": "€", "PT": "€",
    "AT": "€", "FI": "€", "GR": "€", "LU": "€",
}


def money(amount: float, settings: Settings) -> str:
    """An amount in the account's currency, with a symbol where the region names one."""
    return f"{_CURRENCY_BY_REGION.get(settings.default_region, '')}{amount:,.2f}"


def month_start(now: datetime, settings: Settings) -> datetime:
    """The start of the board's calendar month (in its time zone), in UTC."""
    local = now.astimezone(settings.zone)
    return datetime(local.year, local.month, 1, tzinfo=settings.zone).astimezone(UTC)


def segments_this_month(session: Session, settings: Settings, now: datetime) -> int:
    return session.scalar(
        select(func.coalesce(func.sum(Outbox.segments), 0)).where(
            Outbox.created_at >= month_start(now, settings), in_statuses(BILLABLE)
        )
    ) or 0


def cap_room(session: Session, settings: Settings, now: datetime) -> int | None:
    """Segments left under SMS_BOARD_MONTHLY_SEGMENT_CAP this month, or None when there is no cap."""
    if settings.monthly_segment_cap is None:
        return None
    return settings.monthly_segment_cap - segments_this_month(session, settings, now)
