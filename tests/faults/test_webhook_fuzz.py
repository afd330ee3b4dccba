"""Arbitrary signed webhooks (hypothesis): never a 5xx, and every text with a MessageSid stored exactly once.

Bodies and parameters are whatever hypothesis makes of them: empty, 1,600
characters, emoji, NUL, any keyword with anything after it, and odd `From`
values (short codes, alphanumeric sender IDs, the board's own number, garbage).
Each is signed with the real `RequestValidator`, so it gets past the signature
check and into the pipeline. The Flask test client is enough here: what is
under test is the pipeline, not the server around it.

`SMS_BOARD_FUZZ_EXAMPLES` sets the number of examples (a few hundred by default;
the nightly run uses 10,000).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from sms_board import create_app
from sms_board.models import InboundMessage

from .procs import ACCOUNT_SID, AUTH_TOKEN, BOARD_NUMBER, drama_number, sign, twiml_messages
from .rig import SCALE, SEED, Schema

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120 + SCALE.fuzz_examples // 20)]

PUBLIC_URL = "https://board.example.org"
KEYWORDS = ["JOIN", "JOIN ELM", "POST", "NEED", "OFFER", "CAN", "ASK", "OK", "NO", "DONE", "CLOSE", "SHARE", "MY",
            "STOP", "START", "YES", "HELP", "NAME", "MORE", "AREAS", "REPORT", "FORGET", "DIGEST", "LEAVE",
            "BROADCAST", "URGENT", "INTRO", "APPROVE", "REJECT", "UNLINK", "BALANCE", "R1", "#1", "N1 1"]
ODD_FROMS = ["", " ", "+", "0", "12345", "60123", "HSBC", "Tesco", "+15005550006", BOARD_NUMBER, "447700900000",
             "00447700900123", "07700 900123", "+44 7700 900123", "(0)7700-900-123", "+447700900123\x00",
             "\x00", "☎️📱", "+4477009001234567890123", "+999999999999", "tel:+447700900123",
             "+447700900123,+447700900124", "NaN", "-1", "+44" + "9" * 60]
EMOJI = ["🙂", "👍🏽", "🇬🇧", "👨‍👩‍👧‍👦", "🏳️‍🌈", "\u200d", "\ufeff", "ﷺ", "𝕏"]

sids = st.one_of(
    st.text("0123456789abcdef", min_size=32, max_size=32).map(lambda h: "SM" + h),
    st.text(max_size=80),  # anything: empty, spaces, NUL, emoji, longer than the column
    st.none(),  # no MessageSid at all
)
froms = st.one_of(st.integers(1, 999).map(drama_number), st.sampled_from(ODD_FROMS), st.text(max_size=30))
bodies = st.one_of(
    st.text(max_size=200),
    st.sampled_from(KEYWORDS),
    st.builds(lambda k, rest: f"{k} {rest}", st.sampled_from(KEYWORDS), st.text(max_size=60)),
    st.text(min_size=1, max_size=8).map(lambda unit: (unit * 1600)[:1600]),  # 1,600 characters
    st.lists(st.sampled_from([*EMOJI, "\x00", " ", "STOP", "x"]), max_size=40).map("".join),
    st.just(""),
)
extras = st.dictionaries(
    st.one_of(st.sampled_from(["OptOutType", "NumMedia", "MediaUrl0", "FromCity", "SmsStatus", "Body", "From",
                               "To", "AccountSid", "MessagingServiceSid", "NumSegments"]), st.text(max_size=12)),
    st.one_of(st.sampled_from(["STOP", "START", "HELP", "", "0", "9999"]), st.text(max_size=40)),
    max_size=4,
)


def stored_sid(sid: str) -> str:
    """How the board keys a MessageSid: NUL shown as U+FFFD (PostgreSQL text cannot hold it), trimmed, 64 characters."""
    return sid.replace("\x00", "\ufffd").strip()[:64]


def test_any_signed_webhook_is_answered_and_stored_exactly_once(schema: Schema, tmp_path: Path, note):
    app = create_app({
        "TESTING": True, "DATABASE_URL": schema.url("fuzz"), "SMS_BOARD_INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "fuzz", "SMS_BOARD_SUPPRESSION_KEY": "fuzz-suppression-key-0123456789abcdef",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": BOARD_NUMBER, "SMS_BOARD_TRANSPORT": "console", "SMS_BOARD_PUBLIC_URL": PUBLIC_URL,
        "SMS_BOARD_QUIET_HOURS": "",
    })
    app.config["PROPAGATE_EXCEPTIONS"] = False  # an exception must show as the 500 Twilio would see
    client = app.test_client()
    from sms_board.app import board_of

    sessions = board_of(app).sessions
    from click.testing import CliRunner

    from sms_board.cli import cli

    CliRunner().invoke(cli, ["area", "add", "elm", "Elm Street", "--postcode", "SE6 1"], obj=board_of(app))
    seen = {"examples": 0, "posts": 0, "with_sid": 0, "server_errors": 0, "statuses": set()}

    def post(params: dict[str, str]) -> tuple[int, bytes]:
        signature = sign(PUBLIC_URL + "/sms/inbound", params)
        response = client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": signature})
        seen["posts"] += 1
        seen["statuses"].add(response.status_code)
        seen["server_errors"] += response.status_code >= 500
        return response.status_code, response.data

    @seed(SEED)
    @settings(max_examples=SCALE.fuzz_examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(sid=sids, from_=froms, body=bodies, extra=extras, again=st.booleans())
    def one_text(sid: str | None, from_: str, body: str, extra: dict[str, str], again: bool) -> None:
        seen["examples"] += 1
        params = {**extra, "AccountSid": ACCOUNT_SID, "To": BOARD_NUMBER, "From": from_, "Body": body}
        if sid is not None:
            params["MessageSid"] = sid
        status, answer = post(params)
        assert status < 500, (status, answer[:300])
        assert status == 200, (status, answer[:300])
        replies = twiml_messages(answer)
        if again:  # Twilio's retry: the same reply, nothing done twice
            status, retried = post(params)
            assert status == 200, (status, retried[:300])
            if sid is not None and stored_sid(sid):
                assert twiml_messages(retried) == replies
        if sid is not None and stored_sid(sid):
            seen["with_sid"] += 1
            with sessions() as session:
                rows = session.scalar(select(func.count()).select_from(InboundMessage)
                                      .where(InboundMessage.message_sid == stored_sid(sid)))
            assert rows == 1, f"MessageSid {sid!r} stored {rows} times"

    try:
        one_text()
    finally:
        note(examples=seen["examples"], webhooks=seen["posts"], texts_with_a_sid=seen["with_sid"],
             http_statuses=sorted(seen["statuses"]), server_errors=seen["server_errors"])
        board_of(app).engine.dispose()
