"""Calls followed as Twilio follows them: each address requested signed with the real `RequestValidator`,
`Digits` posted to each `<Gather>`'s action, `<Redirect>`s followed."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from sms_board import create_app
from sms_board.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    DigestBatch,
    HearsBy,
    Item,
    Outbox,
    OutboxKind,
    OutboxLane,
    Subscriber,
)
from tests.conftest import ACCOUNT_SID, BOARD_NUMBER, Database, app_config, session_of, sign

PUBLIC_URL = "https://board.example.org"
LANDLINE = "+442920180123"  # Ofcom's drama range for Cardiff: a landline resident
SAM, PRIYA = "+447700900123", "+447700900456"


@dataclass
class Script:
    """One TwiML answer, as Twilio reads it."""

    xml: bytes
    root: ET.Element = field(init=False)

    def __post_init__(self) -> None:
        self.root = ET.fromstring(self.xml)
        assert self.root.tag == "Response"

    @property
    def says(self) -> list[str]:
        return [say.text or "" for say in self.root.iter("Say")]

    @property
    def words(self) -> str:
        return " ".join(self.says)

    @property
    def gathers(self) -> list[ET.Element]:
        return list(self.root.iter("Gather"))

    @property
    def hangs_up(self) -> bool:
        return self.root.find("Hangup") is not None

    def element(self, tag: str) -> ET.Element | None:
        return self.root.find(tag)


class Line:
    """One call, followed like Twilio: signed requests, keys posted to the `<Gather>` being heard."""

    def __init__(self, client: FlaskClient, *, caller: str, called: str, direction: str) -> None:
        self.client = client
        self.sid = "CA" + uuid.uuid4().hex
        self.caller, self.called, self.direction = caller, called, direction
        self.script: Script | None = None

    def params(self, **extra: str) -> dict[str, str]:
        return {"CallSid": self.sid, "AccountSid": ACCOUNT_SID, "From": self.caller, "To": self.called,
                "CallStatus": "in-progress", "Direction": self.direction, **extra}

    def callback(self, address: str, **extra: str) -> TestResponse:
        """A signed request to `address` with the call's parameters, as Twilio makes it."""
        params = self.params(**extra)
        path = address.removeprefix(PUBLIC_URL)
        response = self.client.post(path, data=params, headers={"X-Twilio-Signature": sign(PUBLIC_URL + path, params)})
        assert response.status_code == 200, response.data
        return response

    def request(self, address: str, **extra: str) -> Script:
        response = self.callback(address, **extra)
        assert response.mimetype == "text/xml"
        script = Script(response.data)
        redirect = script.element("Redirect")
        if redirect is not None:
            return self.request(redirect.text or "")
        self.script = script
        return script

    def press(self, digits: str, gather: int = -1) -> Script:
        """Press `digits` while `gather` (the last: the menu) is listening."""
        assert self.script is not None and self.script.gathers, "nothing is listening for a key"
        return self.request(self.script.gathers[gather].get("action") or "", Digits=digits)

    def silence(self) -> Script:
        """No key: Twilio posts an empty result to a menu's action (`actionOnEmptyResult`)."""
        assert self.script is not None
        menu = self.script.gathers[-1]
        assert menu.get("actionOnEmptyResult") == "true", "silence here goes on to the next verb"
        return self.request(menu.get("action") or "", Digits="")


def voice_board(db: Database, tmp_path: Path, **overrides: object) -> Flask:
    return create_app(app_config(db, tmp_path, SMS_BOARD_VOICE="on", **overrides))


@pytest.fixture
def app(db: Database, tmp_path: Path) -> Flask:
    return voice_board(db, tmp_path)


def digest_call_row(app: Flask, number: str, items: list[int], *, language: str | None = None) -> int:
    """What the calls engineer's fan-out writes for a voice subscriber: a digest campaign, its batch, a call row."""
    with session_of(app) as session, session.begin():
        person = session.query(Subscriber).filter_by(phone=number).one()
        person.hears_by = HearsBy.VOICE
        if language:
            person.language = language
        first = session.get(Item, items[0]) if items else None
        campaign = Campaign(kind=CampaignKind.DIGEST, status=CampaignStatus.SENDING,
                            area_id=first.area_id if first else None, run_key=uuid.uuid4().hex[:20])
        session.add(campaign)
        session.flush()
        batch = DigestBatch(campaign_id=campaign.id, area_id=campaign.area_id, item_ids=items, pages=[])
        session.add(batch)
        session.flush()
        row = Outbox(to_number=number, subscriber_id=person.id, body="", kind=OutboxKind.CALL, lane=OutboxLane.BULK,
                     segments=0, encoding="voice", campaign_id=campaign.id, batch_id=batch.id)
        session.add(row)
        session.flush()
        return row.id


def answer_digest_call(client: FlaskClient, outbox_id: int, number: str) -> Line:
    line = Line(client, caller=BOARD_NUMBER, called=number, direction="outbound-api")
    line.request(f"/voice/call/{outbox_id}")
    return line


def ring_the_board(client: FlaskClient, caller: str) -> Line:
    line = Line(client, caller=caller, called=BOARD_NUMBER, direction="inbound")
    line.request("/voice/inbound")
    return line
