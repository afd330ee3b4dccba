"""An inbound text's status: settled once, by `inbound.status.transition`, and never moved again."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from sms_board.app import board_of
from sms_board.inbound import status
from sms_board.models import InboundMessage, InboundStatus
from sms_board.plumbing.utc import utcnow
from tests.conftest import ACCOUNT_SID, BOARD_NUMBER, post_inbound, session_of

RESIDENT = "+447700900301"


def _stored(app, sid: str) -> InboundMessage:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        found = session.scalar(select(InboundMessage).where(InboundMessage.message_sid == sid))
        assert found is not None
        return found


def test_a_handled_text_cannot_be_settled_again(app, client, areas):
    """A late failure or the clock giving up cannot turn a text that was answered into an error in the inbox."""
    sid = f"SM{uuid.uuid4().hex}"
    replies = post_inbound(client, {"MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": RESIDENT,
                                    "To": BOARD_NUMBER, "Body": "JOIN ELM", "NumMedia": "0"})
    handled = _stored(app, sid)
    assert handled.status == InboundStatus.HANDLED and replies

    with board_of(app).sessions.begin() as session:
        for to in (InboundStatus.ERROR, InboundStatus.HELD, InboundStatus.RECEIVED):
            assert not status.transition(session, handled.id, to, allowed_from=status.OPEN, now=utcnow(),
                                         error="too late", in_inbox=True)

    after = _stored(app, sid)
    assert (after.status, after.error, after.in_inbox, after.replies, after.handled_at) == (
        "handled", None, False, handled.replies, handled.handled_at)


def test_a_stored_text_is_settled_once_and_stamped(app, client, areas):
    """Two processes settling one `received` text: the first moves it, the second is refused."""
    sid = f"SM{uuid.uuid4().hex}"
    now = utcnow()
    with board_of(app).sessions.begin() as session:
        inbound = InboundMessage(message_sid=sid, from_number=RESIDENT, body="hello", params={}, received_at=now,
                                 status=status.INITIAL.value)
        session.add(inbound)
        session.flush()
        inbound_id = inbound.id
    with board_of(app).sessions.begin() as session:
        assert status.transition(session, inbound_id, InboundStatus.IGNORED, allowed_from=status.OPEN, now=now,
                                 error="first")
    with board_of(app).sessions.begin() as session:
        assert not status.transition(session, inbound_id, InboundStatus.HANDLED, allowed_from=status.OPEN, now=now,
                                     handler="second")
    settled = _stored(app, sid)
    assert (settled.status, settled.error, settled.handler) == ("ignored", "first", None)
    assert settled.handled_at is not None
