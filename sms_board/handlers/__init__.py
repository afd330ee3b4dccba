"""Keyword handlers. Importing this package imports every module in it, and so registers
every keyword, stage and confirm action with the router: a new module needs no list.
"""

from sms_board.community.confirmations import lapse_pending, lapse_unless_yes
from sms_board.handlers.router import Context, keyword, route, stage
from sms_board.plumbing.registry import import_modules_of

HANDLER_MODULES: tuple[str, ...] = import_modules_of(__name__, __path__)

from sms_board.handlers.broadcast import names_a_version  # noqa: E402  (registered with the others above)

__all__ = ["HANDLER_MODULES", "Context", "keyword", "lapse_pending", "lapse_unless_yes", "names_a_version", "route",
           "stage"]
