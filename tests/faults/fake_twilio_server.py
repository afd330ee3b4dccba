"""A fake Twilio Messages API that runs as its own process, scriptable while it runs.

    python -m tests.faults.fake_twilio_server --port 0 --control-port 0 [--seed N]

prints one JSON line, `{"api_port": …, "control_port": …, "pid": …}`, then serves
until killed. Loopback only; standard library only, so it starts in a blink and
shares nothing with the board it is faking for.

The API port answers `POST /2010-04-01/Accounts/{sid}/Messages.json` as Twilio
does: 201 and a message resource (`sid` "SM…", `status` "queued"), and `…/Calls.json`
with a call resource (`sid` "CA…"), or Twilio's
error JSON `{"code", "message", "status", "more_info"}`, which the real twilio
client raises as `TwilioRestException`. One thread per request (several sender
threads call it at once); one request per connection (HTTP/1.0), so "refusing
connections" means exactly that for every send.

Every request that reached it is recorded, with `time.monotonic()` and
`time.time()` of its arrival (the second is comparable with the board's
`received_at`, both on this machine's clock) and the outbox id read from its
`StatusCallback` URL. A request whose body never fully arrived (its sender was
killed while writing it) is logged with the answer `incomplete`: Twilio makes no
message of it.

The control port (JSON):

    GET  /requests[?since=N]  what reached the API port, oldest first, and the next index
    POST /script              change the answers: {"mix": {"accept": .65, "429": .2, "500": .1,
                              "drop": .025, "hang": .025}, "numbers": {"+447700900123": "21610"},
                              "next": ["500", "accept"], "seed": 7, "latency": [0, .02],
                              "hang_seconds": 12}; keys left out stay as they were
    POST /mode                {"mode": "up" | "refuse" | "503"}: "refuse" closes the API
                              port's listening socket (connections are refused), "up" opens it again
    POST /reset               forget the log and the script, let hung requests go
    GET  /health              {"ok": true, "mode": …}

Answers: `accept` (201), `429` (Twilio 20429), `500` (Twilio 20500), `503`, `21610`
(400, unsubscribed recipient), `21211` (400, invalid 'To' number), `21614` (400, not
a mobile), `20003` (401), `drop` (read the whole request, then close the connection
without a word: the ambiguous case), `hang` (read it, then say nothing for
`hang_seconds`, longer than the client waits, and close). Which answer a request gets:
its number's answer if scripted, else the next scripted answer, else a draw from the
mix. The draw is seeded by (seed, outbox id, how many times that row was seen), so
a replayed run gives each row the same answers whatever order threads arrive in.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import socket
import sys
import threading
import time
import uuid
from collections import deque
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ANSWERS = ("accept", "429", "500", "503", "21610", "21211", "21614", "20003", "drop", "hang")
_ERRORS: dict[str, tuple[int, int, str]] = {  # answer → (HTTP status, Twilio code, message)
    "429": (429, 20429, "Too Many Requests"),
    "500": (500, 20500, "Internal Server Error"),
    "503": (503, 20503, "Service Unavailable"),
    "21610": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "21211": (400, 21211, "The 'To' number is not a valid phone number."),
    "21614": (400, 21614, "'To' number is not a valid mobile number"),
    "20003": (401, 20003, "Authenticate"),
}


class FakeTwilio:
    """The state both ports share: the script, the mode and the request log."""

    def __init__(self, seed: int) -> None:
        self.lock = threading.Lock()
        self.seed = seed
        self.mix: dict[str, float] = {}
        self.numbers: dict[str, str] = {}
        self.next: deque[str] = deque()
        self.latency: tuple[float, float] = (0.0, 0.0)
        self.hang_seconds = 12.0
        self.mode = "up"
        self.log: list[dict[str, Any]] = []
        self.seen_rows: dict[str, int] = {}
        self.release = threading.Event()
        self.in_flight = 0
        self.max_in_flight = 0

    def script(self, change: dict[str, Any]) -> None:
        with self.lock:
            if "seed" in change:
                self.seed = int(change["seed"])
            if "mix" in change:
                mix = {str(k): float(v) for k, v in (change["mix"] or {}).items()}
                unknown = set(mix) - set(ANSWERS)
                if unknown:
                    raise ValueError(f"unknown answers in mix: {sorted(unknown)}")
                self.mix = mix
            if "numbers" in change:
                self.numbers = {str(k): str(v) for k, v in (change["numbers"] or {}).items()}
            if "next" in change:
                self.next = deque(str(a) for a in change["next"] or [])
            if "latency" in change:
                low, high = change["latency"] if isinstance(change["latency"], list) else (change["latency"],) * 2
                self.latency = (float(low), float(high))
            if "hang_seconds" in change:
                self.hang_seconds = float(change["hang_seconds"])

    def reset(self) -> None:
        with self.lock:
            self.mix, self.numbers, self.next = {}, {}, deque()
            self.latency, self.log, self.seen_rows = (0.0, 0.0), [], {}
            self.max_in_flight = 0
            self.release.set()
            self.release = threading.Event()

    def choose(self, to: str, outbox_id: str | None) -> tuple[str, int, threading.Event]:
        """The answer for one request, its index in the log, and the event that ends a hang."""
        with self.lock:
            key = outbox_id if outbox_id is not None else f"to:{to}"
            nth = self.seen_rows.get(key, 0)
            self.seen_rows[key] = nth + 1
            if self.mode == "503":
                answer = "503"
            elif to in self.numbers:
                answer = self.numbers[to]
            elif self.next:
                answer = self.next.popleft()
            else:
                answer = self._draw(key, nth)
            return answer, nth, self.release

    def _draw(self, key: str, nth: int) -> str:
        if not self.mix:
            return "accept"
        roll = random.Random(f"{self.seed}:{key}:{nth}").random()
        for answer, share in self.mix.items():
            if roll < share:
                return answer
            roll -= share
        return "accept"

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            entry["index"] = len(self.log)
            self.log.append(entry)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return entry

    def finished(self, entry: dict[str, Any], **outcome: Any) -> None:
        with self.lock:
            entry.update(outcome, done_mono=time.monotonic())
            self.in_flight -= 1

    def requests_since(self, since: int) -> dict[str, Any]:
        with self.lock:
            return {"requests": [dict(e) for e in self.log[since:]], "next": len(self.log),
                    "max_in_flight": self.max_in_flight, "in_flight": self.in_flight}


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, port: int, fake: FakeTwilio) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", port), ApiHandler)


class ApiHandler(BaseHTTPRequestHandler):
    server: ApiServer
    protocol_version = "HTTP/1.0"  # one request per connection: refusing connections refuses every send

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        arrived_mono, arrived_wall = time.monotonic(), time.time()
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        if len(data) < length:
            # The sender died mid-request: Twilio never makes a message of half a request.
            fake.finished(fake.record({"t_mono": arrived_mono, "t_wall": arrived_wall, "to": None,
                                       "outbox_id": None, "answer": "incomplete", "sid": None,
                                       "bytes": len(data), "expected_bytes": length}))
            self.close_connection = True
            return
        form = {k: v[0] for k, v in parse_qs(data.decode("utf-8", "replace"), keep_blank_values=True).items()}
        parts = self.path.split("/")
        # /2010-04-01/Accounts/{sid}/Messages.json, or …/Calls.json for a call the board places
        if len(parts) != 5 or parts[1] != "2010-04-01" or parts[2] != "Accounts" or \
                parts[4] not in ("Messages.json", "Calls.json"):
            self._json(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
            return
        account_sid = parts[3]
        callback = form.get("StatusCallback")
        outbox_id = None
        if callback:
            outbox_id = (parse_qs(urlsplit(callback).query).get("outbox_id") or [None])[0]
        to = form.get("To", "")
        answer, nth, release = fake.choose(to, outbox_id)
        entry = fake.record({
            "t_mono": arrived_mono, "t_wall": arrived_wall, "to": to, "from": form.get("From"),
            "body": form.get("Body", ""), "messaging_service_sid": form.get("MessagingServiceSid"),
            "status_callback": callback, "outbox_id": int(outbox_id) if outbox_id and outbox_id.isdigit() else None,
            "account_sid": account_sid, "answer": answer, "attempt": nth + 1, "sid": None,
            "thread": threading.current_thread().name, "kind": "call" if parts[4] == "Calls.json" else "message",
        })
        try:
            self._answer(fake, entry, answer, release, account_sid, form)
        finally:
            fake.finished(entry)

    def _answer(self, fake: FakeTwilio, entry: dict[str, Any], answer: str, release: threading.Event,
                account_sid: str, form: dict[str, str]) -> None:
        if answer == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if answer == "hang":
            release.wait(fake.hang_seconds)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if answer in _ERRORS:
            status, code, message = _ERRORS[answer]
            self._json(status, {"code": code, "message": message, "status": status,
                                "more_info": f"https://www.twilio.com/docs/errors/{code}"})
            return
        low, high = fake.latency
        if high > 0:
            time.sleep(random.uniform(low, high))
        now = formatdate(usegmt=True)
        if entry.get("kind") == "call":
            sid = entry["sid"] = "CA" + uuid.uuid4().hex
            self._json(201, {
                "account_sid": account_sid, "api_version": "2010-04-01", "sid": sid, "status": "queued",
                "to": form.get("To", ""), "from": form.get("From"), "direction": "outbound-api",
                "date_created": now, "date_updated": now, "answered_by": None, "duration": None,
                "uri": f"/2010-04-01/Accounts/{account_sid}/Calls/{sid}.json",
            })
            return
        sid = "SM" + uuid.uuid4().hex
        entry["sid"] = sid
        self._json(201, {
            "account_sid": account_sid, "api_version": "2010-04-01", "body": form.get("Body", ""),
            "date_created": now, "date_updated": now, "date_sent": None, "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"), "num_media": "0", "num_segments": "1",
            "price": None, "price_unit": "USD", "sid": sid, "status": "queued", "to": form.get("To", ""),
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media.json"},
        })

    def _json(self, status: int, document: dict[str, Any]) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class Api:
    """The API port, which can stop listening (connections refused) and listen again on the same port."""

    def __init__(self, fake: FakeTwilio, port: int) -> None:
        self.fake = fake
        self.lock = threading.Lock()
        self.server: ApiServer | None = None
        self.port = port
        self.up()

    def up(self) -> None:
        with self.lock:
            if self.server is not None:
                return
            self.server = ApiServer(self.port, self.fake)
            self.port = self.server.server_address[1]
            threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                             name="api", daemon=True).start()

    def refuse(self) -> None:
        with self.lock:
            if self.server is None:
                return
            server, self.server = self.server, None
            server.shutdown()
            # Connections the kernel already took are Twilio's: serve them, then stop listening,
            # so that from now on connections are refused and none is reset half-way.
            server.socket.setblocking(False)
            while True:
                try:
                    connection, address = server.socket.accept()
                except (BlockingIOError, InterruptedError):
                    break
                connection.setblocking(True)
                server.process_request(connection, address)
            server.server_close()


class ControlServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, fake: FakeTwilio, api: Api) -> None:
        self.fake = fake
        self.api = api
        super().__init__(("127.0.0.1", port), ControlHandler)


class ControlHandler(BaseHTTPRequestHandler):
    server: ControlServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        fake = self.server.fake
        if url.path == "/requests":
            since = int((parse_qs(url.query).get("since") or ["0"])[0])
            self._json(200, fake.requests_since(since))
        elif url.path == "/health":
            self._json(200, {"ok": True, "mode": fake.mode, "api_port": self.server.api.port})
        else:
            self._json(404, {"error": "no such control"})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        fake, api = self.server.fake, self.server.api
        length = int(self.headers.get("Content-Length") or 0)
        try:
            change = json.loads(self.rfile.read(length) or b"{}")
            if url.path == "/script":
                fake.script(change)
            elif url.path == "/reset":
                fake.reset()
            elif url.path == "/mode":
                mode = change.get("mode")
                if mode == "refuse":
                    api.refuse()
                elif mode in {"up", "503"}:
                    api.up()
                else:
                    raise ValueError(f"unknown mode {mode!r}")
                with fake.lock:
                    fake.mode = mode
            else:
                self._json(404, {"error": "no such control"})
                return
        except (ValueError, TypeError) as exc:
            self._json(400, {"error": str(exc)})
            return
        self._json(200, {"ok": True, "mode": fake.mode})

    def _json(self, status: int, document: dict[str, Any]) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="API port (0: any free port)")
    parser.add_argument("--control-port", type=int, default=0, help="control port (0: any free port)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the answer mix")
    args = parser.parse_args(argv)
    fake = FakeTwilio(args.seed)
    api = Api(fake, args.port)
    control = ControlServer(args.control_port, fake, api)
    print(json.dumps({"api_port": api.port, "control_port": control.server_address[1], "pid": os.getpid()}), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        control.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    sys.exit(main())
