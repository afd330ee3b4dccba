"""`sms-board twilio check [--fix]`: are the credentials good, and do texts reach the board?

Uses Twilio's official REST client. Incoming texts reach the board when the
number's SMS URL (or, for a Messaging Service, its inbound request URL) is
SMS_BOARD_PUBLIC_URL + /sms/inbound, called with POST. Delivery status needs
nothing on the number: every text the board sends carries its own status
callback (/sms/status?outbox_id=N).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sms_board.plumbing.config import Settings

INBOUND_PATH = "/sms/inbound"
STATUS_PATH = "/sms/status"


@dataclass(frozen=True)
class Finding:
    ok: bool
    text: str


def make_client(settings: Settings, timeout: float = 10.0) -> Any:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    from sms_board.sending.transport import aim

    return aim(Client(settings.twilio_account_sid, settings.twilio_auth_token,
                      http_client=TwilioHttpClient(timeout=timeout)), settings)


def _refused(exc: Any, what: str) -> Finding:
    code = f", code {exc.code}" if getattr(exc, "code", None) else ""
    if exc.status in (401, 403):
        return Finding(False, f"Twilio refused the credentials (HTTP {exc.status}{code}): "
                              "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
    return Finding(False, f"Twilio answered HTTP {exc.status}{code} when asked for {what}: {exc.msg}")


def _points_here(url: str | None, method: str | None, expected: str) -> bool:
    return (url or "").rstrip("/") == expected and (method or "POST").upper() == "POST"


def check(client: Any, settings: Settings, *, fix: bool = False) -> list[Finding]:
    """What is right and wrong with the account and its webhooks; with `fix`, point them at the board."""
    from twilio.base.exceptions import TwilioRestException

    findings: list[Finding] = []
    try:
        account = client.api.v2010.accounts(settings.twilio_account_sid).fetch()
    except TwilioRestException as exc:
        return [_refused(exc, "the account")]
    findings.append(Finding(account.status == "active", f"Account {account.friendly_name!r} is {account.status}."))

    expected = f"{settings.public_url}{INBOUND_PATH}" if settings.public_url else None
    if expected is None:
        findings.append(Finding(False, "SMS_BOARD_PUBLIC_URL is not set, so there is no address to give Twilio: "
                                       "set it to the board's https:// address."))

    if settings.twilio_from_number:
        try:
            findings.extend(_check_number(client, settings.twilio_from_number, expected, fix))
        except TwilioRestException as exc:
            findings.append(_refused(exc, "the phone number"))
    if settings.twilio_messaging_service_sid:
        try:
            findings.extend(_check_service(client, settings.twilio_messaging_service_sid, expected, fix))
        except TwilioRestException as exc:
            findings.append(_refused(exc, "the Messaging Service"))
    if settings.public_url:
        findings.append(Finding(True, f"Delivery reports: every text asks for its own callback at "
                                      f"{settings.public_url}{STATUS_PATH}; nothing to set on the number."))
    return findings


def _check_webhook(
    what: str, url: str | None, method: str | None, expected: str, fix: bool, point: Any, how: str
) -> list[Finding]:
    """`what` (the number, or the Messaging Service) sends incoming texts to `url`: is that here?"""
    subject = what[:1].upper() + what[1:]
    if _points_here(url, method, expected):
        return [Finding(True, f"{subject} {how} {expected} (POST).")]
    if fix:
        point(expected)
        return [Finding(True, f"Fixed: {what} now {how} {expected} (was {url or 'not set'}).")]
    return [Finding(False, f"{subject} {how} {url or '(nowhere)'} ({method or 'POST'}), not {expected} (POST). "
                           "Run `sms-board twilio check --fix`.")]


def _check_number(client: Any, number: str, expected: str | None, fix: bool) -> list[Finding]:
    found = client.incoming_phone_numbers.list(phone_number=number, limit=1)
    if not found:
        return [Finding(False, f"TWILIO_FROM_NUMBER {number} is not a number on this account.")]
    record = found[0]
    if expected is None:
        return [Finding(False, f"Incoming texts to {number} go to {record.sms_url or '(nowhere)'}.")]
    return _check_webhook(f"incoming texts to {number}", record.sms_url, record.sms_method, expected, fix,
                          lambda url: record.update(sms_url=url, sms_method="POST"), "go to")


def _check_service(client: Any, sid: str, expected: str | None, fix: bool) -> list[Finding]:
    service = client.messaging.v1.services(sid).fetch()
    if service.use_inbound_webhook_on_number:
        return [Finding(True, f"Messaging Service {service.friendly_name!r} passes incoming texts to each "
                              "number's own SMS URL.")]
    if expected is None:
        return [Finding(False, f"Messaging Service {service.friendly_name!r} sends incoming texts to "
                               f"{service.inbound_request_url or '(nowhere)'}.")]
    return _check_webhook(
        f"Messaging Service {service.friendly_name!r}", service.inbound_request_url, service.inbound_method,
        expected, fix, lambda url: service.update(inbound_request_url=url, inbound_method="POST"),
        "sends incoming texts to")
