"""Samples for moderation notes to authors, MY, NAME, NEED and OFFER replies, connections and organisers' texts."""

from sms_board.community.alerts import SHOWN, quote
from sms_board.community.exchange import display_name
from sms_board.text.templates import NEIGHBOUR
from tests.text.template_samples import ELM, OAK, Sample, thing

PINE = thing(name="Pinewood Crescent", slug="pinewood", id=3)

# A body as long as a resident may write one (140 characters).
LONG = ("Could somebody help me carry a heavy wardrobe down two flights of stairs on Saturday morning? "
        "It is flat-packed now. Tea and cakes provided!")
assert len(LONG) == 140

REQUEST = thing(ref="R1234", body=LONG, status="published", area=ELM, author_name="Bethan",
                author=thing(name="Bethan"))
OFFER = thing(ref="O987", body="Dog walking at weekends, any size of dog, around Elm Street and the park",
              status="published", area=ELM, author_name=None, author=None)
NOTICE = thing(ref="N456", body=LONG, status="published", area=PINE, author_name="Gwenllian",
               author=thing(name="Gwenllian"))
HELD = [thing(ref=f"N{100 + n}", body=LONG, status="pending", area=ELM, author_name=name,
              author=thing(name=name) if name else None)
        for n, name in enumerate(["Gwenllian", None, "Bartholomew", "Siân", "Rhodri", "Ola"])]
JOINS = [(thing(ref=f"J{20 + n}", body="", area=PINE if n % 2 else ELM, author=thing(name=name) if name else None),
          number)
         for n, (name, number) in enumerate([("Małgorzata", "+44 7•••• ••123"), (None, "+44 7•••• ••456"),
                                             (None, None), ("Dafydd", "+44 7•••• ••789"),
                                             ("Owain", "+44 7•••• ••321")])]


def batch(held=(), hidden=(), reported=(), joins=()) -> object:
    return thing(held=list(held), hidden=list(hidden), reported=list(reported), joins=list(joins))


NOTICE_DATA = {"shown": SHOWN, "quote": quote, "name": display_name}

SAMPLES: dict[str, list[Sample]] = {
    "moderation_hidden": [{"item": NOTICE, "area": PINE}],
    "moderation_hidden_by_organiser": [{"item": NOTICE, "area": PINE}],
    "moderation_refused": [
        {"action": "APPROVE", "item": None},
        {"action": "REJECT", "item": None},
        {"action": "APPROVE", "item": NOTICE},
        {"action": "REJECT", "item": NOTICE},
    ],
    "moderation_rejected": [
        {"item": NOTICE, "area": PINE, "reason": ""},
        {"item": NOTICE, "area": PINE, "reason": "Please post items for sale on the market board, not here"},
    ],
    "moderation_restored": [{"item": NOTICE, "area": PINE}],
    "my": [
        {"items": [], "connections": [], "width": None, "helpers": [], "helping": []},
        {"items": [REQUEST], "connections": [], "width": None, "helpers": [], "helping": []},
        # As many open items as fill MY's two texts with whole titles (longer titles are cut by `width`).
        {"items": [thing(ref=f"N{n}", body=body, status=status) for n, body, status in (
            (31, "Lift to the GP on Thursday morning", "pending"),
            (32, "Dog walking at weekends, any size", "unnamed"),
            (33, "Spare garden tools to lend out", "hidden"),
            (34, "Help with a wardrobe on Saturday", "published"))],
         "connections": [(REQUEST, "Bartholomew"), (OFFER, NEIGHBOUR)], "width": None, "helpers": [], "helping": []},
        {"items": [], "connections": [(OFFER, NEIGHBOUR)], "width": None, "helpers": [], "helping": []},
        # A resident's trusted helpers (one still asked) and whom they help (docs/helpers.md).
        {"items": [REQUEST], "connections": [], "width": None,
         "helpers": [("Bartholomew", "H4", False), ("+44 7•••• ••123", "H5", True)], "helping": [("Rose", "H6", False)]},
        {"items": [], "connections": [], "width": None, "helpers": [], "helping": [("Rose", "H6", False)]},
    ],
    "name_hint": [{"current": None}, {"current": "Bartholomew"}],
    "name_set": [
        {"name": "Bartholomew", "published": [], "held": []},
        {"name": "Bartholomew", "published": [REQUEST], "held": [NOTICE]},
        {"name": "Bartholomew", "published": [REQUEST, OFFER], "held": []},
        {"name": "Bartholomew", "published": [], "held": [NOTICE, HELD[0]]},
    ],
    "need_area": [{"keyword": "NEED"}, {"keyword": "OFFER"}, {"keyword": "POST"}],
    "need_empty": [{}],
    "need_posted": [{"item": REQUEST}],
    "no_offers_yet": [{"item": REQUEST}],
    "not_connected": [{"ref": "R1234"}],
    "not_in_area": [
        {"area": PINE, "areas": [], "keyword": "NEED"},
        {"area": PINE, "areas": [ELM], "keyword": "NEED"},
        {"area": PINE, "areas": [ELM, OAK], "keyword": "OFFER"},
        {"area": OAK, "areas": [PINE], "keyword": "POST"},
    ],
    "not_yours": [{"item": REQUEST, "action": "accept"}, {"item": REQUEST, "action": "decline"},
                  {"item": NOTICE, "action": "close"}],
    "nothing_to_confirm": [{}],
    "number_shared": [
        {"name": "Bartholomew", "item": REQUEST, "number": "+447700900123"},
        {"name": NEIGHBOUR, "item": REQUEST, "number": "+447700900123"},
    ],
    "offer_declined": [{"item": REQUEST}],
    "offer_empty": [{}],
    "offer_passed_on": [{"item": REQUEST}],
    "offer_posted": [{"item": OFFER, "area": PINE}],
    "offer_received": [
        {"name": "Bartholomew", "area": PINE, "item": REQUEST, "number": 1, "named": True},
        {"name": "Bethan", "area": ELM, "item": REQUEST, "number": 2, "named": True},
        {"name": NEIGHBOUR, "area": PINE, "item": REQUEST, "number": 12, "named": False},
    ],
    "offer_taken_back": [
        {"kind": "ask", "name": "Bartholomew", "item": OFFER},
        {"kind": "offer", "name": NEIGHBOUR, "item": REQUEST},
    ],
    "organiser_notice": [
        {"batch": batch(held=HELD[:1]), **NOTICE_DATA},
        {"batch": batch(held=HELD), **NOTICE_DATA},
        {"batch": batch(hidden=[NOTICE]), **NOTICE_DATA},
        {"batch": batch(hidden=HELD), **NOTICE_DATA},
        {"batch": batch(reported=[(NOTICE, 2)]), **NOTICE_DATA},
        {"batch": batch(reported=[(item, 1) for item in HELD]), **NOTICE_DATA},
        {"batch": batch(joins=JOINS[:3]), **NOTICE_DATA},
        {"batch": batch(joins=JOINS), **NOTICE_DATA},
        {"batch": batch(held=HELD[:2], hidden=[NOTICE], reported=[(REQUEST, 3)], joins=JOINS[:1]), **NOTICE_DATA},
    ],
    "organiser_reply": [
        {"text": "Thanks for letting us know. The council will clear the fly-tipping on Elm Street by Friday.",
         "areas": []},
        {"text": "Thanks, we have passed this on.", "areas": [PINE]},
        {"text": "Thanks, we have passed this on.", "areas": [ELM, OAK, PINE]},
    ],
}
