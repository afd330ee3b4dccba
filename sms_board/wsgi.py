"""The WSGI entry point for gunicorn: `gunicorn 'sms_board.wsgi:create_app()'`.

The same factory as `sms_board.create_app`, except that the process stops at start with
one line instead of a traceback in the server log when the configuration is wrong, or
when the database cannot be reached or is not migrated (`sms-board db upgrade`).
"""

from __future__ import annotations

import sys

from flask import Flask

from sms_board import create_app as _create_app
from sms_board.app import board_of
from sms_board.plumbing.config import ConfigError
from sms_board.plumbing.migrate import DatabaseNotReady, require_ready


def create_app() -> Flask:
    try:
        app = _create_app()
        engine = board_of(app).engine
        require_ready(engine)
        # The pool is left empty: under `gunicorn --preload` the app is built before the workers
        # fork, and a connection must never be shared across a fork (each worker opens its own).
        engine.dispose()
    except (ConfigError, DatabaseNotReady) as exc:
        print(f"sms-board: {exc}", file=sys.stderr, flush=True)
        # 3 is gunicorn's "worker failed to boot": the master stops instead of respawning forever.
        raise SystemExit(3) from None
    return app
