"""`/dashboard/moderation`: the queue of posts waiting for an organiser, and their decisions (`moderation_queue.py`)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for

from sms_board.dashboard.dashboard_routes import bp
from sms_board.dashboard.moderation_queue import (
    Decision,
    NotInQueue,
    decide,
    moderation_queue,
    told,
)
from sms_board.dashboard.signin_routes import viewer
from sms_board.plumbing.utc import utcnow
from sms_board.web import sessions, settings
from sms_board.web.language import page_language, translated


@bp.get("/moderation")
def moderation() -> str:
    with sessions()() as db:
        entries = moderation_queue(db, viewer())
    return render_template("dashboard/moderation.html", entries=entries)


@bp.post("/moderation/<id:item_id>")
def moderate(item_id: int) -> Response:
    decision = next((d for d in Decision if d.value == request.form.get("decision")), None)
    if decision is None:
        abort(400)
    try:
        with sessions().begin() as db:
            outcome, item = decide(db, settings(), viewer(), item_id, decision, request.form.get("reason", ""),
                                   utcnow())
            message = translated(told(outcome, item, page_language()))
    except NotInQueue:
        abort(404)
    flash(message)
    return redirect(url_for("dashboard.moderation"))
