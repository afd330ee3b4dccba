"""Samples for replies about answers, connections, balance, broadcasts, digests and FORGET."""

from tests.text.template_samples import ELM, OAK, Sample, thing

NEIGHBOUR = "A neighbour"  # what code passes for someone with no NAME
NAME = "Margaret-Anne Hughes"  # MAX_NAME is 20
BODY = ("Could anyone lend a hand moving a heavy wardrobe down two flights of stairs on Saturday morning? "
        "I can offer tea, biscuits and good company!")  # 140 characters
THIRD = thing(name="Riverside Gardens", slug="riverside", id=3)

WELSH_VERSION = {"name": "Cymraeg", "text": "D\u0175r wedi\u2019i ddiffodd tan 3yp heddiw", "readers": 4, "segments": 1,
                 "cost": "£0.16"}
ENGLISH_VERSION = {"name": "English", "text": "Water off until 3pm today", "readers": 212, "segments": 2,
                   "cost": "£16.96"}

REQUEST = thing(ref="R1234", body=BODY, status="published")
OFFER = thing(ref="O1234", body=BODY, status="published")
CLOSED_REQUEST = thing(ref="R1234", body=BODY, status="closed")


def _display_name(person: object) -> str:
    return getattr(person, "name", None) or NEIGHBOUR


def _entry(ref: str, name: str | None, text: str = BODY) -> object:
    return thing(ref=ref, name=name, text=text)


SAMPLES: dict[str, list[Sample]] = {
    "already_responded": [{"item": REQUEST}],
    "apology": [{}],
    "ask_passed_on": [{"item": OFFER}],
    "ask_received": [
        {"name": NAME, "area": ELM, "item": OFFER, "number": 1, "named": True},
        {"name": NAME, "area": ELM, "item": OFFER, "number": 12, "named": True},
        {"name": NEIGHBOUR, "area": THIRD, "item": OFFER, "number": 12, "named": False},
    ],
    "balance": [
        {"given": 0, "received": 0, "gave": 0, "got": 0},
        {"given": 1.5, "received": 2, "gave": 1, "got": 1},
        {"given": 127.25, "received": 88.5, "gave": 23, "got": 2},
    ],
    "broadcast_confirmed": [
        {"areas": [ELM], "recipients": 1, "urgent": False, "held_at": None},
        {"areas": [ELM, OAK, THIRD], "recipients": 1234, "urgent": False, "held_at": "08:00"},
        {"areas": [THIRD], "recipients": 212, "urgent": True, "held_at": None},
    ],
    "broadcast_empty": [
        {"keyword": "BROADCAST", "areas": [ELM]},
        {"keyword": "BROADCAST", "areas": [THIRD, OAK]},
        {"keyword": "URGENT", "areas": [ELM]},
        {"keyword": "URGENT", "areas": [THIRD, OAK]},
    ],
    "broadcast_language_refused": [
        {"code": "PL", "urgent": False, "languages": [("Cymraeg", "CY"), ("English", "EN")], "example": "CY"},
        {"code": "PL", "urgent": True, "languages": [("Cymraeg", "CY"), ("English", "EN")], "example": "CY"},
        {"code": "CY", "urgent": False, "languages": [("English", "EN")], "example": "EN"},
        {"code": "CY", "urgent": True, "languages": [("English", "EN")], "example": "EN"},
    ],
    "broadcast_message": [
        {"areas": [ELM], "text": BODY, "urgent": False},
        {"areas": [ELM, THIRD], "text": BODY, "urgent": True},
        {"areas": [ELM, OAK, THIRD], "text": BODY, "urgent": False},
        {"areas": [ELM, OAK, THIRD], "text": BODY, "urgent": True},
    ],
    "broadcast_versions_preview": [
        # A pair, someone whose language is not known among the readers.
        {"areas": [ELM], "recipients": 6, "cost": "£0.28", "urgent": False, "unknown": 1, "fallback": "Cymraeg",
         "missing": [], "versions": [WELSH_VERSION, ENGLISH_VERSION]},
        # Only the Welsh so far: the English readers get it, and the preview says how to add theirs.
        {"areas": [ELM, OAK], "recipients": 212, "cost": "£16.96", "urgent": True, "unknown": 0,
         "fallback": "Cymraeg", "missing": [{"name": "English", "code": "EN", "readers": 1}],
         "versions": [WELSH_VERSION]},
        # Only the English on a board whose first language is Welsh: its readers get every version given.
        {"areas": [THIRD], "recipients": 3, "cost": "£0.12", "urgent": False, "unknown": 0, "fallback": None,
         "missing": [{"name": "Cymraeg", "code": "CY", "readers": 2}], "versions": [ENGLISH_VERSION]},
        {"areas": [THIRD], "recipients": 3, "cost": "£0.12", "urgent": True, "unknown": 2, "fallback": None,
         "missing": [{"name": "polski", "code": "PL", "readers": 12}], "versions": [WELSH_VERSION, ENGLISH_VERSION]},
    ],
    "broadcast_nobody": [{"areas": [ELM, OAK, THIRD]}],
    "broadcast_not_organiser": [{"urgent": False}, {"urgent": True}],
    "broadcast_paused": [{"areas": [ELM, OAK, THIRD], "needed": 1234, "room": 1, "cap": 10000}],
    "choose_response": [
        {"item": OFFER, "display_name": _display_name, "responses": [
            thing(number=1, responder=thing(name=NAME)), thing(number=2, responder=thing(name=None)),
            thing(number=3, responder=thing(name="Bartholomew")),
        ]},
        {"item": REQUEST, "display_name": _display_name, "verb": "NO", "responses": [
            thing(number=1, responder=thing(name=None)), thing(number=2, responder=thing(name=NAME)),
        ]},
    ],
    "closed_ok": [{"item": REQUEST}],
    "connected": [{"item": REQUEST, "other": NAME}, {"item": OFFER, "other": NEIGHBOUR},
                  {"item": REQUEST, "other": NAME, "helped": NAME}],
    "connection_ended": [{"ref": "R1234"}],
    "declined_ok": [{"item": REQUEST}, {"item": CLOSED_REQUEST}],
    "digest_hint": [{"frequency": "off", "calls": False, "hears_by": "sms"},
                    {"frequency": "daily", "calls": False, "hears_by": "sms"},
                    {"frequency": "weekly", "calls": False, "hears_by": "sms"},
                    {"frequency": "daily", "calls": True, "hears_by": "sms"},
                    {"frequency": "weekly", "calls": True, "hears_by": "voice"}],
    "digest_more_none": [
        {"had_digest": True, "frequency": "daily"},
        {"had_digest": False, "frequency": "daily"},
        {"had_digest": False, "frequency": "weekly"},
    ],
    "digest_page": [
        {"area": "Riverside Gardens", "first": True, "more": 0, "sections": [
            {"kind": "notice", "entries": [_entry("N1234", NAME)]},
        ]},
        {"area": "Riverside Gardens", "first": True, "more": 12, "sections": [
            {"kind": "notice", "entries": [_entry("N1234", None, "Bins moved to Friday.")]},
            {"kind": "request", "entries": [_entry("R1235", NAME), _entry("R1236", None, "Lift to the clinic?")]},
            {"kind": "offer", "entries": [_entry("O1237", "Bartholomew", "Spare seedlings.")]},
        ]},
        {"area": "Riverside Gardens", "first": False, "more": 0, "sections": [
            {"kind": "offer", "entries": [_entry("O1238", None)]},
        ]},
    ],
    "digest_paused": [{"areas": [ELM, OAK, THIRD], "needed": 1234, "room": 1, "cap": 10000}],
    "digest_set": [
        {"frequency": "off", "at": "18:00", "weekday": "sun", "areas": [ELM]},
        {"frequency": "daily", "at": "18:00", "weekday": "sun", "areas": [ELM]},
        {"frequency": "daily", "at": "18:00", "weekday": "sun", "areas": []},
        *({"frequency": "weekly", "at": "18:00", "weekday": day, "areas": [ELM]}
          for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
        {"frequency": "weekly", "at": "18:00", "weekday": "wed", "areas": []},
        {"frequency": "off", "at": "18:00", "weekday": "sun", "areas": []},
    ],
    "digest_stop_line": [{}],
    "digest_line_gone": [{"forgotten": False}, {"forgotten": True}],
    "done_thanks": [
        {"item": REQUEST, "other": NAME, "hours": 2.5, "me": True},
        {"item": REQUEST, "other": NEIGHBOUR, "hours": 0.0, "me": True},
        {"item": OFFER, "other": NAME, "hours": 12.25, "me": False},
        {"item": OFFER, "other": NEIGHBOUR, "hours": 0.0, "me": False},
    ],
    "flood_alert": [
        {"number": "+44 7\u2022\u2022\u2022\u2022 \u2022\u2022123", "count": 21, "minutes": 5, "areas": [ELM, OAK, THIRD]},
        {"number": "+44 7\u2022\u2022\u2022\u2022 \u2022\u2022123", "count": 148, "minutes": 5, "areas": []},
    ],
    "forget_confirm": [{}],
    "forget_done": [{}],
}
