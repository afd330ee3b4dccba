"""Keyword handlers. Importing this package registers every handler with the router."""

from sms_board.handlers import (  # noqa: F401
    broadcast,
    confirm,
    connect,
    digest,
    forget,
    help,
    inbox,
    intro,
    join,
    mine,
    post,
    profile,
    relay,
    requests,
    stop,
)
from sms_board.handlers.router import Context, keyword, route, stage
from sms_board.handlers.stop import asks_to_stop, opts_back_in, stopped_by_this_text

__all__ = ["Context", "asks_to_stop", "keyword", "opts_back_in", "route", "stage", "stopped_by_this_text"]
