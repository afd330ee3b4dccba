"""sms-board: an SMS-first neighbourhood noticeboard."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web app. `config` overrides environment settings by their variable names."""
    from sms_board.app import build_app

    return build_app(config)
