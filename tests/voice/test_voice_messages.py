"""Key 0: a voice message for the organisers, played through the board and deleted at Twilio by FORGET and
retention (the real twilio client against a fake Twilio's Recordings)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from sms_board.app import board_of
from sms_board.models import VoiceMessage
from sms_board.plumbing.utc import utcnow
from sms_board.text import languages
from sms_board.voice.recordings import delete_due
from tests.conftest import ACCOUNT_SID, session_of
from tests.support.web import sign_in
from tests.voice.conftest import SAM, ring_the_board, voice_board

RUTH = "+447700900001"
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00 a voice message"


class FakeRecordings:
    """Twilio's Recordings resource: the audio by sid (`.mp3`), and DELETE (`.json`), as the twilio client asks."""

    def __init__(self, server: HTTPServer) -> None:
        self.kept: dict[str, bytes] = {}
        self.deleted: list[str] = []
        path = re.compile(rf"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/(RE\w+)\.(mp3|json)")
        server.expect_request(path, method="GET").respond_with_handler(self._audio)
        server.expect_request(path, method="DELETE").respond_with_handler(self._delete)

    @staticmethod
    def _sid(request: Request) -> str:
        return request.path.rsplit("/", 1)[1].split(".")[0]

    def _audio(self, request: Request) -> Response:
        sound = self.kept.get(self._sid(request))
        return Response(sound, mimetype="audio/mpeg") if sound else Response("{}", status=404)

    def _delete(self, request: Request) -> Response:
        sid = self._sid(request)
        self.deleted.append(sid)
        return Response("", status=204) if self.kept.pop(sid, None) else Response('{"status": 404}', status=404)


@pytest.fixture
def recordings(httpserver: HTTPServer) -> FakeRecordings:
    return FakeRecordings(httpserver)


@pytest.fixture
def app(db, tmp_path, httpserver):  # type: ignore[no-untyped-def]
    return voice_board(db, tmp_path, SMS_BOARD_TWILIO_API_URL=httpserver.url_for("/").rstrip("/"))


@pytest.fixture
def message(client, areas, runner, phone, recordings):  # type: ignore[no-untyped-def]
    """Sam, of Elm Street, rings the board and leaves the organisers a message."""
    runner("organiser", "add", RUTH, "elm")
    phone(RUTH).text("JOIN ELM")
    phone(SAM).text("JOIN ELM")
    line = ring_the_board(client, SAM)
    prompt = line.press("0")
    record = prompt.element("Record")
    assert record is not None and record.get("maxLength") == "60"
    assert "after the tone" in prompt.words
    recordings.kept["RE" + "1" * 32] = MP3
    said = line.request(record.get("action") or "", RecordingSid="RE" + "1" * 32, RecordingDuration="12",
                        RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE{'1' * 32}")
    assert "organisers will hear your message" in said.words and said.hangs_up
    line.callback(record.get("recordingStatusCallback") or "", RecordingSid="RE" + "1" * 32, RecordingDuration="12",
                 RecordingStatus="completed")
    return line


def test_an_organiser_plays_a_voice_message_through_the_board_never_by_a_twilio_address(app, client, message):
    sign_in(client, RUTH)
    page = client.get("/dashboard/inbox").get_data(as_text=True)
    assert "Voice messages" in page and "+44 7•••• ••123" in page
    assert "twilio.com" not in page and "RE111" not in page
    played = client.get(re.search(r'src="(/dashboard/inbox/voice/\d+\.mp3)"', page).group(1))
    assert played.status_code == 200 and played.data == MP3 and played.mimetype == "audio/mpeg"
    with session_of(app) as session:
        kept = session.scalar(select(VoiceMessage))
        assert kept.duration == 12 and kept.from_number == SAM
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(f"/dashboard/inbox/voice/{kept.id}/dealt-with", data={"csrf_token": token})
    assert "Voice messages" not in client.get("/dashboard/inbox").get_data(as_text=True)
    assert "Voice messages" in client.get("/dashboard/inbox?show=all").get_data(as_text=True)


def test_a_voice_message_counts_in_the_inbox_to_deal_with_until_it_is_dealt_with(app, client, message):
    sign_in(client, RUTH)

    def to_deal_with() -> int:
        found = re.search(r"<strong>(\d+) to deal with</strong>", client.get("/dashboard/inbox").get_data(as_text=True))
        assert found is not None
        return int(found.group(1))

    waiting = to_deal_with()
    with session_of(app) as session:
        kept = session.scalar(select(VoiceMessage))
    page = client.get("/dashboard/inbox").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(f"/dashboard/inbox/voice/{kept.id}/dealt-with", data={"csrf_token": token})

    assert waiting >= 1 and to_deal_with() == waiting - 1


def test_the_overview_card_counts_texts_and_voice_messages_and_says_messages_in_every_language(app, client, message):
    sign_in(client, RUTH)
    waiting = re.search(r"<strong>(\d+) to deal with</strong>", client.get("/dashboard/inbox").get_data(as_text=True))
    card = re.search(r'<div class="figure">(\d+)</div><a href="/dashboard/inbox">([^<]+)</a>',
                     client.get("/dashboard").get_data(as_text=True))
    assert waiting is not None and card is not None
    # The voice message is one of them: the card must not call it a text.
    assert card.group(1) == waiting.group(1) and card.group(2) == "messages in the inbox to deal with"
    for code, words in [("cy", "negeseuon yn y mewnflwch i'w trin"), ("pl", "wiadomości w skrzynce do załatwienia")]:
        assert languages.pack(code).page_translations().gettext("messages in the inbox to deal with") == words


def test_forget_deletes_the_message_at_twilio(app, client, message, phone, recordings):
    phone(SAM).text("FORGET")
    phone(SAM).text("YES")
    board = board_of(app)
    assert delete_due(board.sessions, board.settings, utcnow()) == 1
    assert recordings.deleted == ["RE" + "1" * 32] and not recordings.kept
    with session_of(app) as session:
        gone = session.scalar(select(VoiceMessage))
        assert gone.deleted_at is not None and gone.from_number is None
    sign_in(client, RUTH)
    assert "Voice messages" not in client.get("/dashboard/inbox").get_data(as_text=True)


def test_retention_deletes_old_messages_at_twilio(app, message, recordings):
    board = board_of(app)
    assert delete_due(board.sessions, board.settings, utcnow()) == 0
    later = utcnow() + timedelta(days=board.settings.retention_days + 1)
    assert delete_due(board.sessions, replace(board.settings), later) == 1
    assert recordings.deleted == ["RE" + "1" * 32]


def test_a_withheld_caller_cannot_leave_a_message(client, areas, recordings):
    line = ring_the_board(client, "anonymous")
    line.press("1")
    assert line.press("0").element("Record") is None
