"""Samples for the trusted helper's texts (docs/helpers.md): every branch a resident, a helper or an
organiser may receive."""

from tests.text.template_samples import Sample

_NEWS = ("agreed", "declined", "lapsed", "stopped", "reconfirm", "unconfirmed")
_HELPER = "+44 7•••• ••123"

SAMPLES: dict[str, list[Sample]] = {
    "helper_usage": [{}],
    "helper_refused": [{"reason": reason, "ref": "H4", "limit": limit}
                       for reason in ("own", "mobile", "name", "twice", "limit", "today", "cannot_ask")
                       for limit in (1, 3)],
    "helper_proposal": [{"name": "Bartholomew", "area": "Elm Street", "ref": "H1234"},
                        {"name": "Bartholomew", "area": "", "ref": "H1234"}],
    "helper_asked": [{"helper": _HELPER, "ref": "H1234", "hours": 48}],
    "helper_answer": [{"outcome": outcome, "name": "Bartholomew", "ref": "H1234", "limit": 5, "helper": helper}
                      for outcome in ("agreed", "declined", "limit", "confirmed", "unconfirmed", "answered", "unknown")
                      for helper in ("Bartholomew", _HELPER)],
    "helper_news": [{"event": event, "helper": helper, "ref": "H1234", "name": "Bartholomew",
                     "for_organisers": organisers}
                    for event in _NEWS for helper in ("Bartholomew", _HELPER) for organisers in (False, True)],
    "helper_off": [{"outcome": "ended", "refs": "H1234, H1235"}, {"outcome": "none"},
                   {"outcome": "stopped", "name": "Bartholomew", "ref": "H1234"},
                   {"outcome": "which", "name": "Bartholomew", "ref": "H1234"},
                   {"outcome": "not_helping", "name": "Bartholomew"}],
    "helper_for": [{"name": "Bartholomew", "body": "Connected with Priya on #R1234. Text R1234 <message> to talk."}],
    "helper_copy_more": [{"name": "Bartholomew", "more": 12}, {"name": "H1234", "more": 1}],
    "helper_for_refused": [{"outcome": outcome, "name": "Bartholomew", "ref": "H1234"}
                           for outcome in ("not_helper", "which", "resident_only", "usage")],
}
