"""`/dashboard/inbox`: texts the board could not place, marked dealt with or answered, through `inbox.py`."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from sms_board.dashboard.dashboard_routes import bp
from sms_board.dashboard.inbox import ReplyRefused, inbox_page, mark_dealt_with, reply
from sms_board.dashboard.signin_routes import local_path, viewer
from sms_board.dashboard.voice_messages import voice_inbox
from sms_board.models import OutboxStatus
from sms_board.plumbing.utc import utcnow
from sms_board.text.phrases import message_of
from sms_board.web import sessions, settings
from sms_board.web.ids import page_number
from sms_board.web.language import translated


@bp.get("/inbox")
def inbox() -> str:
    person = viewer()
    show_all = request.args.get("show") == "all"
    with sessions()() as db:
        page = inbox_page(db, person, show_all=show_all, page=page_number(request.args.get("page")))
        voice = voice_inbox(db, person, show_all=show_all)
    return render_template("dashboard/inbox.html", page=page, show_all=show_all, voice=voice)


@bp.post("/inbox/<id:inbound_id>/dealt-with")
def dealt_with(inbound_id: int) -> Response:
    undo = request.form.get("undo") == "1"
    with sessions().begin() as db:
        if not mark_dealt_with(db, viewer(), inbound_id, utcnow(), undo=undo):
            abort(404)
    flash(_("Moved back to the inbox.") if undo else _("Marked as dealt with."))
    return redirect(local_path(request.form.get("back")) or url_for("dashboard.inbox"))


@bp.post("/inbox/<id:inbound_id>/reply")
def reply_to(inbound_id: int) -> Any:
    try:
        with sessions().begin() as db:
            sent = reply(db, settings(), viewer(), inbound_id, request.form.get("text", ""), utcnow())
            held = sent.status == OutboxStatus.HELD
    except ReplyRefused as refused:
        flash(translated(message_of(refused)), "error")
        return redirect(url_for("dashboard.inbox", _anchor=f"text-{inbound_id}"))
    flash(_("Reply queued: it goes when quiet hours end.") if held else _("Reply sent to the outbox."))
    return redirect(url_for("dashboard.inbox"))
