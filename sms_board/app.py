"""The Flask app factory: settings, database and blueprints; no import-time side effects."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dotenv import load_dotenv
from flask import Flask

from sms_board.config import PROJECT_ROOT, Settings, load_settings
from sms_board.db import make_engine, make_session_factory
from sms_board.paths import resource_dir


def build_app(config: Mapping[str, Any] | None = None) -> Flask:
    overrides = dict(config or {})
    testing = bool(overrides.pop("TESTING", False))
    engine = overrides.pop("ENGINE", None)
    if not testing:
        load_dotenv(PROJECT_ROOT / ".env", override=False)
    # Tests describe their whole configuration; the developer's shell must not leak in.
    settings = load_settings(overrides, environ={} if testing else None)

    app = Flask(
        "sms_board",
        template_folder=str(resource_dir("templates") / "web"),
        instance_path=str(settings.instance_path),
    )
    app.config.update(SECRET_KEY=settings.secret_key, TESTING=testing)
    app.extensions["sms_board.settings"] = settings
    # Every sender thread holds a connection while it sends; overflow would reconnect each time.
    engine = engine or make_engine(settings.database_url, pool_size=max(5, settings.sender_concurrency + 2))
    app.extensions["sms_board.engine"] = engine
    app.extensions["sms_board.sessions"] = make_session_factory(engine)

    from sms_board.web import board, health, simulator, sms, status

    app.register_blueprint(sms.bp)
    app.register_blueprint(status.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(board.bp)
    # The simulator injects texts as any number: only where nothing reaches a real phone.
    if settings.transport == "console" or settings.development:
        app.register_blueprint(simulator.bp)
    app.register_blueprint(simulator.home_bp)

    if not testing:
        configure_logging()
    return app


def configure_logging(level: str | None = None) -> None:
    """Logs go to standard error (so `--json` output stays one document); numbers in them are masked."""
    import os

    chosen = (level or os.environ.get("SMS_BOARD_LOG_LEVEL") or "WARNING").upper()
    logging.basicConfig(level=chosen, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def settings_of(app: Flask) -> Settings:
    return app.extensions["sms_board.settings"]
