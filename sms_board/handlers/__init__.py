"""Keyword handlers. Importing this package imports every module in it, and so registers
every keyword, stage and confirm action with the router: a new module needs no list.
"""

from sms_board.handlers.confirm import lapse_unless_yes
from sms_board.handlers.help import asks_for_help
from sms_board.handlers.router import Context, keyword, route, stage
from sms_board.handlers.stop import asks_to_stop, opts_back_in, stopped_by_this_text
from sms_board.registry import import_modules_of

HANDLER_MODULES: tuple[str, ...] = import_modules_of(__name__, __path__)

__all__ = [
    "HANDLER_MODULES", "Context", "asks_for_help", "asks_to_stop", "keyword", "lapse_unless_yes", "opts_back_in",
    "route", "stage", "stopped_by_this_text",
]
