"""The Flask app factory: a `Board`, the web blueprints and the dashboard's; no import-time side effects."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, g, render_template, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.orm import configure_mappers

from sms_board.plumbing.board import Board
from sms_board.plumbing.logs import mask_numbers_in_logs, quiet_library_chatter
from sms_board.plumbing.paths import resource_dir

EXTENSION = "sms_board"
# What a page meets when the database is down or not migrated: a short 503, not a traceback.
DATABASE_UNAVAILABLE = (OperationalError, ProgrammingError, InterfaceError)

log = logging.getLogger(__name__)


def build_app(config: Mapping[str, Any] | None = None, *, board: Board | None = None) -> Flask:
    overrides = dict(config or {})
    testing = bool(overrides.pop("TESTING", False))
    engine = overrides.pop("ENGINE", None)
    if board is None:
        # Tests describe their whole configuration; the developer's shell must not leak in.
        board = Board.load(overrides, environ={} if testing else None, engine=engine)
    settings = board.settings

    app = Flask(
        "sms_board",
        template_folder=str(resource_dir("templates") / "web"),
        static_folder="web/static",
        instance_path=str(settings.instance_path),
    )
    app.config.update(SECRET_KEY=settings.secret_key, TESTING=testing)
    app.extensions[EXTENSION] = board

    from sms_board.dashboard.dashboard_routes import init_dashboard
    from sms_board.voice import routes as voice_routes
    from sms_board.web import calls, health, public, simulator, sms, status
    from sms_board.web.ids import IdConverter
    from sms_board.web.language import init_language
    from sms_board.web.pages import init_pages
    from sms_board.web.security import csrf, init_security

    # Before any blueprint: their routes name it (`<id:campaign_id>`).
    app.url_map.converters["id"] = IdConverter
    init_security(app, settings)
    init_language(app, settings)
    init_pages(app)
    # Twilio signs its webhooks; it cannot send a CSRF token.
    csrf.exempt(sms.bp)
    csrf.exempt(status.bp)
    csrf.exempt(voice_routes.bp)
    csrf.exempt(calls.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(status.bp)
    app.register_blueprint(voice_routes.bp)
    app.register_blueprint(calls.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(public.bp)
    # The organisers' dashboard: sign-in and every page, each module's routes beside its read model.
    init_dashboard(app)
    # The simulator texts as any number without signing in: only on a development board.
    if settings.simulator_allowed:
        app.register_blueprint(simulator.bp)
    for error in DATABASE_UNAVAILABLE:
        app.register_error_handler(error, _database_unavailable)

    if not testing:
        configure_logging()
        mask_numbers_in_logs()
    # The models' mappers are configured as the app is built, not by the first text a worker
    # receives (about a second of it); once configured, this returns at once.
    configure_mappers()
    return app


# Requests that only read, so reading them again cannot do anything twice.
READS = frozenset({"GET", "HEAD"})


def _database_unavailable(exc: Exception) -> Any:
    if _may_read_again(exc):
        # A pooled connection PostgreSQL had dropped (a restart; connections are not tested as they are
        # checked out, for the webhook's and the sender's speed): SQLAlchemy has renewed the pool, so a
        # page that only reads is read once more, on a new connection. A POST is never done twice: it
        # gets the 503 (the webhook retries in its own view, `web.sms.inbound`).
        g.read_again = True
        log.warning("%s %s: the database connection was lost; reading the page again", request.method, request.path)
        try:
            answer = current_app.preprocess_request()
            return answer if answer is not None else current_app.dispatch_request()
        except DATABASE_UNAVAILABLE as again:
            exc = again
    cause = getattr(exc, "orig", None) or exc
    first_line = (str(cause).strip().splitlines() or [""])[0][:160]
    log.error("%s %s: database unavailable (%s: %s); see /healthz", request.method, request.path,
              cause.__class__.__name__, first_line)
    return render_template("unavailable.html"), 503, {"Retry-After": "60"}


def _may_read_again(exc: Exception) -> bool:
    return (request.method in READS and isinstance(exc, DBAPIError) and exc.connection_invalidated
            and not g.get("read_again"))


def board_of(app: Flask) -> Board:
    return app.extensions[EXTENSION]


def configure_logging(level: str | None = None) -> None:
    """Logs go to standard error (so `--json` output stays one document); numbers in them are masked.

    They hold what an operator needs: werkzeug's red development-server banner (and its
    "Press CTRL+C") is left out; the address it serves on and its requests stay.
    """
    chosen = (level or os.environ.get("SMS_BOARD_LOG_LEVEL") or "WARNING").upper()
    logging.basicConfig(level=chosen, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_library_chatter()
    werkzeug = logging.getLogger("werkzeug")
    for kind in (_DevelopmentServerBanner, _HealthzQueryOutOfLog):
        if not any(isinstance(f, kind) for f in werkzeug.filters):
            werkzeug.addFilter(kind())


class _HealthzQueryOutOfLog(logging.Filter):
    """A health token put in `/healthz`'s URL by mistake (it is refused) must not reach the log either."""

    QUERY = re.compile(r"(/healthz)\?[^\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/healthz?" in message:
            record.msg, record.args = self.QUERY.sub(r"\1?…", message), ()
        return True


class _DevelopmentServerBanner(logging.Filter):
    """Drops werkzeug's start-up warning ("This is a development server…") and "Press CTRL+C to quit"."""

    NOISE = ("This is a development server", "Press CTRL+C to quit")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not any(noise in message for noise in self.NOISE):
            return True
        kept = [line for line in message.splitlines() if not any(noise in line for noise in self.NOISE)]
        if not kept:
            return False
        record.msg, record.args = "\n".join(kept), ()
        return True
