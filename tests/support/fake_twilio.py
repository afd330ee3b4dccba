"""A fake Twilio Messages API on pytest-httpserver, reached by the real twilio client.

    fake = FakeTwilio(httpserver)
    transport = fake.transport(settings)          # TwilioTransport with a real Client
    fake.next(TwilioError(21610), Accept())       # script the next answers, in order
    fake.for_number("+447700900123", Drop())      # or every answer to one number

It answers `POST /2010-04-01/Accounts/{sid}/Messages.json` as Twilio does (201
and a message resource, `sid` "SM…", `status` "queued"), and `…/Calls.json` (201 and a
call resource, `sid` "CA…", the `Url` and callbacks the board gave kept in `params`; a
live call's update, `…/Calls/CA….json`, in `call_updates`), records every request
that reached it, and can refuse (Twilio's error JSON), fail (429, 5xx), be slow,
or drop the connection after reading the request (the ambiguous case).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate

import pytest
from pytest_httpserver import HTTPServer
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from werkzeug import Request, Response

from sms_board.plumbing.config import Settings
from sms_board.sending.transport import TwilioTransport
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN

# ── what the fake can answer ───────────────────────────────────────────────


@dataclass(frozen=True)
class Accept:
    """Twilio takes the message (201, status "queued"), optionally after `latency` seconds."""

    latency: float = 0.0


@dataclass(frozen=True)
class TwilioError:
    """Twilio refuses with its error JSON, e.g. 21610 (unsubscribed recipient)."""

    code: int
    status: int = 400
    message: str = "Twilio refused the message"


@dataclass(frozen=True)
class HttpError:
    """A bare HTTP failure: 429 storms, 500s, a 503 page from a proxy."""

    status: int
    body: str = ""


@dataclass(frozen=True)
class Drop:
    """Read the whole request, then close the connection without answering."""


@dataclass(frozen=True)
class Hang:
    """Read the whole request, then answer only after `seconds` (longer than the client waits)."""

    seconds: float = 1.0


Answer = Accept | TwilioError | HttpError | Drop | Hang


@dataclass
class FakeRequest:
    to: str
    body: str
    from_: str | None
    messaging_service_sid: str | None
    status_callback: str | None
    account_sid: str | None
    answer: Answer
    sid: str | None = None  # the SID the fake answered with, when it accepted
    kind: str = "message"  # or "call"
    params: dict[str, str] = field(default_factory=dict)  # every form field as sent (a call's Url, callbacks)


@dataclass
class FakeTwilio:
    server: HTTPServer
    account_sid: str = ACCOUNT_SID
    requests: list[FakeRequest] = field(default_factory=list)
    _script: deque[Answer] = field(default_factory=deque)
    _by_number: dict[str, Answer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _in_flight: int = 0
    max_in_flight: int = 0
    _released: threading.Event = field(default_factory=threading.Event)
    call_updates: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (call sid, form) of each update

    def __post_init__(self) -> None:
        self.server.expect_request(self.path, method="POST").respond_with_handler(self._handle)
        self.server.expect_request(self.calls_path, method="POST").respond_with_handler(self._handle)
        update = re.compile(rf"/2010-04-01/Accounts/{self.account_sid}/Calls/(CA[0-9a-f]+)\.json")
        self.server.expect_request(update, method="POST").respond_with_handler(self._update_call)

    # scripting

    def next(self, *answers: Answer) -> None:
        """The next requests, whoever they are to, get these answers in order."""
        with self._lock:
            self._script.extend(answers)

    def for_number(self, number: str, answer: Answer) -> None:
        """Every request to `number` gets this answer."""
        with self._lock:
            self._by_number[number] = answer

    # the real client, aimed here

    @property
    def path(self) -> str:
        return f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    @property
    def calls_path(self) -> str:
        return f"/2010-04-01/Accounts/{self.account_sid}/Calls.json"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def client(self, timeout: float = 2.0) -> Client:
        client = Client(self.account_sid, AUTH_TOKEN, http_client=TwilioHttpClient(timeout=timeout))
        client.api.base_url = self.base_url  # how the real client reaches a fake (README: SMS_BOARD_TWILIO_API_URL)
        return client

    def transport(self, settings: Settings, timeout: float = 2.0) -> TwilioTransport:
        return TwilioTransport(settings, client=self.client(timeout))

    # what it saw

    @property
    def accepted(self) -> list[FakeRequest]:
        return [r for r in self.requests if r.sid is not None]

    @property
    def calls(self) -> list[FakeRequest]:
        """The calls it was asked to place (accepted or not)."""
        return [r for r in self.requests if r.kind == "call"]

    @property
    def placed_calls(self) -> list[FakeRequest]:
        return [r for r in self.calls if r.sid is not None]

    def accepted_to(self, number: str) -> list[FakeRequest]:
        return [r for r in self.accepted if r.to == number]

    # the server side

    def close(self) -> None:
        self._released.set()
        self.server.clear()

    def _handle(self, request: Request) -> Response:
        form = request.form
        with self._lock:
            to = form.get("To", "")
            answer = self._by_number.get(to) or (self._script.popleft() if self._script else Accept())
            seen = FakeRequest(
                to=to, body=form.get("Body", ""), from_=form.get("From"),
                messaging_service_sid=form.get("MessagingServiceSid"),
                status_callback=form.get("StatusCallback"),
                account_sid=request.authorization.username if request.authorization else None,
                answer=answer, kind="call" if request.path == self.calls_path else "message",
                params=form.to_dict(flat=True),
            )
            self.requests.append(seen)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            return self._answer(request, seen, answer)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(self, request: Request, seen: FakeRequest, answer: Answer) -> Response:
        if isinstance(answer, Drop):
            request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            return Response("", status=200)
        if isinstance(answer, Hang):
            self._released.wait(answer.seconds)  # let go at teardown: the server answers one at a time
            return Response("", status=200)
        if isinstance(answer, HttpError):
            return Response(answer.body, status=answer.status, mimetype="text/html")
        if isinstance(answer, TwilioError):
            document = {
                "code": answer.code, "message": answer.message, "status": answer.status,
                "more_info": f"https://www.twilio.com/docs/errors/{answer.code}",
            }
            return Response(json.dumps(document), status=answer.status, mimetype="application/json")
        if answer.latency:
            time.sleep(answer.latency)
        if seen.kind == "call":
            seen.sid = "CA" + uuid.uuid4().hex
            return Response(json.dumps(self._call(seen, "queued")), status=201, mimetype="application/json")
        seen.sid = "SM" + uuid.uuid4().hex
        return Response(json.dumps(self._message(seen)), status=201, mimetype="application/json")

    def _update_call(self, request: Request) -> Response:
        sid = request.path.rsplit("/", 1)[-1].removesuffix(".json")
        with self._lock:
            self.call_updates.append((sid, request.form.to_dict(flat=True)))
            placed = next((r for r in self.placed_calls if r.sid == sid), None)
        if placed is None:
            document = {"code": 20404, "message": f"The requested resource {request.path} was not found",
                        "status": 404, "more_info": "https://www.twilio.com/docs/errors/20404"}
            return Response(json.dumps(document), status=404, mimetype="application/json")
        return Response(json.dumps(self._call(placed, "in-progress")), status=200, mimetype="application/json")

    def _call(self, seen: FakeRequest, status: str) -> dict[str, object]:
        now = formatdate(usegmt=True)
        return {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "sid": seen.sid, "status": status,
            "to": seen.to, "from": seen.from_, "direction": "outbound-api", "answered_by": None, "duration": None,
            "date_created": now, "date_updated": now, "start_time": None, "end_time": None, "price": None,
            "price_unit": "USD", "parent_call_sid": None, "phone_number_sid": None, "caller_name": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{seen.sid}.json",
        }

    def _message(self, seen: FakeRequest) -> dict[str, object]:
        now = formatdate(usegmt=True)
        return {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "body": seen.body,
            "date_created": now, "date_updated": now, "date_sent": None, "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": seen.from_,
            "messaging_service_sid": seen.messaging_service_sid, "num_media": "0", "num_segments": "1",
            "price": None, "price_unit": "USD", "sid": seen.sid, "status": "queued", "to": seen.to,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{seen.sid}.json",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{seen.sid}/Media.json"},
        }


@pytest.fixture
def fake_twilio(httpserver: HTTPServer) -> Iterator[FakeTwilio]:
    """A fake Twilio on the shared test HTTP server (one request at a time)."""
    fake = FakeTwilio(httpserver)
    yield fake
    fake.close()


@pytest.fixture
def threaded_fake_twilio() -> Iterator[FakeTwilio]:
    """A fake Twilio that answers requests side by side, to see concurrency."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    fake = FakeTwilio(server)
    try:
        yield fake
    finally:
        fake.close()
        server.stop()
