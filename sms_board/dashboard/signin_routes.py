"""`/login`, `/login/code`, `/logout`, and what every dashboard page runs first (`signed_in_only`).

The pages never say whether a number may sign in: every number gets the same "a code
is on its way if…" page, and every code typed gets the same kind of answer. The rules
(code life, tries, rate limits, sessions) are in `sms_board.dashboard.signin`.
"""

from __future__ import annotations

import unicodedata
from functools import wraps
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from sms_board.dashboard.inbox import open_count
from sms_board.dashboard.scope import Viewer, viewer_of
from sms_board.dashboard.signin import (
    CODE_LIFETIME,
    Outcome,
    check_code,
    end_session,
    open_session,
    request_code,
    signed_in,
)
from sms_board.plumbing.utc import utcnow
from sms_board.text.phone import mask, normalise
from sms_board.text.phrases import phrase
from sms_board.web import sessions, settings
from sms_board.web.security import no_store

bp = Blueprint("auth", __name__)

_TOKEN = "token"
_REQUEST = "login_request"
_MASKED = "login_masked"


def local_path(raw: str | None) -> str | None:
    """Only a path on this board (`/dashboard/inbox?show=all`): never another site, else None.

    Browsers drop tabs and newlines from a URL and read `\\` as `/`, so `/\\t/evil.example`
    is `//evil.example`; a newline in a Location header is a 500. So it must start with
    one `/` (no scheme, no host); a control or space character, or a backslash, anywhere
    refuses it; and its path part, decoded as often as it decodes (`%252F` → `%2F` → `/`),
    must still start with one `/` and hold no `.` or `..` segment. The query may hold
    encoded spaces (`?q=a%20b`): it cannot name a host.
    """
    if not raw or not raw.startswith("/") or raw.startswith("//") or any(_unsafe(ch) for ch in raw):
        return None
    path, previous = urlsplit(raw).path, None
    while path != previous:
        path, previous = unquote(path), path
    if not path.startswith("/") or path.startswith("//") or any(_unsafe(ch) for ch in path):
        return None
    if any(segment in (".", "..") for segment in path.split("/")):
        return None
    return raw


def _unsafe(ch: str) -> bool:
    return ch == "\\" or ch.isspace() or unicodedata.category(ch)[0] in ("C", "Z")


def _minutes(seconds: float) -> int:
    return max(1, -(-int(seconds) // 60))


@bp.get("/login")
def login() -> Any:
    if current_viewer() is not None:
        return redirect(url_for("dashboard.overview"))
    return render_template("login.html", next=local_path(request.args.get("next")), number="", error=None)


@bp.post("/login")
def ask_for_code() -> Any:
    raw = request.form.get("number", "").strip()
    next_path = local_path(request.form.get("next"))
    phone = normalise(raw, settings().default_region)
    if phone is None:
        return render_template("login.html", next=next_path, number=raw,
                               error=_("That is not a phone number. Write it as 07700 900123 or +44 7700 900123.")), 400
    now = utcnow()
    with sessions().begin() as db:
        asked = request_code(db, settings(), phone, request.remote_addr or "unknown", now)
    if asked.request_id is None:
        wait = _minutes(asked.retry_after.total_seconds() if asked.retry_after else 60)
        return render_template("login.html", next=next_path, number=raw,
                               error=ngettext("Too many codes have been asked for recently. Try again in %(num)s minute.",
                                              "Too many codes have been asked for recently. Try again in %(num)s minutes.",
                                              wait)), 429
    session.pop(_TOKEN, None)
    session[_REQUEST] = asked.request_id
    session[_MASKED] = mask(phone)
    return redirect(url_for("auth.enter_code", next=next_path))


def _code_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    development = settings().transport == "console"
    return render_template(
        "login_code.html", masked=session.get(_MASKED), minutes=int(CODE_LIFETIME.total_seconds() // 60),
        next=local_path(request.values.get("next")), error=error, development=development,
    ), status


@bp.get("/login/code")
def enter_code() -> Any:
    if _REQUEST not in session:
        return redirect(url_for("auth.login"))
    return _code_page()


_REFUSALS = {
    Outcome.EXPIRED: phrase("That code has expired. Ask for a new one."),
    Outcome.REPLACED: phrase("A newer code has been sent since this one: type the newest code, or ask for a new one."),
    Outcome.LOCKED: phrase("Too many wrong tries: that code no longer works. Ask for a new one."),
    Outcome.USED: phrase("That code has been used already. Ask for a new one."),
    Outcome.UNKNOWN: phrase("That code is not right. Ask for a new one."),
}


@bp.post("/login/code")
def check() -> Any:
    request_id = session.get(_REQUEST)
    if request_id is None:
        return redirect(url_for("auth.login"))
    now = utcnow()
    with sessions().begin() as db:
        result = check_code(db, settings(), int(request_id), request.form.get("code", ""), now)
        token = open_session(db, result.subscriber_id, now) if result.outcome == Outcome.SIGNED_IN and \
            result.subscriber_id else None
    if token is None:
        if result.outcome == Outcome.WRONG:
            left = result.tries_left
            return _code_page(ngettext("That code is not right. %(num)s more try before it stops working.",
                                       "That code is not right. %(num)s more tries before it stops working.", left), 400)
        return _code_page(_REFUSALS.get(result.outcome, _REFUSALS[Outcome.UNKNOWN]), 400)
    next_path = local_path(request.values.get("next"))
    # A new cookie for the new session: nothing from before sign-in is carried over.
    session.clear()
    session[_TOKEN] = token
    session.permanent = True
    return redirect(next_path or url_for("dashboard.overview"))


@bp.post("/logout")
def logout() -> Response:
    with sessions().begin() as db:
        end_session(db, session.get(_TOKEN), utcnow())
    session.clear()
    flash(_("You have signed out."))
    return redirect(url_for("auth.login"))


# ── every dashboard page ─────────────────────────────────────────────────


def current_viewer() -> Viewer | None:
    """The signed-in organiser or administrator of this request, read once per request."""
    if "viewer" in g:
        return g.viewer  # type: ignore[no-any-return]
    viewer = None
    token = session.get(_TOKEN)
    if token:
        with sessions().begin() as db:
            person = signed_in(db, token, utcnow())
            if person is not None:
                viewer = viewer_of(db, person)
                if not viewer.may_use_dashboard:
                    viewer = None
            if viewer is not None:
                g.inbox_open = open_count(db, viewer)
    g.viewer = viewer
    return viewer


def signed_in_only(blueprint: Blueprint) -> Blueprint:
    """Every page of `blueprint` is for a signed-in organiser: sign in first, and no cache keeps what it shows."""
    blueprint.before_request(_require_viewer)
    blueprint.after_request(no_store)
    return blueprint


def _require_viewer() -> Response | None:
    """A blueprint's `before_request`: sign in first (GETs come back to the page they asked for)."""
    if current_viewer() is not None:
        return None
    session.pop(_TOKEN, None)
    if request.method == "GET":
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    abort(401)


def viewer() -> Viewer:
    found = current_viewer()
    if found is None:
        abort(401)
    return found


def admin_only(view: Any) -> Any:
    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if not viewer().is_admin:
            abort(403)
        return view(*args, **kwargs)

    return checked
