"""What `make run` logs for the web app: where it runs and its requests, not werkzeug's red banner."""

from __future__ import annotations

import logging

from werkzeug.serving import make_server

from sms_board import create_app
from sms_board.app import configure_logging


def test_the_development_server_log_says_where_it_runs_without_the_red_banner(tmp_path, caplog):
    app = create_app({
        "TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'board.db'}", "SECRET_KEY": "s",
        "SMS_BOARD_INSTANCE_PATH": str(tmp_path / "instance"), "SMS_BOARD_TRANSPORT": "console",
    })
    configure_logging()  # what `sms-board serve` does
    caplog.set_level(logging.INFO)
    server = make_server("127.0.0.1", 0, app)
    try:
        server.log_startup()
    finally:
        server.server_close()

    logged = "\n".join(record.getMessage() for record in caplog.records if record.name == "werkzeug")
    assert f"Running on http://127.0.0.1:{server.port}" in logged
    assert "development server" not in logged and "\x1b[" not in logged
