"""The broadcast composer: write, watch the figures as you type, preview, confirm, watch it go.

Preview and confirm are BROADCAST's own steps (`broadcast.broadcasts`, through `dashboard.composer`): the preview
stores a draft campaign with `create_broadcast`, exactly as the keyword does, and
confirming runs `confirm_broadcast`, whose rule (`campaign_lifecycle.may_confirm`) is
YES's own: the creator confirms, still able to broadcast to every area, within the 15
minutes a draft lives; a creator no longer an organiser finds the draft cancelled, as by text. The clock fans
it out within a minute (held until quiet hours end, when it is night, as the SMS YES
says); the progress page counts its outbox rows by status. A preview nobody confirmed
leaves "Recent broadcasts" when it lapses: it never reached anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from sms_board.broadcast.billing import money
from sms_board.broadcast.campaign_lifecycle import Refusal
from sms_board.broadcast.campaigns import DRAFT_LIFETIME
from sms_board.community.areas import areas_by_id
from sms_board.dashboard.composer import (
    MAX_TEXT,
    Measure,
    confirm_draft,
    draft_broadcast,
    measure_draft,
)
from sms_board.dashboard.progress import progress, recent_broadcasts, visible_broadcast
from sms_board.dashboard.scope import AreaRef, Viewer
from sms_board.dashboard.signin_routes import signed_in_only, viewer
from sms_board.models import Campaign
from sms_board.plumbing.utc import utcnow
from sms_board.web import sessions, settings

bp = signed_in_only(Blueprint("compose", __name__, url_prefix="/dashboard"))


@dataclass
class Draft:
    """What the organiser has written so far, as the form sent it."""

    areas: list[AreaRef]
    text: str
    urgent: bool

    @classmethod
    def from_form(cls, person: Viewer, form: Any) -> Draft:
        chosen = person.chosen(form.getlist("area")) if hasattr(form, "getlist") else person.chosen(form.get("area", []))
        return cls(chosen, str(form.get("text", ""))[:MAX_TEXT], str(form.get("urgent", "")) in {"1", "on", "true"})

    @property
    def slugs(self) -> set[str]:
        return {area.slug for area in self.areas}

    def problems(self) -> dict[str, str]:
        found = {}
        if not self.areas:
            found["area"] = "Choose at least one area."
        if not self.text.strip():
            found["text"] = "Write the message first."
        return found


def _recent(person: Viewer) -> list[tuple[Campaign, str]]:
    with sessions()() as db:
        return recent_broadcasts(db, settings(), person, utcnow())


def _composer(draft: Draft, errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    person = viewer()
    if not draft.areas and len(person.areas) == 1 and not errors:
        draft.areas = list(person.areas)
    return render_template("dashboard/compose.html", draft=draft, areas=person.areas, errors=errors or {},
                           recent=_recent(person), max_text=MAX_TEXT,
                           names={a.id: a.name for a in person.areas}), status


@bp.get("/broadcast")
def composer() -> tuple[str, int]:
    return _composer(Draft([], "", False))


@bp.post("/broadcast")
def edit() -> tuple[str, int]:
    return _composer(Draft.from_form(viewer(), request.form))


def _measure(draft: Draft) -> Measure:
    with sessions()() as db:
        return measure_draft(db, settings(), viewer(), [a.id for a in draft.areas], draft.text, urgent=draft.urgent)


@bp.post("/broadcast/measure")
def measure_json() -> Response:
    """The live counter's figures for what is typed so far (JSON; the CSRF token comes as a header)."""
    payload = request.get_json(silent=True) or {}
    draft = Draft.from_form(viewer(), {"area": list(payload.get("areas") or []), "text": payload.get("text") or "",
                                       "urgent": "1" if payload.get("urgent") else ""})
    figures = _measure(draft)
    return jsonify({**figures.as_json(), "problems": draft.problems()})


@bp.post("/broadcast/preview")
def preview() -> Any:
    person = viewer()
    draft = Draft.from_form(person, request.form)
    errors = draft.problems()
    if errors:
        return _composer(draft, errors, 400)
    now = utcnow()
    with sessions().begin() as db:
        drafted = draft_broadcast(db, settings(), person, [a.id for a in draft.areas], draft.text,
                                  urgent=draft.urgent, now=now)
    if drafted is None:
        return _composer(draft, {"area": "Nobody can be texted in those areas yet."}, 400)
    return render_template("dashboard/preview.html", draft=draft, figures=drafted.figures,
                           campaign_id=drafted.campaign_id, held=drafted.held, lapses=now + DRAFT_LIFETIME, error=None)


def _visible_campaign(db: Any, person: Viewer, campaign_id: int) -> Campaign:
    campaign = visible_broadcast(db, person, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


# What each refusal of `campaign_lifecycle.may_confirm` says on the dashboard (by text: YES's replies).
REFUSED = {
    Refusal.NOT_THEIRS: "Only the organiser who wrote a broadcast can confirm it.",
    Refusal.NOT_ORGANISER: "You are no longer an organiser of every area this broadcast is for, "
                           "so it has been cancelled.",
    Refusal.LAPSED: "This preview has lapsed (15 minutes): write it again to send it.",
    Refusal.NOT_A_DRAFT: "This broadcast is no longer waiting to be confirmed.",
}
UNTICKED = "Tick the box to say you mean to send an URGENT broadcast now."


@bp.post("/broadcasts/<id:campaign_id>/confirm")
def confirm(campaign_id: int) -> Any:
    with sessions().begin() as db:
        confirmed = confirm_draft(db, settings(), viewer(), campaign_id, urgent_ok=request.form.get("urgent_ok") == "1",
                                  now=utcnow())
    if confirmed is None:
        abort(404)
    refusal = UNTICKED if confirmed.unticked else None if confirmed.refused is None else REFUSED[confirmed.refused]
    after = confirmed.after
    if refusal:
        flash(refusal, "error")
    elif after is not None and after.held_until is not None:
        flash(f"Confirmed: {after.state}; it goes out then.")
    else:
        flash("Confirmed: the board starts sending within a minute.")
    return redirect(url_for("compose.broadcast", campaign_id=campaign_id))


@bp.get("/broadcasts/<id:campaign_id>")
def broadcast(campaign_id: int) -> str:
    person = viewer()
    with sessions()() as db:
        campaign = _visible_campaign(db, person, campaign_id)
        counts = progress(db, settings(), campaign, utcnow())
        areas = areas_by_id(db, campaign.area_ids or [])
    return render_template("dashboard/broadcast.html", campaign=campaign, progress=counts, areas=areas,
                           cost=money(campaign.estimated_cost or 0, settings()))


@bp.get("/broadcasts/<id:campaign_id>/progress")
def progress_json(campaign_id: int) -> Response:
    with sessions()() as db:
        campaign = _visible_campaign(db, viewer(), campaign_id)
        return jsonify(progress(db, settings(), campaign, utcnow()).as_json())
