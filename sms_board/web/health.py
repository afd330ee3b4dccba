"""`GET /healthz`: is the database reachable, and how big is the outbox backlog."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from sms_board.models import Outbox, OutboxStatus
from sms_board.web import sessions

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    try:
        with sessions()() as session:
            session.execute(text("SELECT 1"))
            backlog = session.scalar(
                select(func.count()).select_from(Outbox).where(
                    Outbox.status.in_([OutboxStatus.QUEUED.value, OutboxStatus.HELD.value])
                )
            )
    except SQLAlchemyError as exc:
        return jsonify(ok=False, database="unreachable", error=exc.__class__.__name__), 503
    return jsonify(ok=True, database="ok", outbox_backlog=backlog, scheduler_heartbeat_age=None)
