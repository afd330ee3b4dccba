"""Real processes for the fault suite: the fake Twilio, gunicorn with the web app, `sms-board send`.

Every process runs in a session (process group) of its own, writes its output to a
log file in the test's temporary directory, and is registered here, so a test that
fails or times out still leaves nothing running: fixtures stop what they started,
and whatever is left when pytest exits is killed (`kill_everything`).

Nothing here listens on or talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.request import ProxyHandler, Request, build_opener

import requests
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the virtualenv running pytest: .venv/bin
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "faults-auth-token-0123456789abcdef"
BOARD_NUMBER = "+447700900000"
LOOPBACK = "127.0.0.1"

_live: set[Proc] = set()
_direct = requests.Session()
_direct.trust_env = False  # loopback only: never through a proxy from the environment
_live_lock = threading.Lock()


def drama_number(n: int) -> str:
    """Ofcom's drama range only (+44 7700 900001 … 900999): no real phone is ever texted."""
    if not 1 <= n <= 999:
        raise ValueError(f"only 999 drama numbers exist; asked for #{n}")
    return f"+447700900{n:03d}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll `condition` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(every)


# ── processes ──────────────────────────────────────────────────────────────


class Proc:
    """One child process in its own process group, output to `log`."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path,
                 stdout: int | None = None, cwd: Path = ROOT) -> None:
        self.name = name
        self.argv = argv
        self.log = log_dir / f"{name}-{uuid.uuid4().hex[:6]}.log"
        self._log_file = self.log.open("wb")
        self.popen = subprocess.Popen(
            argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
            stdout=stdout if stdout is not None else self._log_file,
            stderr=self._log_file, start_new_session=True, preexec_fn=_die_with_parent,
        )
        with _live_lock:
            _live.add(self)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group, at once, and reap it."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)
        self._forget()

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL if it has not gone after `timeout` seconds; returns the exit code."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self.kill()
        return self.popen.returncode

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            text = self.log.read_text(errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""

    def _forget(self) -> None:
        with _live_lock:
            _live.discard(self)
        with contextlib.suppress(OSError):
            self._log_file.close()


def _die_with_parent() -> None:
    """In the child: SIGKILL when pytest dies, however it dies (Linux `PR_SET_PDEATHSIG`)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def kill_everything() -> int:
    """Kill every process this module started that is still registered; returns how many."""
    with _live_lock:
        left = list(_live)
    for proc in left:
        proc.kill()
    return len(left)


atexit.register(kill_everything)


# ── the environment a board process gets ──────────────────────────────────


def database_url(base_url: str, schema: str, application_name: str) -> str:
    """The test's PostgreSQL URL with our schema first on the search path and a name in pg_stat_activity."""
    url = make_url(base_url)
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    if url.host not in {LOOPBACK, "localhost", "::1", None}:
        raise RuntimeError(f"the fault suite only ever uses a PostgreSQL on this machine, not {url.host!r}")
    url = url.update_query_dict({
        "options": f"-csearch_path={schema}", "application_name": application_name[:63], "connect_timeout": "5",
    })
    return url.render_as_string(hide_password=False)


def board_env(database: str, instance: Path, public_url: str, **settings: str) -> dict[str, str]:
    """A whole environment for a board process: nothing leaks in from the developer's shell."""
    env = {
        "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", str(instance)),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        # The code of this checkout, whichever checkout the virtualenv was installed from (a worktree's).
        "PYTHONPATH": str(ROOT),
        "NO_PROXY": "127.0.0.1,localhost",
        "DATABASE_URL": database,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": BOARD_NUMBER,
        "SMS_BOARD_TRANSPORT": "twilio",
        "SMS_BOARD_PUBLIC_URL": public_url,
        # The suite runs on the real clock at any hour: nothing it queues is held for quiet or call hours.
        "SMS_BOARD_QUIET_HOURS": "",
        "SMS_BOARD_CALL_HOURS": "",
        "SMS_BOARD_INSTANCE_PATH": str(instance),
        "SECRET_KEY": "faults-secret-key",
        "SMS_BOARD_SUPPRESSION_KEY": "faults-suppression-key-0123456789abcdef",
        "SMS_BOARD_LOG_LEVEL": "WARNING",
    }
    env.update(settings)
    return env


# ── the fake Twilio, in its own process ────────────────────────────────────


class FakeTwilioProcess:
    """`python -m tests.faults.fake_twilio_server`, started and driven over its control port."""

    def __init__(self, log_dir: Path, seed: int) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONUNBUFFERED": "1", "LANG": "C.UTF-8"}
        self.proc = Proc("fake-twilio", [sys.executable, "-m", "tests.faults.fake_twilio_server",
                                         "--port", "0", "--control-port", "0", "--seed", str(seed)],
                         env, log_dir, stdout=subprocess.PIPE)
        ready, _, _ = select.select([self.proc.popen.stdout], [], [], 20)
        if not ready:
            self.proc.kill()
            raise RuntimeError(f"the fake Twilio did not start: {self.proc.tail()}")
        assert self.proc.popen.stdout is not None
        first = json.loads(self.proc.popen.stdout.readline())
        self.api_port, self.control_port = int(first["api_port"]), int(first["control_port"])
        self._opener = build_opener(ProxyHandler({}))

    @property
    def api_url(self) -> str:
        return f"http://{LOOPBACK}:{self.api_port}"

    def _call(self, method: str, path: str, document: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(document).encode() if document is not None else None
        request = Request(f"http://{LOOPBACK}:{self.control_port}{path}", data=data, method=method,
                          headers={"Content-Type": "application/json"})
        with self._opener.open(request, timeout=10) as response:
            return json.loads(response.read())

    def script(self, **change: Any) -> None:
        """E.g. `script(mix={"429": .2, "500": .1}, numbers={"+447700900123": "21610"}, seed=7)`."""
        self._call("POST", "/script", change)

    def mode(self, mode: str) -> None:
        """"up", "refuse" (connections refused) or "503"."""
        self._call("POST", "/mode", {"mode": mode})

    def reset(self) -> None:
        self._call("POST", "/reset", {})

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/requests?since={since}")["requests"])

    def stats(self) -> dict[str, Any]:
        answer = self._call("GET", "/requests?since=1000000000")
        return {"requests": answer["next"], "max_in_flight": answer["max_in_flight"], "in_flight": answer["in_flight"]}

    def count(self) -> int:
        return int(self.stats()["requests"])

    def stop(self) -> None:
        self.proc.kill()


# ── the web app under gunicorn ─────────────────────────────────────────────


class Gunicorn:
    """`gunicorn --workers 2 --threads 4 --bind 127.0.0.1:<port> 'sms_board.wsgi:create_app()'`.

    Two workers with four threads each, as the Procfile's `web`; the master respawns a
    worker that dies, as in production.
    """

    def __init__(self, env_for: Callable[[str], dict[str, str]], log_dir: Path, workers: int = 2,
                 threads: int = 4) -> None:
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.env = env_for(self.url)
        self.workers_wanted = workers
        self.proc = Proc("gunicorn", [
            str(BIN / "gunicorn"), "--workers", str(workers), "--threads", str(threads),
            "--bind", f"{LOOPBACK}:{self.port}", "--timeout", "30", "--graceful-timeout", "2",
            "--log-level", "warning", "sms_board.wsgi:create_app()",
        ], self.env, log_dir)
        try:
            wait_for(self._healthy, 40, "gunicorn to answer /healthz", every=0.1)
            wait_for(lambda: len(self.workers()) == workers, 20, "both gunicorn workers", every=0.1)
        except TimeoutError:
            log = self.proc.tail()
            self.stop()
            raise RuntimeError(f"gunicorn did not start:\n{log}") from None

    def _healthy(self) -> bool:
        if not self.proc.alive():
            raise RuntimeError(f"gunicorn exited ({self.proc.popen.returncode}):\n{self.proc.tail()}")
        try:
            return _direct.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def workers(self) -> list[int]:
        """The master's live worker processes."""
        try:
            found = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in found]

    def worker_of_port(self, port: int) -> int | None:
        """The worker holding a TCP connection from local `port` (a database connection, seen by the server)."""
        for pid in self.workers():
            if port in local_ports(pid):
                return pid
        return None

    def kill_worker(self, pid: int) -> bool:
        try:
            os.kill(pid, signal.SIGKILL)
            return True
        except ProcessLookupError:
            return False

    def stop(self) -> None:
        self.proc.stop(timeout=5)


def local_ports(pid: int) -> set[int]:
    """Local TCP ports of a process's sockets (from /proc: its fds' socket inodes, matched in /proc/net/tcp*)."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


# ── the sender: `sms-board send --forever` ────────────────────────────────


class Sender:
    def __init__(self, env: dict[str, str], log_dir: Path, name: str = "sender") -> None:
        self.env = env
        self.log_dir = log_dir
        self.name = name
        self.proc: Proc | None = None
        self.starts = 0

    def start(self) -> Sender:
        self.proc = Proc(self.name, [str(BIN / "sms-board"), "send", "--forever", "--poll", "0.2"],
                         self.env, self.log_dir)
        self.starts += 1
        return self

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(timeout=15)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.alive()

    def tail(self, lines: int = 30) -> str:
        return self.proc.tail(lines) if self.proc else ""


def run_cli(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`sms-board ARGS…` as a script would run it."""
    return subprocess.run([str(BIN / "sms-board"), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)


# ── Twilio's side of the webhooks ──────────────────────────────────────────


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def text_params(from_: str, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
    """What Twilio posts to `/sms/inbound` for one text."""
    return {
        "MessageSid": sid or f"SM{uuid.uuid4().hex}", "SmsSid": sid or "", "AccountSid": ACCOUNT_SID,
        "From": from_, "To": BOARD_NUMBER, "Body": body, "NumMedia": "0", "NumSegments": "1",
        "SmsStatus": "received", "ApiVersion": "2010-04-01", **extra,
    }


class Twilio:
    """Posts signed webhooks to the board the way Twilio does (the real `RequestValidator`)."""

    def __init__(self, base_url: str, token: str = AUTH_TOKEN) -> None:
        self.base_url = base_url
        self.token = token
        self._local = threading.local()

    @property
    def http(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            session = requests.Session()
            session.trust_env = False  # never through a proxy
            self._local.session = session
        return self._local.session

    def post(self, path: str, params: dict[str, str], *, signature: str | None = None,
             signed_url: str | None = None, timeout: float = 15.0, **kwargs: Any) -> requests.Response:
        if signature is None:
            signature = sign(signed_url or self.base_url + path, params, self.token)
        headers = {"X-Twilio-Signature": signature} if signature else {}
        return self.http.post(self.base_url + path, data=params, headers=headers, timeout=timeout, **kwargs)

    def text(self, params: dict[str, str], timeout: float = 15.0) -> requests.Response:
        return self.post("/sms/inbound", params, timeout=timeout)


def twiml_messages(xml: bytes) -> list[str]:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xml)
    assert root.tag == "Response", xml[:200]
    return [message.text or "" for message in root.iter("Message")]


def terminate_backends(engine: Any, application_names: Iterable[str]) -> int:
    """`pg_terminate_backend` on every connection with one of these application names; returns how many."""
    from sqlalchemy import text

    names = list(application_names)
    with engine.begin() as connection:
        return int(connection.execute(text(
            "SELECT count(*) FILTER (WHERE killed) FROM (SELECT pg_terminate_backend(pid) AS killed "
            "FROM pg_stat_activity WHERE application_name = ANY(:names) AND pid <> pg_backend_pid()) AS t"
        ), {"names": names}).scalar() or 0)


def backends_of(engine: Any, application_names: Iterable[str]) -> int:
    """How many connections with one of these application names PostgreSQL has open now."""
    from sqlalchemy import text

    with engine.begin() as connection:
        return int(connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = ANY(:names) AND pid <> pg_backend_pid()"
        ), {"names": list(application_names)}).scalar() or 0)
