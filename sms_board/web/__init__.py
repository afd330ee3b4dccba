"""Web routes: the Twilio webhooks, health, the simulator and pages."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from sms_board.config import Settings


def settings() -> Settings:
    return current_app.extensions["sms_board.settings"]


def sessions() -> sessionmaker[Session]:
    return current_app.extensions["sms_board.sessions"]
