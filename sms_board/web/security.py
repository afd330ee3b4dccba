"""What every page shares for safety: CSRF on every form, cookie flags, headers, proxies.

- Flask-WTF's `CSRFProtect` checks a token on every POST (forms carry `csrf_token()`, the
  composer's JSON calls send it as `X-CSRFToken`). Twilio's webhooks are exempt: they
  are signed by Twilio instead (`web/sms.py`).
- The session cookie is signed with `SECRET_KEY`, `HttpOnly`, `SameSite=Lax`, and
  `Secure` when `SMS_BOARD_PUBLIC_URL` is https.
- Pages may load scripts and styles only from the board itself (no CDN, nothing inline
  but styles), and may not be framed.
- What a signed-in organiser is shown (every page and download of the dashboard's
  blueprints, `dashboard.signin_routes.signed_in_only`) and the development simulator's threads are
  `Cache-Control: no-store`: residents' data is never kept by a browser's history or a proxy.
- A request body is at most a megabyte, except a subscriber list's upload and import
  (`dashboard.roster.UPLOAD_LIMIT`, room for 10,000 rows); bigger is a 413 before it is parsed.
- Behind `SMS_BOARD_PROXY_HOPS` reverse proxies, their `X-Forwarded-For` and
  `X-Forwarded-Proto` are believed (so per-address limits see the visitor, not the proxy).
"""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from sms_board.dashboard.roster import UPLOAD_LIMIT
from sms_board.dashboard.signin import SESSION_LIFETIME
from sms_board.plumbing.config import Settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

csrf = CSRFProtect()
FORM_LIMIT = 1024 * 1024
UPLOAD_ENDPOINTS = frozenset({"dashboard.import_check"})


def _size_limits() -> None:
    limit = UPLOAD_LIMIT if request.endpoint in UPLOAD_ENDPOINTS else FORM_LIMIT
    if request.max_content_length is None or request.max_content_length > limit:
        request.max_content_length = limit
    request.max_form_memory_size = limit


def no_store(response: Response) -> Response:
    """A blueprint's `after_request` for pages with residents' data: no browser or proxy cache keeps a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response


def init_security(app: Flask, settings: Settings) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="sms_board_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=(settings.public_url or "").startswith("https://"),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        # A form stays good as long as the session that showed it (a long broadcast takes a while to write).
        WTF_CSRF_TIME_LIMIT=int(SESSION_LIFETIME.total_seconds()),
        WTF_CSRF_SSL_STRICT=False,  # the signed token is the check; a proxy may drop the Referer
    )
    # Before CSRFProtect reads the form: a subscriber list may be up to UPLOAD_LIMIT, anything else a megabyte.
    app.before_request(_size_limits)
    csrf.init_app(app)
    if settings.proxy_hops:
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.errorhandler(CSRFError)
    def _csrf_refused(error: CSRFError) -> tuple[str, int]:
        return render_template("error.html", title=_("This form could not be accepted"),
                               message=_("It expired, or it did not come from this board's own page. "
                                         "Go back, reload the page and try again."),
                               reason=_csrf_reason(error.description)), 400


def _csrf_reason(description: str) -> str:
    """Flask-WTF's reason, in the page's language when it is one of its usual three."""
    reasons = {
        "The CSRF token is missing.": _("The CSRF token is missing."),
        "The CSRF token is invalid.": _("The CSRF token is invalid."),
        "The CSRF token has expired.": _("The CSRF token has expired."),
    }
    return reasons.get(description, description)
