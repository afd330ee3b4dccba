"""What a listener hears of one TwiML answer and where their key goes: the simulator's landline reads it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass(frozen=True)
class Heard:
    says: tuple[str, ...]
    action: str | None  # the listening `<Gather>`'s (the last one: the menu)
    one_key: bool  # numDigits="1"; else digits then the hash key
    empty_posts: bool  # silence posts back (actionOnEmptyResult)
    record_action: str | None  # a `<Record>` is listening
    redirect: str | None
    hangs_up: bool

    @classmethod
    def of(cls, twiml: bytes | str) -> Heard:
        root = ET.fromstring(twiml)
        gathers = list(root.iter("Gather"))
        menu = gathers[-1] if gathers else None
        record = root.find("Record")
        redirect = root.find("Redirect")
        return cls(
            says=tuple(say.text or "" for say in root.iter("Say")),
            action=menu.get("action") if menu is not None else None,
            one_key=menu is not None and menu.get("numDigits") == "1",
            empty_posts=menu is not None and menu.get("actionOnEmptyResult") == "true",
            record_action=record.get("action") if record is not None else None,
            redirect=(redirect.text or None) if redirect is not None else None,
            hangs_up=root.find("Hangup") is not None,
        )
