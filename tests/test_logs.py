"""No log line shows a full phone number (SPEC §2).

The whole suite runs under `log_lines_mask_every_number` (conftest): every test's log
lines, at DEBUG, the twilio client's included, fail the test if one holds a full E.164
number. These tests show what that net is made of.
"""

from __future__ import annotations

import logging
import sys

from sqlalchemy import select

from sms_board.app import board_of
from sms_board.logs import FORMAT, MaskedFormatter, configure
from sms_board.models import OutboxKind, Subscriber
from sms_board.sending.outbox import enqueue
from sms_board.sending.sender import drain
from sms_board.utc import utcnow
from tests.conftest import session_of
from tests.support.fake_twilio import TwilioError

SAM = "+447700900123"


def test_the_formatter_masks_numbers_in_messages_arguments_and_tracebacks():
    formatter = MaskedFormatter(FORMAT)
    try:
        raise ValueError(f"The 'To' number {SAM} is not a valid phone number.")
    except ValueError:
        record = logging.LogRecord("twilio.http_client", logging.ERROR, __file__, 1, "Data: To=%s&From=%s",
                                   ("%2B447700900123", "+447700900000"), sys.exc_info())
    line = formatter.format(record)
    assert "+447700900123" not in line and "%2B447700900123" not in line and "+447700900000" not in line
    assert line.count("+44 7•••• ••123") == 2 and "+44 7•••• ••000" in line


def test_a_refusal_from_twilio_naming_the_number_is_logged_masked(app, fake_twilio, log_lines_mask_every_number):
    board = board_of(app)
    with board.sessions.begin() as session:
        person = Subscriber(phone=SAM, is_admin=False, digest_frequency="daily", more_page=0, created_at=utcnow())
        session.add(person)
        session.flush()
        enqueue(session, board.settings, person, "Your post is up.", OutboxKind.NOTIFY)
    fake_twilio.next(TwilioError(21211, message=f"The 'To' number {SAM} is not a valid phone number."))

    drain(board.sessions, fake_twilio.transport(board.settings), board.settings)

    lines = log_lines_mask_every_number.written
    assert any("+44 7•••• ••123" in line and "not a valid phone number" in line for line in lines), lines
    assert any("twilio.http_client" in line for line in lines), "the twilio client's own lines are caught too"
    with session_of(app) as session:
        assert session.scalar(select(Subscriber.undeliverable_at)) is not None


def test_the_command_line_writes_its_logs_through_the_masking_formatter(capsys):
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    formatters = [handler.formatter for handler in handlers]
    try:
        configure("INFO")
        configure("INFO")  # once is enough: a second call only sets the level
        logging.getLogger("twilio.http_client").info("text to %s", SAM)  # a library names the number
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for handler, formatter in zip(handlers, formatters, strict=True):
            handler.setFormatter(formatter)
    assert capsys.readouterr().err.count("text to +44 7•••• ••123") == 1

