"""Samples for help, introductions, joining and leaving, sign-in codes and moderation replies."""

from tests.text.template_samples import ELM, OAK, Sample, thing

NEIGHBOUR = "A neighbour"  # what code passes for someone with no NAME
LONG_NAME = "Bartholomew-Fitzgerald"
BODY = ("Could someone help me carry a second-hand wardrobe up two flights of stairs on Saturday morning? "
        "I can offer tea, cake and many thanks!")
CEDAR = thing(name="Cedar Avenue and the Lanes", slug="cedar", id=3)
CARERS = thing(name="Carers of Llanfair Caereinion", slug="carers", id=4)
PAGE = thing(address="board.example.org/board/elm")
PAGE_NO_ADDRESS = thing(address=None)
SOURCE = "Paper sign-up sheet at the Elm Street summer fete, 12 July, signed in person by each resident"


def item(ref: str = "R1234", kind: str = "request", status: str = "published", area: object = ELM) -> object:
    return thing(ref=ref, kind=kind, status=status, body=BODY, area=area)


SAMPLES: dict[str, list[Sample]] = {
    "help": [
        {"areas": [], "filed": False, "urgent": False, "lapsed": set()},
        {"areas": [ELM], "filed": False, "urgent": False, "lapsed": set()},
        {"areas": [thing(name="Llanfair North", slug="llanfair", id=5), OAK], "filed": False, "urgent": False,
         "lapsed": set()},
        {"areas": [ELM, OAK], "filed": True, "urgent": False, "lapsed": set()},
        {"areas": [ELM, OAK, CEDAR], "filed": False, "urgent": False, "lapsed": {"forget"}},
        {"areas": [ELM, CEDAR], "filed": True, "urgent": True, "lapsed": {"forget", "broadcast"}},
        {"areas": [], "filed": True, "urgent": True, "lapsed": {"broadcast"}},
    ],
    "help_more": [
        {"organiser": False, "languages": ["EN"], "calls": False},
        {"organiser": True, "languages": ["EN"], "calls": False},
        {"organiser": True, "languages": ["CY", "EN"], "calls": False},
        {"organiser": True, "languages": ["CY", "EN", "PL"], "calls": False},
        {"organiser": False, "languages": ["EN"], "calls": True},
        {"organiser": True, "languages": ["CY", "EN"], "calls": True},
    ],
    "help_opted_out": [
        {"filed": False, "urgent": False},
        {"filed": True, "urgent": False},
        {"filed": True, "urgent": True},
    ],
    "import_welcome": [
        {"area": ELM, "source": SOURCE, "page": PAGE},
        {"area": ELM, "source": SOURCE, "page": PAGE_NO_ADDRESS},
        {"area": CARERS, "source": "Carers' group register, March", "page": None},
    ],
    "inbox_hint": [
        {"joined": True},
        {"joined": False},
    ],
    "intro_asked": [
        {"organiser": LONG_NAME, "other": "Margaret", "area": ELM, "item": item("I1234", "intro")},
        {"organiser": NEIGHBOUR, "other": NEIGHBOUR, "area": CEDAR, "item": item("I1234", "intro")},
    ],
    "intro_declined": [{"item": item("I1234", "intro")}],
    "intro_declined_organiser": [{"item": item("I1234", "intro")}],
    "intro_not_members": [{}],
    "intro_sent": [{"item": item("I1234", "intro")}],
    "intro_usage": [{}],
    "intro_waiting": [{"item": item("I1234", "intro")}],
    "item_not_open": [{"item": item()}],
    "item_other_area": [{"item": item(area=CEDAR), "area": CEDAR}],
    "join_already": [{"area": CEDAR}],
    "join_code_refused": [
        {"outcome": "locked", "area": CARERS, "until": "18:45"},
        {"outcome": "expired", "area": CARERS, "until": None},
        {"outcome": "used_up", "area": CARERS, "until": None},
        {"outcome": "already", "area": CARERS, "until": None},
        {"outcome": "wrong", "area": CARERS, "until": None},
        {"outcome": "wrong", "area": CARERS, "until": "18:45"},
    ],
    "join_decided": [
        {"outcome": "accepted", "item": item("J1234", "join", area=CARERS), "area": CARERS, "name": LONG_NAME,
         "number": "+44 7•••• ••123", "refused": False},
        {"outcome": "declined", "item": item("J1234", "join", area=CARERS), "area": CARERS, "name": NEIGHBOUR,
         "number": "+44 7•••• ••123", "refused": False},
        {"outcome": "not_allowed", "item": item("J1234", "join", area=CARERS), "area": CARERS, "name": LONG_NAME,
         "number": "+44 7•••• ••123", "refused": True},
        {"outcome": "not_waiting", "item": item("J1234", "join", area=CARERS), "area": CARERS, "name": LONG_NAME,
         "number": "+44 7•••• ••123", "refused": False},
    ],
    "join_declined": [{"area": CARERS}],
    "join_requested": [
        {"area": CARERS, "item": item("J1234", "join", area=CARERS), "new": True},
        {"area": CARERS, "item": item("J1234", "join", area=CARERS), "new": False},
    ],
    "join_welcome": [
        {"area": CEDAR, "named": True, "page": PAGE},
        {"area": CEDAR, "named": False, "page": PAGE},
        {"area": CEDAR, "named": True, "page": PAGE_NO_ADDRESS},
        {"area": CEDAR, "named": False, "page": PAGE_NO_ADDRESS},
        {"area": CARERS, "named": True, "page": None},
        {"area": CARERS, "named": False, "page": None},
    ],
    "join_which": [
        {"wanted": "Llanfair Caereinion and the villages around", "areas": [
            thing(slug="elm", postcodes=[thing(prefix="CF10"), thing(prefix="CF11")]),
            thing(slug="cedar", postcodes=[thing(prefix="CF14")]),
            thing(slug="oak", postcodes=[])]},
        {"wanted": "", "areas": [thing(slug="elm", postcodes=[])]},
        {"wanted": "Narnia", "areas": []},
    ],
    "kept_open": [{"item": item()}],
    "leave_done": [
        {"left": [CEDAR], "remaining": [ELM, OAK]},
        {"left": [ELM, CEDAR], "remaining": []},
    ],
    "leave_not_member": [
        {"wanted": "Llanfair Caereinion", "areas": [CEDAR, ELM]},
        {"wanted": "", "areas": []},
    ],
    "login_code": [{"code": "482913", "minutes": 10}],
    "moderation_approved": [
        {"item": item(kind="request"), "area": CEDAR},
        {"item": item("O1234", "offer"), "area": CEDAR},
        {"item": item("N1234", "notice"), "area": CEDAR},
    ],
    "moderation_done": [
        {"outcome": "approved", "item": item(area=CEDAR), "author": LONG_NAME, "reason": ""},
        {"outcome": "restored", "item": item(area=CEDAR), "author": NEIGHBOUR, "reason": ""},
        {"outcome": "kept", "item": item(area=CEDAR), "author": LONG_NAME, "reason": ""},
        {"outcome": "rejected", "item": item(area=CEDAR), "author": LONG_NAME, "reason": "not local"},
        {"outcome": "rejected", "item": item(area=CEDAR), "author": NEIGHBOUR, "reason": ""},
        {"outcome": "unnamed", "item": item(area=CEDAR), "author": NEIGHBOUR, "reason": ""},
        *({"outcome": "already_decided", "item": item(status=status, area=CEDAR), "author": LONG_NAME, "reason": ""}
          for status in ("unnamed", "pending", "published", "hidden", "closed", "rejected", "expired")),
        {"outcome": "not_waiting", "item": item(area=CEDAR), "author": LONG_NAME, "reason": ""},
    ],
}
