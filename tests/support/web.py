"""What a person does in a browser, done with Flask's test client: forms with their CSRF token, signing in."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from sms_board.app import board_of
from sms_board.models import Outbox
from tests.conftest import HEALTH_TOKEN

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, page: str) -> str:
    """The CSRF token of the first form on `page`, as a browser would submit it."""
    shown = client.get(page)
    found = _TOKEN.search(shown.get_data(as_text=True))
    assert found, f"{page} ({shown.status_code}) has no form with a CSRF token"
    return found.group(1)


def submit(client: FlaskClient, page: str, action: str, data: dict[str, Any], **kwargs: Any) -> TestResponse:
    """Open `page`, then send one of its forms to `action` with `data`."""
    return client.post(action, data={"csrf_token": csrf_token(client, page), **data}, **kwargs)


def text_message(client: FlaskClient, number: str, body: str, **kwargs: Any) -> TestResponse:
    """Send a text from the simulator page."""
    return submit(client, "/simulator", "/simulator", {"from": number, "body": body}, **kwargs)


def last_code(client: FlaskClient, number: str) -> str | None:
    """The sign-in code the board texted to `number`, read from the outbox as the phone would."""
    with board_of(client.application).sessions() as session:
        bodies = session.scalars(select(Outbox.body).where(Outbox.to_number == number).order_by(Outbox.id.desc()))
        for body in bodies:
            found = re.search(r"sign-in code is (\d{6})", body)
            if found:
                return found.group(1)
    return None


def operator_health(client: FlaskClient) -> dict[str, Any]:
    """`/healthz` as the operator's monitor reads it, with the board's health token (the tests' configuration)."""
    answer = client.get("/healthz", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()  # type: ignore[no-any-return]


def ask_for_code(client: FlaskClient, number: str, **kwargs: Any) -> TestResponse:
    return submit(client, "/login", "/login", {"number": number}, **kwargs)


def enter_code(client: FlaskClient, code: str, **kwargs: Any) -> TestResponse:
    return submit(client, "/login/code", "/login/code", {"code": code}, **kwargs)


def sign_in(client: FlaskClient, number: str) -> TestResponse:
    """The whole sign-in as an organiser does it: number, the code from the text, in."""
    asked = ask_for_code(client, number)
    assert asked.status_code == 302, asked.get_data(as_text=True)
    code = last_code(client, number)
    assert code, f"no code was texted to {number}"
    entered = enter_code(client, code)
    assert entered.status_code == 302 and entered.headers["Location"].startswith("/dashboard"), \
        entered.get_data(as_text=True)
    return entered
