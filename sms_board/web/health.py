"""`GET /healthz`: is the database reachable and migrated, is the clock alive, and how big is the outbox backlog."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, jsonify
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from sms_board.clock.jobs import CLOCK
from sms_board.migrate import UPGRADE_HINT, database_state
from sms_board.models import Heartbeat, Outbox
from sms_board.sending.delivery import WAITING, in_statuses
from sms_board.utc import utcnow
from sms_board.web import current_board, sessions

bp = Blueprint("health", __name__)

# The clock beats every minute; a few missed beats mean it is down or stuck.
CLOCK_LATE_AFTER = timedelta(minutes=3)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    # "unreachable" and "not migrated" need different fixes: say which.
    state = database_state(current_board().engine)
    if not state.ok:
        fix = UPGRADE_HINT if state.status == "not migrated" else "check DATABASE_URL and the database server"
        return jsonify(ok=False, database=state.status, error=state.detail, fix=fix), 503
    try:
        with sessions()() as session:
            backlog = session.scalar(
                select(func.count()).select_from(Outbox).where(
                    in_statuses(WAITING)
                )
            )
            beat_at = session.scalar(select(Heartbeat.beat_at).where(Heartbeat.name == CLOCK))
    except SQLAlchemyError as exc:
        return jsonify(ok=False, database="unreachable", error=exc.__class__.__name__), 503
    # The web app stays healthy without a clock (texts still come in); the age tells operators.
    age = None if beat_at is None else max(0, round((utcnow() - beat_at).total_seconds()))
    if age is None:
        scheduler = "never"
    else:
        scheduler = "late" if age > CLOCK_LATE_AFTER.total_seconds() else "ok"
    return jsonify(ok=True, database="ok", outbox_backlog=backlog, scheduler=scheduler, scheduler_heartbeat_age=age)
