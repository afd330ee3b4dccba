"""What texts and calls cost: segments this month, the monthly cap, and amounts in the account's currency.

Every text counts, the direct replies included (they are in the outbox too);
only rows never sent, or refused before reaching a handset, cost nothing. A call
counts as the segments its price buys (minutes × SMS_BOARD_PRICE_PER_MINUTE ÷
SMS_BOARD_PRICE_PER_SEGMENT, rounded up): what it cost once it has ended, and the
longest a call may last (SMS_BOARD_CALL_MINUTES) while it waits or rings. The cap
pauses campaigns; it never holds back a reply, a relay or a notice to one person.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_board.models import Call, Outbox, OutboxKind
from sms_board.plumbing.config import Settings
from sms_board.sending.calls import call_cost_segments
from sms_board.sending.delivery import BILLABLE, UNFINISHED, in_statuses

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
    texts = session.scalar(
        select(func.coalesce(func.sum(Outbox.segments), 0)).where(
            Outbox.created_at >= month_start(now, settings), in_statuses(BILLABLE)
        )
    ) or 0
    return texts + call_segments_this_month(session, settings, now)


def longest_call_segments(settings: Settings) -> int:
    """The most one digest call may cost (SMS_BOARD_CALL_MINUTES), in segments."""
    return call_cost_segments(settings, settings.voice.call_minutes * 60)


def call_segments_this_month(session: Session, settings: Settings, now: datetime) -> int:
    """Calls ended this month at their cost; calls ringing, waiting or to be redialled at the longest a call lasts."""
    start = month_start(now, settings)
    ended = session.scalar(
        select(func.coalesce(func.sum(Call.segments), 0)).where(Call.placed_at >= start)) or 0
    open_calls = session.scalar(select(func.count()).select_from(Call).where(
        Call.placed_at >= start, Call.segments.is_(None))) or 0
    waiting = session.scalar(select(func.count()).select_from(Outbox).where(
        Outbox.kind == OutboxKind.CALL, Outbox.created_at >= start, in_statuses(UNFINISHED))) or 0
    return int(ended) + (open_calls + waiting) * longest_call_segments(settings)


def cap_room(session: Session, settings: Settings, now: datetime) -> int | None:
    """Segments left under SMS_BOARD_MONTHLY_SEGMENT_CAP this month, or None when there is no cap."""
    if settings.monthly_segment_cap is None:
        return None
    return settings.monthly_segment_cap - segments_this_month(session, settings, now)
