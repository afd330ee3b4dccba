"""The web, apart from the organisers' dashboard: the Twilio webhooks (`sms.py`, `status.py`), `health.py`,
the public pages, the simulator; and what every page shares, the dashboard's too: the board and its
sessions (here), `security.py` (CSRF, cookies, headers), `ids.py` (ids in URLs), `pages.py` (what every
template may use). The dashboard, its routes included, is `sms_board/dashboard/`."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from sms_board.plumbing.board import Board
from sms_board.plumbing.config import Settings


def current_board() -> Board:
    from sms_board.app import board_of

    return board_of(current_app)


def settings() -> Settings:
    return current_board().settings


def sessions() -> sessionmaker[Session]:
    return current_board().sessions
