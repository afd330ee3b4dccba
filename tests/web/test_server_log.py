"""What `make run` logs for the web app: where it runs and its requests, not werkzeug's red banner."""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request

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


def test_the_development_server_logs_requests_with_every_number_in_their_address_masked(tmp_path,
                                                                                         log_lines_mask_every_number):
    app = create_app({
        "TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'board.db'}", "SECRET_KEY": "s",
        "SMS_BOARD_INSTANCE_PATH": str(tmp_path / "instance"), "SMS_BOARD_TRANSPORT": "console",
    })
    configure_logging()
    server = make_server("127.0.0.1", 0, app)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    queries = ["from=07700900456", "from=447700900456", "q=07700+900456", "q=%2B44+7700+900456",
               "q=%2B44%207700%20900456", "q=07700-900-456"]
    try:
        for query in queries:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{server.port}/nowhere?{query}", timeout=5)
            except urllib.error.HTTPError as refused:
                assert refused.code == 404
    finally:
        server.shutdown()
        server.server_close()

    requests = [line for line in log_lines_mask_every_number.written if "/nowhere?" in line]
    assert len(requests) == len(queries)
    assert all("+44 7•••• ••456" in line and "900456" not in line for line in requests), requests
