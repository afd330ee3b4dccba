"""The Flask app factory: a `Board` and the web blueprints; no import-time side effects."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from sms_board.board import Board
from sms_board.logs import mask_numbers_in_logs
from sms_board.paths import resource_dir

EXTENSION = "sms_board"


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
        instance_path=str(settings.instance_path),
    )
    app.config.update(SECRET_KEY=settings.secret_key, TESTING=testing)
    app.extensions[EXTENSION] = board

    from sms_board.web import health, public, simulator, sms, status

    app.register_blueprint(sms.bp)
    app.register_blueprint(status.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(public.bp)
    # The simulator injects texts as any number: only where nothing reaches a real phone.
    if settings.transport == "console" or settings.development:
        app.register_blueprint(simulator.bp)

    if not testing:
        configure_logging()
        mask_numbers_in_logs()
    return app


def board_of(app: Flask) -> Board:
    return app.extensions[EXTENSION]


def configure_logging(level: str | None = None) -> None:
    """Logs go to standard error (so `--json` output stays one document); numbers in them are masked."""
    chosen = (level or os.environ.get("SMS_BOARD_LOG_LEVEL") or "WARNING").upper()
    logging.basicConfig(level=chosen, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
