"""TwilioTransport against a fake Twilio: the real client, real HTTP, the error split of docs/architecture.md."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import ACCOUNT_SID, AUTH_TOKEN, BOARD_NUMBER

from sms_board.plumbing.config import Settings
from sms_board.sending.transport import (
    AmbiguousError,
    ConfigurationError,
    PermanentError,
    TransientError,
    TwilioTransport,
)
from tests.support.fake_twilio import Accept, Drop, FakeTwilio, Hang, HttpError, TwilioError

RESIDENT = "+447700900123"
CALLBACK = "https://board.example.org/sms/status?outbox_id=7"


def settings(tmp_path: Path, **changes: object) -> Settings:
    values: dict[str, object] = {
        "database_url": "sqlite://", "instance_path": tmp_path, "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN, "twilio_from_number": BOARD_NUMBER, "transport": "twilio",
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def transport(fake_twilio: FakeTwilio, tmp_path: Path) -> TwilioTransport:
    return fake_twilio.transport(settings(tmp_path), timeout=0.5)


def test_it_posts_to_from_body_and_status_callback(transport, fake_twilio):
    result = transport.send(RESIDENT, "Bins go out Tuesday", CALLBACK)

    [seen] = fake_twilio.requests
    assert (seen.to, seen.from_, seen.body, seen.status_callback) == (RESIDENT, BOARD_NUMBER, "Bins go out Tuesday", CALLBACK)
    assert seen.account_sid == ACCOUNT_SID
    assert result.provider_sid == seen.sid and result.provider_sid.startswith("SM")
    assert result.status == "queued"


def test_it_sends_from_the_messaging_service_when_one_is_set(fake_twilio, tmp_path):
    service = "MG" + "1" * 32
    transport = fake_twilio.transport(settings(tmp_path, twilio_messaging_service_sid=service))

    transport.send(RESIDENT, "hello")

    [seen] = fake_twilio.requests
    assert (seen.messaging_service_sid, seen.from_, seen.status_callback) == (service, None, None)


@pytest.mark.parametrize("answer", [HttpError(429), TwilioError(20429, status=429), HttpError(500),
                                    TwilioError(20500, status=500), HttpError(503, "<html>Bad gateway</html>")])
def test_it_calls_429_and_5xx_transient(transport, fake_twilio, answer):
    fake_twilio.next(answer)

    with pytest.raises(TransientError) as raised:
        transport.send(RESIDENT, "hello")
    assert raised.value.status == answer.status


def test_it_calls_21610_a_permanent_opt_out(transport, fake_twilio):
    fake_twilio.next(TwilioError(21610, message="Attempt to send to unsubscribed recipient"))

    with pytest.raises(PermanentError) as raised:
        transport.send(RESIDENT, "hello")
    assert raised.value.code == "21610" and raised.value.opted_out and not raised.value.undeliverable
    assert "unsubscribed recipient" in str(raised.value)


@pytest.mark.parametrize("code", [21211, 21614])
def test_it_calls_invalid_and_non_mobile_numbers_undeliverable(transport, fake_twilio, code):
    fake_twilio.next(TwilioError(code))

    with pytest.raises(PermanentError) as raised:
        transport.send(RESIDENT, "hello")
    assert raised.value.undeliverable and not raised.value.opted_out


def test_a_region_permission_error_fails_the_text_but_blames_no_number(transport, fake_twilio):
    fake_twilio.next(TwilioError(21408))

    with pytest.raises(PermanentError) as raised:
        transport.send(RESIDENT, "hello")
    assert not raised.value.undeliverable and not raised.value.opted_out


@pytest.mark.parametrize("answer", [TwilioError(20003, status=401), TwilioError(21212), HttpError(401)])
def test_it_calls_a_refused_account_a_configuration_error(transport, fake_twilio, answer):
    fake_twilio.next(answer)

    with pytest.raises(ConfigurationError):
        transport.send(RESIDENT, "hello")


def test_an_rfc_9457_error_is_classified_like_the_classic_one(transport, fake_twilio):
    fake_twilio.server.clear()  # answer this one with Twilio's newer problem+json shape
    fake_twilio.server.expect_request(fake_twilio.path, method="POST").respond_with_json(
        {"type": "https://www.twilio.com/docs/errors/21610", "title": "Unsubscribed recipient",
         "status": 400, "code": 21610, "detail": "The recipient replied STOP"}, status=400)

    with pytest.raises(PermanentError) as raised:
        transport.send(RESIDENT, "hello")
    assert raised.value.opted_out


def test_a_refused_connection_is_transient_and_nothing_was_sent(tmp_path):
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=TwilioHttpClient(timeout=0.5))
    client.api.base_url = f"http://127.0.0.1:{port}"

    with pytest.raises(TransientError):
        TwilioTransport(settings(tmp_path), client=client).send(RESIDENT, "hello")


def test_a_connection_dropped_after_the_request_is_ambiguous(transport, fake_twilio):
    fake_twilio.next(Drop())

    with pytest.raises(AmbiguousError):
        transport.send(RESIDENT, "hello")
    assert [r.to for r in fake_twilio.requests] == [RESIDENT]  # it did arrive: a retry could double-text


def test_a_read_timeout_after_the_request_left_is_ambiguous(transport, fake_twilio):
    fake_twilio.next(Hang(seconds=1.0))  # the transport waits 0.5 s

    with pytest.raises(AmbiguousError):
        transport.send(RESIDENT, "hello")
    assert len(fake_twilio.requests) == 1


def test_a_slow_answer_within_the_timeout_is_a_send(transport, fake_twilio):
    fake_twilio.next(Accept(latency=0.1))

    assert transport.send(RESIDENT, "hello").provider_sid == fake_twilio.requests[0].sid


def test_twilios_error_message_loses_the_number_it_quotes(transport, fake_twilio):
    fake_twilio.next(TwilioError(21211, message=f"The 'To' number {RESIDENT} is not a valid phone number."))

    with pytest.raises(PermanentError) as raised:
        transport.send(RESIDENT, "hello")
    assert RESIDENT not in str(raised.value) and "+44 7•••• ••123" in str(raised.value)


def test_the_built_in_client_reads_the_proxy_settings_once_and_honours_them(fake_twilio, tmp_path, monkeypatch):
    aimed = settings(tmp_path, twilio_api_url=fake_twilio.base_url)
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    direct = TwilioTransport(aimed, timeout=0.5)
    first = direct.send(RESIDENT, "hello").provider_sid  # the environment is read here, once
    with socket.socket() as probe:  # a proxy nobody runs
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{probe.getsockname()[1]}")
    proxied = TwilioTransport(aimed, timeout=0.5)

    second = direct.send(RESIDENT, "hello").provider_sid
    for _ in range(2):
        with pytest.raises(TransientError):
            proxied.send(RESIDENT, "hello")

    assert [first, second] == [r.sid for r in fake_twilio.requests]



class _KeepAliveTwilio(ThreadingHTTPServer):
    """Twilio's Messages API over HTTP/1.1 keep-alive, as Twilio answers: counts connections and requests.

    (The shared fake's server closes every connection after one answer, so it cannot show reuse.)
    """

    daemon_threads = True
    request_queue_size = 64  # every thread connects at once

    def __init__(self, together: int) -> None:
        super().__init__(("127.0.0.1", 0), _KeepAliveHandler)
        self.connections = self.requests = 0
        self.lock = threading.Lock()
        self.together = threading.Barrier(together, timeout=20)  # answers go once `together` requests are in


class _KeepAliveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _KeepAliveTwilio

    def setup(self) -> None:  # once per TCP connection
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.together.wait()  # every thread's request in flight at once, as under load
        with self.server.lock:
            self.server.requests += 1
            sid = f"SM{self.server.requests:032x}"
        payload = json.dumps({"sid": sid, "status": "queued"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_sender_thread_keeps_one_connection_to_twilio_open_from_text_to_text(tmp_path):
    # More threads than requests' pool of 10 (and than the twilio client's https pool, CPUs + 4).
    threads, each = 14, 5
    server = _KeepAliveTwilio(together=threads)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    transport = TwilioTransport(settings(tmp_path, twilio_api_url=f"http://127.0.0.1:{server.server_address[1]}",
                                         sender_concurrency=threads))
    between = threading.Barrier(threads, timeout=20)  # every thread between two texts at once: all idle
    sids: list[str] = []

    def sender(n: int) -> None:
        for k in range(each):
            between.wait()
            sids.append(transport.send(f"+4477009007{n:02d}", f"text {k}").provider_sid)

    workers = [threading.Thread(target=sender, args=(n,)) for n in range(threads)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    finally:
        server.shutdown()
        server.server_close()

    assert len(set(sids)) == server.requests == threads * each
    # Each thread's later texts went on a connection already open: at most one opened per thread.
    assert server.connections <= threads
