"""The WSGI entry point for gunicorn: `gunicorn 'sms_board.wsgi:create_app()'`.

The same factory as `sms_board.create_app`, except that a configuration error
ends the process with its one line instead of a traceback in the server log.
"""

from __future__ import annotations

import sys

from flask import Flask

from sms_board import create_app as _create_app
from sms_board.config import ConfigError


def create_app() -> Flask:
    try:
        return _create_app()
    except ConfigError as exc:
        print(f"sms-board: {exc}", file=sys.stderr, flush=True)
        # 3 is gunicorn's "worker failed to boot": the master stops instead of respawning forever.
        raise SystemExit(3) from None
