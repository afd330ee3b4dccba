"""STOP and START: the carrier opt-out words come before everything else.

The STOP family is matched exactly (never by typo tolerance). A short text that
opens with STOP or UNSUBSCRIBE (`stop texting me`), or asks to stop in plain
words (`I want to unsubscribe`, `no more texts please`, `don't text me again`),
counts too: residents write this, and under PECR a clear request to stop is
honoured. A near miss (`SOTP`) is not guessed: it gets a hint. Whether a text is a STOP
(`wants_to_stop`) is decided once, when it arrives (`inbound.text`), and carried with it: to
store time (`stop_on_arrival`) and to the router (`Context.stops`).

An opted-out number gets nothing until it opts back in (START, or YES to a pending
confirmation), but HELP, which says how, and the confirmation of the STOP that opted it out:
the first stage ignores its every other text, keeping it for organisers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rapidfuzz.distance import OSA
from sqlalchemy import ColumnElement, bindparam, or_, select
from sqlalchemy.orm import Session

from sms_board.community.alerts import raise_the_alarm
from sms_board.community.exchange import end_connections_of
from sms_board.community.exchange import has_ties as exchange_ties
from sms_board.community.languages import texts_for
from sms_board.community.subscriptions import get_or_create_subscriber, start_again
from sms_board.community.trusted_helpers import end_everything_of, speaks_for_someone
from sms_board.community.trusted_helpers import has_ties as helper_ties
from sms_board.handlers.router import (
    OPTED_OUT_STAGE,
    START_HELP_STAGE,
    STOP_STAGE,
    Context,
    heard_though_opted_out,
    stage,
)
from sms_board.models import (
    ConsentAction,
    ConsentEvent,
    InboundMessage,
    ItemEventAction,
    Subscriber,
)
from sms_board.plumbing.config import Settings
from sms_board.plumbing.utc import utcnow
from sms_board.sending.opt_outs import opt_out, opt_out_values, stopped_by
from sms_board.sending.reachability import lock_recipient
from sms_board.text.words import Words, holds_phrase

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP"})
_OPENERS = frozenset({"STOP", "UNSUBSCRIBE"})
_POLITE = frozenset({"PLEASE", "PLS", "PLZ", "KINDLY", "JUST"})
# A text opening with STOP or UNSUBSCRIBE is a STOP up to this many words ("stop texting me please");
# one that asks to stop in plain words, up to this many ("I want to unsubscribe").
_MAX_WORDS = 6
_MAX_PLAIN_WORDS = 8

_TEXTS = r"(?:TEXTS?|TXTS?|MESSAGES?|MSGS?|SMS(?:ES)?)"
_TO_TEXT = r"(?:TEXT(?:ING)?|TXT(?:ING)?|MESSAG(?:E|ING)|MSG|SMS|CONTACT(?:ING)?|SEND(?:ING)?)"
_LIST = r"(?:LISTS?|TEXTS|MESSAGES|BOARD|SERVICE|DATABASE|SYSTEM|NUMBERS)"
# Plain words that clearly ask the board to stop texting (docs/language.md). Each is a whole request, not a
# word: "no more texts" is one, "no more chairs needed" is not; "stop texting me" is one,
# "can't stop smiling" is not. tests/handlers/test_stop_in_plain_words.py holds both kinds.
_ASKS_TO_STOP = re.compile(
    "|".join((
        r"\bUNSUBSCRIBE\b", r"\bUNSUB\b", r"\bOPT(?:ING)? ?OUT\b",
        rf"\bSTOP {_TO_TEXT}\b",  # (please) stop texting me, could you stop sending these
        rf"\bSTOP (?:ALL |THE |THESE |THIS |YOUR |ANY )?{_TEXTS}\b",  # stop these texts
        rf"\bNO MORE {_TEXTS}\b",  # no more texts please
        rf"\b(?:DONT|DO NOT|NEVER) {_TO_TEXT} ME\b",  # don't text me again
        rf"\b(?:DONT|DO NOT) WANT (?:ANY MORE |ANYMORE |ANY |THESE |THIS |YOUR |THE )?{_TEXTS}\b",
        rf"\b(?:REMOVE|DELETE|TAKE) (?:ME|MY NUMBER) (?:FROM|OFF) (?:YOUR |THE |THIS |THAT |UR |ALL )?"
        rf"(?:MAILING |TEXT |TEXTING |CONTACT )?{_LIST}\b",  # remove me from your list
        r"\b(?:REMOVE|DELETE) (?:ME|MY NUMBER)(?: PLEASE| NOW| THANKS)*$",  # please remove me
        r"\bLEAVE ME ALONE\b",
        r"\bWANT TO STOP(?: PLEASE| NOW| THANKS)*$",  # I want to stop
    ))
)
# "please don't stop the market", "they never stop": a stop word under a negation asks for nothing.
_NEGATED = re.compile(r"\b(?:DONT|DO NOT|CANT|CANNOT|WONT|NEVER|NOT) (?:STOP|UNSUBSCRIBE|OPT OUT)\b")


def asks_to_stop(tokens: tuple[str, ...]) -> bool:
    """A STOP: the STOP family alone, a short text opening with STOP, or a short plain request to stop.

    When in doubt a text opening with STOP is a STOP: a mistaken opt-out is visible and undone
    by START, a missed one is not.
    """
    if not tokens:
        return False
    if len(tokens) == 1:
        return tokens[0] in STOP_WORDS
    if tokens[:2] == ("OPT", "OUT") and len(tokens) <= _MAX_WORDS:
        return True
    if len(tokens) <= _MAX_WORDS and tokens[0] in _OPENERS:
        return True
    # "please stop", "pls unsubscribe me"
    if len(tokens) <= _MAX_WORDS and tokens[0] in _POLITE and tokens[1] in _OPENERS:
        return True
    if len(tokens) > _MAX_PLAIN_WORDS:
        return False
    plain = " ".join(token.replace("'", "").replace("\u2019", "") for token in tokens)
    return _ASKS_TO_STOP.search(plain) is not None and _NEGATED.search(plain) is None


def near_stop(tokens: tuple[str, ...]) -> bool:
    return (
        len(tokens) == 1
        and len(tokens[0]) >= 3
        and any(OSA.distance(tokens[0], word, score_cutoff=1) <= 1 for word in STOP_WORDS if len(word) >= 4)
    )


def _stop(session: Session, subscriber: Subscriber, inbound: InboundMessage, words: Words, now: datetime,
          confirmation: list[str] | None) -> bool:
    """Opt the sender out (if the text did not as it was stored), keeping the confirmation's words with the
    consent record (`confirmation`: the STOP's, in the sender's languages)."""
    return opt_out(session, subscriber, now=now, inbound_id=inbound.id,
                   **_consent(inbound.params, words, confirmation))


def _consent(params: Mapping[str, Any], words: Words, confirmation: list[str] | None) -> dict[str, Any]:
    """What the consent history keeps of a STOP: the resident's words, how they came, the board's answer."""
    return {"words": words.original or params.get("OptOutType", ""), "channel": _channel(params),
            "wording": "\n\n".join(confirmation) if confirmation is not None else None}


def channel_of(inbound: InboundMessage) -> str:
    """How a STOP came: a text, or key 9 on a call (`voice.keypad`, which sends it with the call's `CallSid`)."""
    return _channel(inbound.params)


def _channel(params: Mapping[str, Any]) -> str:
    return "voice" if params.get("CallSid") else "sms"


def wants_to_stop(params: Mapping[str, Any], words: Words) -> bool:
    """A STOP-family text (`params`: Twilio's), or one Twilio's Advanced Opt-Out classified as a STOP."""
    return (
        (params.get("OptOutType") or "").upper() == "STOP" or asks_to_stop(words.tokens)
        or (words.vocabulary is not None and len(words) <= _MAX_PLAIN_WORDS
            and holds_phrase(words, words.vocabulary.stop_phrases))
    )


_LOCKED_SENDER = select(Subscriber).where(Subscriber.phone == bindparam("phone")).with_for_update()


def stop_on_arrival(
    session: Session, settings: Settings, fields: dict[str, Any], phone: str, words: Words,
) -> dict[str, Any] | None:
    """Ready the opt-out that the transaction storing a STOP makes (docs/reliability.md: nothing after STOP).

    Called for a text `wants_to_stop` found a STOP, and for no other. `fields`: the row to be stored,
    given its sender and its arrival here. Returns the values of the opt-out (`opt_outs.opting_out`), or
    None when the text opts nobody out.

    The subscriber's row is locked first (by the statement that reads it, on PostgreSQL): a send to this
    number already on the wire holds it (see `sending.sender`), so the STOP is stamped as stored only once
    that send is over, and every later claim sees the number opted out. Routing, in its own
    transaction, then confirms and tells the neighbours it was connected with.
    """
    subscriber = session.scalar(_LOCKED_SENDER, {"phone": phone})
    if subscriber is None:  # a STOP from a number the board never knew: added, then locked
        subscriber = get_or_create_subscriber(session, phone, fields["received_at"])
        lock_recipient(session, subscriber.id)
    fields["received_at"] = max(fields["received_at"], utcnow())
    fields["subscriber_id"] = subscriber.id
    if _for_someone_else(session, subscriber, fields["params"], words):
        return None  # a helper's `FOR ROSE stop texting me` is Rose's words, refused at routing (handlers/trusted_helper.py)
    if subscriber.opted_out_at is not None:
        return None  # out already: nothing to write (the statement checks again)
    confirmation = texts_for(settings, subscriber, "stop_confirm") if settings.stop_reply else None
    return opt_out_values(subscriber.id, now=fields["received_at"], **_consent(fields["params"], words, confirmation))


def _for_someone_else(session: Session, subscriber: Subscriber, params: Mapping[str, Any], words: Words) -> bool:
    """A helper's `FOR ROSE …` that reads as a STOP is Rose's words, never the helper's own STOP (unless the
    carrier already opted the number out: Twilio's `OptOutType=STOP`)."""
    return (params.get("OptOutType") or "").upper() != "STOP" and speaks_for_someone(session, subscriber, words.tokens)


def arrival_facts(person: ColumnElement[int]) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """What routing a STOP needs besides its sender, read in the statement that reads the sender
    (`inbound.guards.sender`): whether the text `:row` opted `person` out as it was stored, and whether
    they have anything for the STOP to end (connections, offers and asks, helpers)."""
    return (stopped_by(person).label("stopped_on_arrival"),
            or_(exchange_ties(person), helper_ties(person)).label("ties_to_end"))


def stopped_by_this_text(ctx: Context) -> bool:
    """Whether this very text opted the number out when it was stored (so it is owed a confirmation)."""
    if not ctx.subscriber.opted_out or not ctx.stops:
        return False
    if ctx.stopped_on_arrival is None:  # asked by the router, then by `do_stop`: read once
        ctx.stopped_on_arrival = ctx.session.scalar(
            select(ConsentEvent.id).where(ConsentEvent.subscriber_id == ctx.subscriber.id,
                                          ConsentEvent.action == ConsentAction.OPT_OUT,
                                          ConsentEvent.inbound_id == ctx.inbound.id)
        ) is not None
    return ctx.stopped_on_arrival


def do_stop(ctx: Context) -> None:
    # Rendered once, before the opt-out ends the subscriptions it is worded from: the reply and the record.
    confirmation = texts_for(ctx.settings, ctx.subscriber, "stop_confirm") if ctx.settings.stop_reply else None
    changed = _stop(ctx.session, ctx.subscriber, ctx.inbound, ctx.words, ctx.now, confirmation) or \
        stopped_by_this_text(ctx)
    ctx.handler = "stop"
    ctx.did(changed)
    if changed and ctx.ties_to_end is not False:  # most STOPs have none: read with the sender
        # The other side of each open connection is told it ended, without details.
        for match, other in end_connections_of(ctx.session, ctx.subscriber, ctx.now, ItemEventAction.OPTED_OUT):
            ctx.notify(other, "connection_ended", about=match, ref=match.item.ref)
        # Their helpers end (not told), and so does their helping (the residents are told).
        end_everything_of(ctx.session, ctx.settings, ctx.subscriber, ctx.now, why="STOP")
    # One confirmation only: a second STOP from an opted-out number is stored, not answered.
    if changed and confirmation is not None:
        ctx.replies.extend(confirmation)
        ctx.mandatory_reply = True


def do_start(ctx: Context) -> None:
    ctx.handler = "start"
    ctx.say(start_again(ctx.session, ctx.subscriber, ctx.inbound, ctx.words, ctx.now))


@stage(OPTED_OUT_STAGE, "opted_out")
def opted_out_stage(ctx: Context) -> bool:
    """An opted-out number's text that no stage hears is ignored; it is kept for organisers."""
    if not ctx.subscriber.opted_out or heard_though_opted_out(ctx):
        return False
    ctx.ignore("sender has opted out")
    ctx.inbound.in_inbox = bool(ctx.words.tokens) and not asks_to_stop(ctx.words.tokens)
    if ctx.inbound.in_inbox:
        # Not answered (carrier rules), but a cry for help still reaches the organisers.
        raise_the_alarm(ctx.session, ctx.settings, ctx.inbound, ctx.subscriber, ctx.words, ctx.now, answered=False)
    return True


@stage(STOP_STAGE, "stop", words=STOP_WORDS, hears_opted_out=stopped_by_this_text)
def stop_stage(ctx: Context) -> bool:
    if ctx.stops and not _for_someone_else(ctx.session, ctx.subscriber, ctx.inbound.params, ctx.words):
        do_stop(ctx)
        return True
    if near_stop(ctx.words.tokens):
        ctx.handler = "stop_hint"
        ctx.reply("stop_hint")
        ctx.file_in_inbox()
        return True
    return False


def asks_to_start(ctx: Context) -> bool:
    """START or UNSTOP alone, or a text Twilio's Advanced Opt-Out classified as START."""
    opt_out_type = (ctx.inbound.params.get("OptOutType") or "").upper()
    return opt_out_type == "START" or (len(ctx.words) == 1 and ctx.words.first in START_WORDS)


@stage(START_HELP_STAGE, "start", words=START_WORDS, hears_opted_out=asks_to_start)
def start_stage(ctx: Context) -> bool:
    if asks_to_start(ctx):
        do_start(ctx)
        return True
    return False
