"""What `GET /healthz` tells the operator: the outbox backlog and whether the clock is beating.

Two statements: the waiting outbox rows and the clock's last heartbeat. The web app
stays healthy without a clock (texts still come in); the heartbeat's age tells operators.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_board.clock.jobs import CLOCK
from sms_board.models import Heartbeat, Outbox
from sms_board.sending.delivery import WAITING, in_statuses

# The clock beats every minute; a few missed beats mean it is down or stuck.
CLOCK_LATE_AFTER = timedelta(minutes=3)


def health_details(session: Session, now: datetime) -> dict[str, Any]:
    """`outbox_backlog`, `scheduler` ("ok", "late" or "never") and `scheduler_heartbeat_age` in seconds."""
    backlog = session.scalar(select(func.count()).select_from(Outbox).where(in_statuses(WAITING)))
    beat_at = session.scalar(select(Heartbeat.beat_at).where(Heartbeat.name == CLOCK))
    age = None if beat_at is None else max(0, round((now - beat_at).total_seconds()))
    if age is None:
        scheduler = "never"
    else:
        scheduler = "late" if age > CLOCK_LATE_AFTER.total_seconds() else "ok"
    return {"outbox_backlog": backlog, "scheduler": scheduler, "scheduler_heartbeat_age": age}
