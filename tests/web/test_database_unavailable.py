"""A database that is unreachable or not migrated: pages answer a short 503, `/healthz` says which,
and gunicorn's entry point stops at start with one clear line (docs/architecture.md: `wsgi.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from sms_board import create_app
from sms_board.plumbing.db import make_engine
from tests.conftest import migrated_sqlite

# Nothing listens here: a PostgreSQL that cannot be reached.
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:9/test"


def config_for(url: str, tmp_path: Path) -> dict[str, Any]:
    engine = make_engine(url, connect_args={"connect_timeout": 2}) if url.startswith("postgresql") else make_engine(url)
    return {
        "TESTING": True, "ENGINE": engine, "DATABASE_URL": url,
        "SMS_BOARD_INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "test-secret",
        "SMS_BOARD_TRANSPORT": "console", "SMS_BOARD_QUIET_HOURS": "",
    }


@pytest.fixture
def unmigrated(tmp_path: Path) -> Flask:
    """A board on a SQLite file that `sms-board db upgrade` never ran on."""
    return create_app(config_for(f"sqlite:///{tmp_path / 'new.db'}", tmp_path))


@pytest.fixture
def unreachable(tmp_path: Path) -> Flask:
    return create_app(config_for(UNREACHABLE, tmp_path))


@pytest.mark.parametrize("path", ["/", "/board/elm", "/simulator"])
@pytest.mark.parametrize("board", ["unmigrated", "unreachable"])
def test_a_page_without_its_database_says_back_soon_instead_of_a_traceback(request, board, path):
    client = request.getfixturevalue(board).test_client()

    response = client.get(path)

    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Back soon" in page and "cannot reach its database" in page
    assert "Traceback" not in page and "sqlalchemy" not in page.lower()
    assert response.headers["Retry-After"] == "60"


def test_healthz_says_a_reachable_database_is_not_migrated_and_how_to_fix_it(unmigrated):
    response = unmigrated.test_client().get("/healthz")

    assert response.status_code == 503
    health = response.get_json()
    assert health["ok"] is False
    assert health["database"] == "not migrated"
    assert health["fix"] == "run `sms-board db upgrade`"


def test_healthz_says_an_unreachable_database_is_unreachable(unreachable):
    response = unreachable.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_healthz_is_ok_on_a_migrated_database(client):
    health = client.get("/healthz").get_json()
    assert health["ok"] is True and health["database"] == "ok"


# ── gunicorn's entry point ─────────────────────────────────────────────────


def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SMS_BOARD_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SMS_BOARD_TRANSPORT", "TWILIO_FROM_NUMBER"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("url", "said"), [
    ("sqlite:///{tmp}/new.db", "is not migrated (no schema yet): run `sms-board db upgrade`."),
    (UNREACHABLE, "cannot reach the database at postgresql+psycopg://postgres@127.0.0.1:9/test ("),
], ids=["unmigrated", "unreachable"])
def test_gunicorn_start_stops_with_one_line_on_a_database_it_cannot_use(monkeypatch, tmp_path, capsys, url, said):
    from sms_board.wsgi import create_app as gunicorn_app

    _environment(monkeypatch, tmp_path, url.format(tmp=tmp_path))

    with pytest.raises(SystemExit) as stopped:
        gunicorn_app()

    assert stopped.value.code == 3
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sms-board: ") and said in lines[0]


def test_gunicorn_start_serves_a_migrated_database(monkeypatch, tmp_path, migrated_sqlite_file):
    from sms_board.wsgi import create_app as gunicorn_app

    url = migrated_sqlite(migrated_sqlite_file, tmp_path / "board.db")
    _environment(monkeypatch, tmp_path, url)

    app = gunicorn_app()

    assert app.test_client().get("/healthz").status_code == 200
