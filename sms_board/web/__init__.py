"""Web routes: the Twilio webhooks, health, the simulator, the public pages and the organisers' dashboard."""

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
