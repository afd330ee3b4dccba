"""Texts that may be an emergency: the one list of urgent phrases, and how a text is read against it.

A resident who writes `HELP I have fallen` or just `I've fallen and can't get up` is told
"If you or someone is in danger, call 999", and the organisers are texted at once
(`community.alerts.alert_urgent`). The list is of phrases, not single words, wherever a word
alone misleads: "I fell off my chair laughing", "fire station open day", "emergency meeting",
"no heating in the church hall" are not urgent; "I've fallen", "chest pain", "can't breathe",
"no heating and I'm 87" are. A rare false alarm is the accepted cost of never missing a real
one. docs/trust-and-safety.md lists them in words; tests/handlers/test_urgent_texts.py holds
both kinds.
"""

from __future__ import annotations

import re

from sms_board.text.words import Words, holds_phrase

# Who may have fallen or collapsed: "I've fallen", "my mum has collapsed", "he fell down the stairs".
_SOMEONE = (
    r"(?:I|IVE|I HAVE|IM|I AM|HE|HES|HE HAS|SHE|SHES|SHE HAS|THEY|THEYVE|THEY HAVE|WHO HAS|WHOS|SOMEONE|"
    r"SOMEONE HAS|(?:MY |OUR )?(?:MUM|MOM|MOTHER|DAD|FATHER|HUSBAND|WIFE|PARTNER|SON|DAUGHTER|NAN|NANA|GRAN|"
    r"GRANNY|GRANDMA|GRANDAD|GRANDPA|BROTHER|SISTER|NEIGHBOUR|NEIGHBOR|FRIEND|CARER|BABY|CHILD|KID)(?:S| HAS)?)"
)
_FALLEN = r"(?:JUST |HAD )?(?:FALLEN|HAD A FALL|COLLAPSED|FELL (?:DOWN|OVER)(?! LAUGHING))"
# No heat, and someone it could harm: "no heating and I'm 87", "boiler broken, freezing, baby".
_NO_HEAT = (r"\b(?:NO HEAT(?:ING)?|HEATING (?:HAS |IS )?(?:BROKEN|BROKE|GONE|OFF|NOT WORKING)|"
            r"BOILER (?:HAS |IS )?(?:BROKEN|BROKE|GONE|NOT WORKING))\b")
_AT_RISK = (r"\b(?:IM|I AM|SHES|SHE IS|HES|HE IS|AGED) (?:[6-9]\d|1[01]\d)\b|\b(?:[6-9]\d|1[01]\d) (?:YEARS? OLD|YO)\b|"
            r"\b(?:FREEZING|SO COLD|TOO COLD|VERY COLD|ELDERLY|DISABLED|BABY|NEWBORN|OXYGEN|ILL|UNWELL)\b")

URGENT_PHRASES: tuple[str, ...] = (
    # Falls and collapse
    rf"\b{_SOMEONE} {_FALLEN}\b", r"\bCOLLAPSED\b", r"\bCANT GET UP\b", r"\bCANNOT GET UP\b",
    r"\bCAN NOT GET UP\b", r"\b(?:LYING|STUCK) ON THE FLOOR\b",
    # Breathing, heart, stroke
    r"\bCANT BREATHE?\b", r"\bCANNOT BREATHE?\b", r"\bCAN NOT BREATHE?\b", r"\bNOT BREATHING\b",
    r"\b(?:STRUGGLING|TROUBLE|DIFFICULTY) (?:TO )?BREATH(?:E|ING)\b", r"\bSHORT OF BREATH\b",
    r"\bCHEST PAINS?\b", r"\bPAINS? IN (?:MY|HIS|HER|THE) CHEST\b", r"\bHEART ATTACK\b",
    r"\b(?:HAVING|HAD|HAS HAD) A STROKE\b", r"\bCHOKING\b",
    # Bleeding, unconscious, overdose
    r"\bBLEEDING\b", r"\bLOTS OF BLOOD\b", r"\bUNCONSCIOUS\b", r"\bUNRESPONSIVE\b", r"\bWONT WAKE UP\b",
    r"\bOVERDOSE\b", r"\b(?:IM|I AM|BADLY|SERIOUSLY|REALLY) HURT\b", r"\bIVE HURT\b",
    # Someone may harm themselves
    r"\bSUICID(?:E|AL)\b", r"\bKILL MYSELF\b", r"\bEND (?:IT ALL|MY LIFE)\b", r"\bWANT TO DIE\b",
    # Violence, intruders
    r"\bIN DANGER\b", r"\b(?:BEEN |BEING )?(?:ATTACKED|ASSAULTED)\b", r"\b(?:HITTING|HURTING|THREATENING) ME\b",
    r"\bINTRUDERS?\b", r"\bBREAK(?:ING)? IN\b", r"\bBROKEN IN\b", r"\bBURGLARS?\b", r"\bDOMESTIC ABUSE\b",
    r"\bSCARED FOR MY LIFE\b",
    # Fire and gas
    r"\bON FIRE\b", r"\b(?:HOUSE|FLAT|KITCHEN) FIRE\b", r"\bA FIRE IN\b", r"\bFULL OF SMOKE\b",
    r"\bSMELL (?:OF )?GAS\b", r"\bGAS LEAK\b",
    # Calls for emergency services
    r"\bAMBULANCE\b", r"\b999\b", r"\bSOS\b", r"\b(?:CALL|NEED|GET) (?:THE )?POLICE\b",
    r"\b(?:AN|MEDICAL|THIS IS AN|ITS AN) EMERGENCY\b",
)
_URGENT = re.compile("|".join(f"(?:{phrase})" for phrase in URGENT_PHRASES))
_NO_HEAT_RE, _AT_RISK_RE = re.compile(_NO_HEAT), re.compile(_AT_RISK)
_APOSTROPHES = str.maketrans("", "", "'\u2019\u2018`")


def plain(words: Words) -> str:
    """The text as the phrases are written: folded words, apostrophes dropped (`I've` → `IVE`)."""
    return " ".join(token.translate(_APOSTROPHES) for token in words.tokens)


def may_be_urgent(words: Words) -> bool:
    """Whether the text holds an urgent phrase (or no heating, with someone it could harm), in any
    language the board speaks: each pack adds its own phrases (`translations/<code>/pack.toml`)."""
    text = plain(words)
    if _URGENT.search(text):
        return True
    if words.vocabulary is not None and holds_phrase(words, words.vocabulary.urgent_phrases):
        return True
    return bool(_NO_HEAT_RE.search(text) and _AT_RISK_RE.search(text))

