"""No log line shows a full phone number (docs/trust-and-safety.md, "Numbers in logs").

The whole suite runs under `log_lines_mask_every_number` (conftest): every test's log
lines, at DEBUG, the twilio client's included, fail the test if one holds a full E.164
number. These tests show what that net is made of.
"""

from __future__ import annotations

import logging
import re
import sys

import pytest
from sqlalchemy import select

from sms_board.app import board_of
from sms_board.models import OutboxKind, Subscriber
from sms_board.plumbing.logs import FORMAT, MaskedFormatter, configure
from sms_board.plumbing.utc import utcnow
from sms_board.sending.outbox import enqueue
from sms_board.sending.sender import drain
from sms_board.text.phone import mask_numbers, shows_full_number
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



# Every way a UK or E.164 number turns up in a line: typed by a resident, in Twilio's errors, in a query string.
WRITTEN = [
    "+447700900456", "447700900456", "07700900456", "07700 900456", "07700-900-456", "(07700) 900456",
    "+44 7700 900456", "+44 (0) 7700 900456", "0044 7700 900456", "%2B447700900456", "%2B44+7700+900456",
    "%2B44%207700%20900456", "07700%20900456", "07700+900456",
]
# Things with digits that are not phone numbers, and must read as they were.
NOT_NUMBERS = [
    "the meeting is at 10:30", "on 2026-12-06", "CAN #R12", "it cost £12.50", "Your sms-board sign-in code is 228623",
    "outbox 12345 sent", "2026-12-06T10:30:00.123456+00:00", "2026-12-06 10:30:00,123 INFO werkzeug: 127.0.0.1",
    "06-12-2026 10:30", "SM0123456789abcdef0123456789abcdef", "segments 1 of 3, 160 characters",
]


@pytest.mark.parametrize("written", WRITTEN)
def test_every_way_a_number_is_written_is_masked(written):
    masked = mask_numbers(f"call Sam on {written} after 6")
    assert masked == "call Sam on +44 7•••• ••456 after 6"
    assert mask_numbers(masked) == masked, "masking a masked line changes nothing"
    assert shows_full_number(f"x {written} y") and not shows_full_number(masked)


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_what_is_not_a_number_reads_as_it_was(text):
    assert mask_numbers(text) == text
    assert not shows_full_number(text)


def test_a_log_line_keeps_its_time_and_masks_the_number_in_its_message():
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"GET /x?from=07700+900456&n=%s HTTP/1.1" 200 -',
                               ("%2B44%207700%20900456",), None)
    line = MaskedFormatter(FORMAT).format(record)
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO werkzeug: ", line), line
    assert line.count("+44 7•••• ••456") == 2 and "900456" not in line
