"""Logging: lines go to standard error, and every phone number in them is masked.

The board's own code masks numbers where it logs them (`phone.mask`); this formatter
is the net under that: whatever a line holds (an exception from Twilio naming the
`To` number, a traceback, the twilio client's own request log), a full number never
reaches the log.
"""

from __future__ import annotations

import logging
import sys

from sms_board.text.phone import mask_numbers

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class MaskedFormatter(logging.Formatter):
    """A formatter whose every line, traceback included, has its phone numbers masked."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_numbers(super().format(record))


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Standard error as it is when a line is written (the CLI's test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self):  # type: ignore[no-untyped-def]
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def configure(level: str) -> None:
    """The command line's logging: standard error, through the masking formatter; again, it only sets the level."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not any(getattr(handler, "sms_board", False) for handler in root.handlers):
        handler = _Stderr()
        handler.sms_board = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    mask_numbers_in_logs()
    quiet_library_chatter()


# Libraries' INFO lines that tell an operator nothing: alembic's "setup plugin …", seven of them
# in every process as alembic is first imported, at every start.
CHATTY_LOGGERS = ("alembic.runtime.plugins",)


def quiet_library_chatter() -> None:
    """Keep only the warnings of `CHATTY_LOGGERS`, before they are imported; at DEBUG everything shows."""
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        return
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def mask_numbers_in_logs() -> None:
    """Every handler on the root logger writes through the masking formatter (the web app calls
    this once its logging is set up)."""
    for handler in logging.getLogger().handlers:
        if not isinstance(handler.formatter, MaskedFormatter):
            handler.setFormatter(MaskedFormatter(FORMAT))
