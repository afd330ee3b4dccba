"""`GET /healthz`: is the board up (anyone may ask), and for the operator the outbox backlog and the clock.

The details stay with the operator: a sign-in code is an outbox row, and only an
organiser's or an administrator's number is texted one, so a backlog anyone could read
would tell which numbers sign in. They are shown to `Authorization: Bearer
<SMS_BOARD_HEALTH_TOKEN>` and to a signed-in administrator. A token never goes in the
URL (URLs end up in logs and browser histories): a query string is refused, and the
development server's log line for `/healthz` leaves it out (`app._HealthzQueryOutOfLog`).
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from sms_board.clock.health import health_details
from sms_board.dashboard.signin_routes import current_viewer
from sms_board.plumbing.migrate import UPGRADE_HINT, database_state
from sms_board.plumbing.utc import utcnow
from sms_board.web import current_board, sessions, settings

bp = Blueprint("health", __name__)
BEARER_NEEDED = "send Authorization: Bearer <SMS_BOARD_HEALTH_TOKEN>"


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    if request.query_string:
        return _refused(400, f"/healthz takes nothing in its URL (a token there ends up in logs): {BEARER_NEEDED}")
    header = request.headers.get("Authorization")
    if header is not None and not _right_token(header):
        refused = _refused(401, f"wrong health token: {BEARER_NEEDED}" if settings().health_token else
                           "no SMS_BOARD_HEALTH_TOKEN is set on this board: set one, or sign in as an administrator")
        refused.headers["WWW-Authenticate"] = "Bearer"
        return refused
    # "unreachable" and "not migrated" need different fixes: say which.
    state = database_state(current_board().engine)
    if not state.ok:
        fix = UPGRADE_HINT if state.status == "not migrated" else "check DATABASE_URL and the database server"
        return jsonify(ok=False, database=state.status, error=state.detail, fix=fix), 503
    if header is None and not _administrator():
        return jsonify(ok=True, database="ok")
    try:
        details = _details()
    except SQLAlchemyError as exc:
        return jsonify(ok=False, database="unreachable", error=exc.__class__.__name__), 503
    answer = jsonify(ok=True, database="ok", **details)
    answer.headers["Cache-Control"] = "no-store"
    return answer


def _right_token(header: str) -> bool:
    expected = settings().health_token
    scheme, _, token = header.strip().partition(" ")
    if expected is None or scheme.lower() != "bearer":
        return False
    # compare_digest: how long the comparison takes says nothing of how much of the token was right.
    return hmac.compare_digest(token.strip().encode(), expected.encode())


def _administrator() -> bool:
    viewer = current_viewer()
    return viewer is not None and viewer.is_admin


def _details() -> dict[str, Any]:
    with sessions()() as session:
        return health_details(session, utcnow())


def _refused(status: int, error: str):  # type: ignore[no-untyped-def]
    answer = jsonify(ok=False, error=error)
    answer.status_code = status
    return answer
