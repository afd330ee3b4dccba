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

from dataclasses import dataclass, field
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
from flask_babel import gettext, ngettext
from markupsafe import escape

from sms_board.broadcast.billing import money
from sms_board.broadcast.broadcasts import versions_of
from sms_board.broadcast.campaign_lifecycle import Refusal
from sms_board.broadcast.campaigns import DRAFT_LIFETIME
from sms_board.community.areas import areas_by_id
from sms_board.dashboard.composer import (
    MAX_TEXT,
    Measure,
    Versions,
    confirm_draft,
    draft_broadcast,
    measure_draft,
)
from sms_board.dashboard.progress import progress, recent_broadcasts, visible_broadcast
from sms_board.dashboard.scope import AreaRef, Viewer
from sms_board.dashboard.signin_routes import signed_in_only, viewer
from sms_board.models import Campaign
from sms_board.plumbing.utc import utcnow
from sms_board.text.languages import pack
from sms_board.text.phrases import Foreign, Phrase, phrase
from sms_board.web import sessions, settings
from sms_board.web.language import number, translated

bp = signed_in_only(Blueprint("compose", __name__, url_prefix="/dashboard"))


@dataclass
class Draft:
    """What the organiser has written so far, as the form sent it: one message (`text`), or on a board of
    several languages one box per language (`versions`, by code: `text-cy`, `text-en` in the form)."""

    areas: list[AreaRef]
    text: str
    urgent: bool
    versions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_form(cls, person: Viewer, form: Any) -> Draft:
        chosen = person.chosen(form.getlist("area")) if hasattr(form, "getlist") else person.chosen(form.get("area", []))
        languages = settings().languages
        versions = {code: str(form.get(f"text-{code}", ""))[:MAX_TEXT] for code in languages} \
            if len(languages) > 1 else {}
        return cls(chosen, str(form.get("text", ""))[:MAX_TEXT], str(form.get("urgent", "")) in {"1", "on", "true"},
                   versions)

    @property
    def by_language(self) -> bool:
        return bool(self.versions)

    @property
    def words(self) -> str | dict[str, str]:
        """What to preview: the one message, or the versions written (empty boxes left out)."""
        return {code: text for code, text in self.versions.items() if text.strip()} if self.by_language \
            else self.text

    @property
    def slugs(self) -> set[str]:
        return {area.slug for area in self.areas}

    def problems(self) -> dict[str, str]:
        found = {}
        if not self.areas:
            found["area"] = gettext("Choose at least one area.")
        if not (self.words if self.by_language else self.text.strip()):
            found["text"] = gettext("Write the message first.") if not self.by_language else \
                gettext("Write the message in at least one language.")
        return found


def _recent(person: Viewer) -> list[tuple[Campaign, str]]:
    with sessions()() as db:
        return recent_broadcasts(db, settings(), person, utcnow())


def _composer(draft: Draft, errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    person = viewer()
    if not draft.areas and len(person.areas) == 1 and not errors:
        draft.areas = list(person.areas)
    return render_template("dashboard/compose.html", draft=draft, areas=person.areas, errors=errors or {},
                           recent=_recent(person), max_text=MAX_TEXT, languages=_languages(),
                           names={a.id: a.name for a in person.areas}), status


def _languages() -> list[tuple[str, Foreign]]:
    """(code, name in itself, marked with its `lang` on a page) of each of the board's languages, the first
    first; one box each when there are several."""
    return [(code, Foreign(pack(code).name, pack(code).tag)) for code in settings().languages]


@bp.get("/broadcast")
def composer() -> tuple[str, int]:
    languages = settings().languages
    return _composer(Draft([], "", False, dict.fromkeys(languages, "") if len(languages) > 1 else {}))


@bp.post("/broadcast")
def edit() -> tuple[str, int]:
    return _composer(Draft.from_form(viewer(), request.form))


def _measure(draft: Draft) -> Measure | Versions:
    with sessions()() as db:
        return measure_draft(db, settings(), viewer(), [a.id for a in draft.areas], draft.words, urgent=draft.urgent)


@bp.post("/broadcast/measure")
def measure_json() -> Response:
    """The live counter's figures for what is typed so far (JSON; the CSRF token comes as a header): one
    message's (`text`), or each version's and the totals (`versions`, by language code)."""
    payload = request.get_json(silent=True) or {}
    versions = payload.get("versions") if isinstance(payload.get("versions"), dict) else {}
    draft = Draft.from_form(viewer(), {"area": list(payload.get("areas") or []), "text": payload.get("text") or "",
                                       "urgent": "1" if payload.get("urgent") else "",
                                       **{f"text-{code}": str(text or "") for code, text in versions.items()}})
    figures = _measure(draft)
    shown = {**figures.as_json(), "problems": draft.problems()}
    if isinstance(figures, Measure):
        shown.update(_words_for_the_counter(figures))
    else:
        for code, measured in figures.measures.items():
            shown["versions"][code].update(_words_for_the_counter(measured))  # type: ignore[index]
        shown["notes_html"] = [str(escape(note)) for note in figures.notes]
    return jsonify(_in_page_language(shown))


def _words_for_the_counter(m: Measure) -> dict[str, object]:
    """What the live counter shows in words, in the page's language and its way of writing numbers: the
    script only puts them in place (`static/composer.js`)."""
    return {
        "shown": {"characters": number(m.characters), "segments": number(m.segments),
                  "recipients": number(m.recipients), "encoding": m.encoding, "cost_text": m.cost_text},
        "plain_hint": ngettext("(%(num)s text each instead of %(segments)s)",
                               "(%(num)s texts each instead of %(segments)s)", m.plain_segments,
                               segments=number(m.segments))
        if m.taken_out and m.plain_segments < m.segments else "",
        "summary": ngettext("%(num)s text each, %(encoding)s, %(recipients)s recipients, %(cost)s",
                            "%(num)s texts each, %(encoding)s, %(recipients)s recipients, %(cost)s", m.segments,
                            encoding=m.encoding, recipients=number(m.recipients),
                            cost=m.cost_text),
    }


def _in_page_language(data: Any) -> Any:
    """JSON for a page's script with every Phrase in it in the page's language."""
    if isinstance(data, Phrase):
        return translated(data)
    if isinstance(data, dict):
        return {key: _in_page_language(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_in_page_language(value) for value in data]
    return data


@bp.post("/broadcast/preview")
def preview() -> Any:
    person = viewer()
    draft = Draft.from_form(person, request.form)
    errors = draft.problems()
    if errors:
        return _composer(draft, errors, 400)
    now = utcnow()
    with sessions().begin() as db:
        drafted = draft_broadcast(db, settings(), person, [a.id for a in draft.areas], draft.words,
                                  urgent=draft.urgent, now=now)
    if drafted is None:
        return _composer(draft, {"area": gettext("Nobody can be texted in those areas yet.")}, 400)
    template = "dashboard/preview_versions.html" if draft.by_language else "dashboard/preview.html"
    return render_template(template, draft=draft, figures=drafted.figures, languages=_languages(),
                           campaign_id=drafted.campaign_id, held=drafted.held, lapses=now + DRAFT_LIFETIME, error=None)


def _visible_campaign(db: Any, person: Viewer, campaign_id: int) -> Campaign:
    campaign = visible_broadcast(db, person, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


# What each refusal of `campaign_lifecycle.may_confirm` says on the dashboard (by text: YES's replies).
REFUSED = {
    Refusal.NOT_THEIRS: phrase("Only the organiser who wrote a broadcast can confirm it."),
    Refusal.NOT_ORGANISER: phrase("You are no longer an organiser of every area this broadcast is for, "
                                  "so it has been cancelled."),
    Refusal.LAPSED: phrase("This preview has lapsed (15 minutes): write it again to send it."),
    Refusal.NOT_A_DRAFT: phrase("This broadcast is no longer waiting to be confirmed."),
}
UNTICKED = phrase("Tick the box to say you mean to send an URGENT broadcast now.")


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
        flash(translated(refusal), "error")
    elif after is not None and after.held_until is not None:
        flash(gettext("Confirmed: %(state)s; it goes out then.", state=translated(after.state)))
    else:
        flash(gettext("Confirmed: the board starts sending within a minute."))
    return redirect(url_for("compose.broadcast", campaign_id=campaign_id))


@bp.get("/broadcasts/<id:campaign_id>")
def broadcast(campaign_id: int) -> str:
    person = viewer()
    with sessions()() as db:
        campaign = _visible_campaign(db, person, campaign_id)
        counts = progress(db, settings(), campaign, utcnow())
        areas = areas_by_id(db, campaign.area_ids or [])
        versions = versions_of(db, campaign) if campaign.by_language else []
    return render_template("dashboard/broadcast.html", campaign=campaign, progress=counts, areas=areas,
                           versions=versions, names=dict(_languages()),
                           cost=money(campaign.estimated_cost or 0, settings()))


@bp.get("/broadcasts/<id:campaign_id>/progress")
def progress_json(campaign_id: int) -> Response:
    with sessions()() as db:
        campaign = _visible_campaign(db, viewer(), campaign_id)
        counts = progress(db, settings(), campaign, utcnow())
    shown = {name: number(count) for name, count in counts.counts.items()}
    return jsonify(_in_page_language({**counts.as_json(), "shown": shown, "audience_shown": number(counts.audience),
                                      "written_shown": number(counts.written)}))
