"""Transports: the only code that hands a text to the outside world.

Each has one `send()`; failures are split the way a sender must treat them:
`TransientError` (try again later), `PermanentError` (never retry this row),
`AmbiguousError` (the request may have reached Twilio: never retry blindly) and
`ConfigurationError` (no row can be sent until an operator fixes the account).
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TextIO
from urllib.parse import urlsplit

from sms_board.models import OutboxStatus
from sms_board.plumbing.config import Settings
from sms_board.text.phone import mask, mask_numbers

log = logging.getLogger(__name__)

OPTED_OUT_CODES = {"21610"}  # "Attempt to send to unsubscribed recipient"
UNDELIVERABLE_CODES = {"21211", "21614"}  # invalid 'To' number / not a mobile number
# The account, not the recipient, is wrong: failing each row would burn the whole
# outbox on one bad setting. 20003 authentication, 20005 account not active,
# 21212 invalid 'From' number, 21660 'From' number not in this account.
ACCOUNT_CODES = {"20003", "20005", "21212", "21660"}


def opted_out_code(code: str | None) -> bool:
    return code in OPTED_OUT_CODES


def undeliverable_code(code: str | None) -> bool:
    return code in UNDELIVERABLE_CODES


# Twilio's message statuses, in the outbox's words. Twilio's `queued` means "Twilio has it":
# that is our `sent`, never our `queued` (which would make the sender send it again).
TWILIO_STATUSES = {
    "accepted": OutboxStatus.SENT,
    "scheduled": OutboxStatus.SENT,
    "queued": OutboxStatus.SENT,
    "sending": OutboxStatus.SENT,
    "sent": OutboxStatus.SENT,
    "delivered": OutboxStatus.DELIVERED,
    "read": OutboxStatus.DELIVERED,
    "undelivered": OutboxStatus.UNDELIVERED,
    "failed": OutboxStatus.FAILED,
}
# Outbox ids are PostgreSQL integers: anything larger names no row (and must not reach the database).
_MAX_ROW_ID = 2**31 - 1
_NO_ROW = 0  # a malformed or out-of-range outbox_id: it names no row, so nothing changes


@dataclass(frozen=True)
class ProviderReport:
    """One delivery status callback, read: which row, Twilio's word for it, and ours."""

    outbox_id: int | None
    message_sid: str | None
    raw_status: str
    status: OutboxStatus | None  # None: a word that means nothing to the outbox
    error_code: str | None

    @classmethod
    def from_callback(cls, args: Mapping[str, str], form: Mapping[str, str]) -> ProviderReport:
        raw = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
        return cls(
            outbox_id=_row_id(args.get("outbox_id")),
            message_sid=(form.get("MessageSid") or form.get("SmsSid") or None),
            raw_status=raw,
            status=TWILIO_STATUSES.get(raw),
            error_code=form.get("ErrorCode") or None,
        )


def _row_id(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit():
        return _NO_ROW
    value = int(raw)
    return value if value <= _MAX_ROW_ID else _NO_ROW


class TransportError(Exception):
    def __init__(self, message: str, code: str | None = None, status: int | None = None) -> None:
        # Twilio's messages quote the number ("The 'To' number +44… is not valid"): they end up in logs.
        super().__init__(mask_numbers(message))
        self.code = code
        self.status = status


class TransientError(TransportError):
    """Not sent; safe to try again after a pause (429, 5xx, connection refused)."""


class PermanentError(TransportError):
    """Will never succeed for this row (opted out, invalid number, bad request)."""

    @property
    def opted_out(self) -> bool:
        return self.code in OPTED_OUT_CODES

    @property
    def undeliverable(self) -> bool:
        return self.code in UNDELIVERABLE_CODES


class AmbiguousError(TransportError):
    """The request may have been sent (a timeout after it left): the row becomes `unknown`."""


class ConfigurationError(TransportError):
    """Twilio refuses the account or sender itself: stop sending and tell the operator."""


@dataclass(frozen=True)
class SendResult:
    provider_sid: str
    status: str  # the provider's status at hand-over: queued, accepted, sent


@dataclass(frozen=True)
class CallRequest:
    """What Twilio needs to place a call: where to fetch its TwiML and where to report how it went."""

    url: str  # the board's TwiML for the call (`/voice/call/<outbox id>`)
    status_callback: str | None  # `/voice/status`: how the call ended
    machine_callback: str | None  # `/voice/machine`: asynchronous answering-machine detection's verdict
    machine_detection: bool = True  # a bridged call's key press is its proof of a human instead


class Transport(Protocol):
    name: str

    def send(self, to: str, body: str, status_callback: str | None = None) -> SendResult: ...

    def place_call(self, to: str, call: CallRequest) -> SendResult: ...

    def update_call(self, call_sid: str, twiml: str) -> None: ...


class ConsoleTransport:
    """Prints each text and reports it sent: the board runs with no account and no server."""

    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, to: str, body: str, status_callback: str | None = None) -> SendResult:
        stream = self.stream or sys.stderr
        print(f"── SMS to {mask(to)} ──\n{body}\n", file=stream, flush=True)
        return SendResult(provider_sid=f"console-{uuid.uuid4().hex}", status="sent")

    def place_call(self, to: str, call: CallRequest) -> SendResult:
        stream = self.stream or sys.stderr
        print(f"── call to {mask(to)} ──\nscript: {call.url}\n", file=stream, flush=True)
        return SendResult(provider_sid=f"console-call-{uuid.uuid4().hex}", status="queued")

    def update_call(self, call_sid: str, twiml: str) -> None:
        print(f"── call {call_sid} now hears ──\n{twiml}\n", file=self.stream or sys.stderr, flush=True)


class TwilioTransport:
    """Sends through Twilio's official REST client (`client.messages.create`)."""

    name = "twilio"

    def __init__(self, settings: Settings, client: object | None = None, timeout: float = 10.0) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.from_number = settings.twilio_from_number
        self.messaging_service_sid = settings.twilio_messaging_service_sid
        # The client logs every request's headers at INFO: at 10 texts a second that drowns the worker's log.
        quiet = logging.getLogger(f"{__name__}.twilio_http")
        quiet.setLevel(logging.WARNING)
        if client is None:
            http = TwilioHttpClient(timeout=timeout, logger=quiet)
            if http.session is not None:
                keep_alive(http.session, settings.sender_concurrency)
                http.session.merge_environment_settings = _environment_read_once(  # type: ignore[method-assign]
                    http.session.merge_environment_settings)
            client = aim(Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http), settings)
        self.client = client

    def send(self, to: str, body: str, status_callback: str | None = None) -> SendResult:

        kwargs: dict[str, str] = {"to": to, "body": body}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number or ""
        if status_callback:
            kwargs["status_callback"] = status_callback
        return _through_twilio(lambda: self.client.messages.create(**kwargs))  # type: ignore[attr-defined]

    def place_call(self, to: str, call: CallRequest) -> SendResult:
        """`calls.create` from the board's own number, asking for asynchronous answering-machine detection."""
        kwargs: dict[str, Any] = {"to": to, "from_": self.from_number or "", "url": call.url}
        if call.machine_detection:
            kwargs["machine_detection"] = "DetectMessageEnd"
        if call.status_callback:
            kwargs.update(status_callback=call.status_callback,
                          status_callback_event=["initiated", "ringing", "answered", "completed"])
        if call.machine_callback:
            kwargs.update(async_amd="true", async_amd_status_callback=call.machine_callback)
        return _through_twilio(lambda: self.client.calls.create(**kwargs))  # type: ignore[attr-defined]

    def update_call(self, call_sid: str, twiml: str) -> None:
        """Give a live call new TwiML (a machine answered: it hears the short message instead)."""
        _through_twilio(lambda: self.client.calls(call_sid).update(twiml=twiml))  # type: ignore[attr-defined]


def _through_twilio(create: Callable[[], Any]) -> SendResult:
    """Make one create request to Twilio; its failures as the four kinds the sender tells apart."""
    import requests
    from twilio.base.exceptions import TwilioRestException, TwilioServiceException

    try:
        created = create()
    except TwilioRestException as exc:
        raise classify_refusal(exc.msg, exc.code, exc.status) from None
    except TwilioServiceException as exc:  # the RFC 9457 error shape some Twilio APIs answer with
        raise classify_refusal(exc.detail or exc.title, exc.code, exc.status) from None
    except requests.exceptions.ConnectTimeout as exc:
        raise TransientError(f"could not connect to Twilio: {exc.__class__.__name__}") from None
    except requests.exceptions.Timeout as exc:
        raise AmbiguousError(f"no answer from Twilio after sending: {exc.__class__.__name__}") from None
    except requests.exceptions.ConnectionError as exc:
        if _never_connected(exc):
            raise TransientError(f"could not connect to Twilio: {exc.__class__.__name__}") from None
        raise AmbiguousError(f"connection to Twilio broke after sending: {exc.__class__.__name__}") from None
    return SendResult(provider_sid=created.sid, status=created.status or "queued")


def aim(client: Any, settings: Settings) -> Any:
    """Point a twilio client at SMS_BOARD_TWILIO_API_URL when it is set (a fake Twilio, a staging proxy)."""
    if settings.twilio_api_url:
        client.api.base_url = settings.twilio_api_url
        client.messaging.base_url = settings.twilio_api_url
    return client


def keep_alive(session: Any, threads: int) -> None:
    """Keep a connection to Twilio open for each sender thread, reused from one text to the next.

    The twilio client's `requests.Session` pools connections, but sized for the machine, not
    the sender: `min(32, CPUs + 4)` for https (6 on two cores) and requests' 10 for http. With
    more threads than that, every send past the pool's size opened a new connection (a TCP and,
    to Twilio, a TLS handshake) and threw it away after one request.
    """
    from requests.adapters import HTTPAdapter

    size = max(10, threads + 2)
    for scheme in ("https://", "http://"):
        session.mount(scheme, HTTPAdapter(pool_connections=4, pool_maxsize=size))


def _environment_read_once(merge: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """requests' `Session.merge_environment_settings`, asked of the environment once per scheme and host.

    requests looks up proxies (`HTTPS_PROXY`, `NO_PROXY`) and CA bundles in the environment
    for every request, scanning every variable: about 0.2 ms of the GIL per text, a few per
    cent of what the sender spends on each one at 100 texts a second. A running sender's
    environment does not change, so the answer for a host does not either.
    """
    answers: dict[tuple[object, ...], dict[str, Any]] = {}

    def merged(url: str, proxies: Mapping[str, str] | None, stream: object, verify: object,
               cert: object) -> dict[str, Any]:
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, tuple(sorted((proxies or {}).items())), stream, verify, cert)
        answer = answers.get(key)
        if answer is None:
            answer = answers[key] = merge(url, proxies, stream, verify, cert)
        return {**answer, "proxies": dict(answer["proxies"])}

    return merged


def classify_refusal(message: str, code: object, status: int | None) -> TransportError:
    """Twilio answered with an error: decide how the sender must treat it (docs/architecture.md, "One life cycle")."""
    code_text = str(code) if code is not None else None
    status = int(status or 0)
    if status == 429 or status >= 500:
        return TransientError(message, code_text, status)
    if status == 401 or code_text in ACCOUNT_CODES:
        return ConfigurationError(message, code_text, status)
    return PermanentError(message, code_text, status)


def _never_connected(exc: BaseException) -> bool:
    """True when the error chain shows the TCP connection was never made (so nothing was sent)."""
    from urllib3.exceptions import NewConnectionError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, NewConnectionError | ConnectionRefusedError):
            return True
        reason = getattr(seen, "reason", None)
        if isinstance(reason, NewConnectionError | ConnectionRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__ or (reason if isinstance(reason, BaseException) else None)
        if seen is exc:
            break
    for arg in getattr(exc, "args", ()):
        reason = getattr(arg, "reason", None)
        if isinstance(reason, NewConnectionError | ConnectionRefusedError):
            return True
    return False


def make_transport(settings: Settings) -> Transport:
    if settings.transport == "twilio":
        return TwilioTransport(settings)
    return ConsoleTransport()
