"""Samples for posting, refs, relays, reports, request ageing, START and urgent texts (part 4)."""

from tests.text.template_samples import ELM, OAK, Sample, thing

LONG_BODY = ("Could someone help carry a second-hand wardrobe up two flights of stairs on Saturday morning? "
             "I can offer tea, cake and a lift home, ta.")  # 140 characters
NOTICE = thing(ref="N1284", body=LONG_BODY)
REQUEST = thing(ref="R1284", body=LONG_BODY)
OFFER = thing(ref="O1284", body=LONG_BODY)
MASKED = "+44 7•••• ••123"
URGENT_WORDS = ("I have fallen in the kitchen and can't get up, my husband is out until tonight and my phone is "
                "nearly flat, please can somebody come round to number 14 as soon as they can, the back door is...")

SAMPLES: dict[str, list[Sample]] = {
    "organisers_only": [{"action": "INTRO"}, {"action": "UNLINK"}, {"action": "APPROVE"}],
    "own_offer": [{"item": OFFER}],
    "own_request": [{"item": REQUEST}],
    "post_empty": [{}],
    "post_held": [{"item": NOTICE, "area": ELM}],
    "post_needs_name": [{"item": NOTICE, "area": ELM}],
    "post_published": [
        {"item": NOTICE, "area": ELM, "truncated": False, "max": 480, "named": True},
        {"item": NOTICE, "area": ELM, "truncated": True, "max": 480, "named": True},
        {"item": NOTICE, "area": ELM, "truncated": False, "max": 480, "named": False},
        {"item": NOTICE, "area": ELM, "truncated": True, "max": 480, "named": False},
    ],
    "ref_hint": [
        {"usage": usage, "ref": ref}
        for usage in ("ASK", "OFFER", "CAN", "OK", "NO", "SHARE", "DONE", "CLOSE", "UNLINK", "REPORT", "APPROVE",
                      "REJECT")
        for ref in ("R1284", None)
    ],
    "relay": [
        {"ref": "R1284", "name": "Bartholomew", "message": LONG_BODY},
        {"ref": "R1284", "name": "A neighbour", "message": "I can come at 10."},
    ],
    "relay_empty": [{"ref": "R1284"}],
    "repeat_noted": [{"count": 3}, {"count": 22}],
    "report_thanks": [
        {"outcome": outcome, "item": NOTICE, "area": ELM}
        for outcome in ("again", "own", "not_member", "not_waiting", "reported", "hidden")
    ],
    "request_expired": [{"item": REQUEST, "days": 14}, {"item": thing(ref="R9", body="Lift to the GP"), "days": 2}],
    "request_reminder": [{"item": REQUEST}, {"item": thing(ref="R9", body="Lift to the GP")}],
    "response_already_answered": [{"item": REQUEST}],
    "share_done": [{"item": REQUEST, "other": "Bartholomew"}, {"item": REQUEST, "other": "A neighbour"}],
    "start_confirm": [
        {"was_out": True, "areas": [ELM, OAK]},
        {"was_out": True, "areas": []},
        {"was_out": False, "areas": [ELM]},
    ],
    "stop_hint": [{}],
    "unlinked_ok": [{"item": REQUEST, "count": 1}, {"item": REQUEST, "count": 2}, {"item": REQUEST, "count": 12}],
    "urgent_alert": [
        {"ref": "U123456", "number": MASKED, "name": "Bartholomew", "areas": [ELM, OAK], "words": URGENT_WORDS,
         "answered": True},
        {"ref": "U123456", "number": MASKED, "name": None, "areas": [], "words": "Help I have fallen",
         "answered": True},
        {"ref": "U123456", "number": MASKED, "name": "Bartholomew", "areas": [ELM], "words": URGENT_WORDS,
         "answered": False},
    ],
    "urgent_answer_refused": [
        {"ref": "U123456", "why": why, "limit": 480}
        for why in ("empty", "too_long", "unreachable", "not_in_inbox", "opted_out")
    ],
    "urgent_answer_usage": [{"ref": "U123456"}],
    "urgent_answered": [{"ref": "U123456", "number": MASKED}],
    "urgent_reply": [{}],
    "which_area": [
        {"keyword": keyword, "areas": [ELM, OAK]} for keyword in ("POST", "NEED", "OFFER", "ASK")
    ],
    "withdrawn_ok": [{"item": REQUEST}],
}
