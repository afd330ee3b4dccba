"""STOP and START: the carrier opt-out words come before everything else.

The STOP family is matched exactly (never by typo tolerance). A short text that
opens with STOP or UNSUBSCRIBE, or plainly asks to stop, counts too: residents
write "stop texting me". A near miss (`SOTP`) is not guessed: it gets a hint.
"""

from __future__ import annotations

from datetime import datetime

from rapidfuzz.distance import OSA
from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_board.community.exchange import end_connections_of
from sms_board.community.subscriptions import get_or_create_subscriber, opt_in
from sms_board.config import Settings
from sms_board.handlers.router import START_HELP_STAGE, STOP_STAGE, Context, stage
from sms_board.models import ConsentEvent, InboundMessage, Subscriber
from sms_board.sending.delivery import lock_recipient, opt_out
from sms_board.texts import render
from sms_board.utc import utcnow
from sms_board.words import Words

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP"})
_OPENERS = frozenset({"STOP", "UNSUBSCRIBE"})
_POLITE = frozenset({"PLEASE", "PLS", "PLZ", "KINDLY", "JUST"})
_MAX_WORDS = 6


def asks_to_stop(tokens: tuple[str, ...]) -> bool:
    if not tokens:
        return False
    if len(tokens) == 1:
        return tokens[0] in STOP_WORDS
    if tokens[:2] == ("OPT", "OUT") and len(tokens) <= _MAX_WORDS:
        return True
    if len(tokens) > _MAX_WORDS:
        return False
    if tokens[0] in _OPENERS:
        return True
    # "please stop", "pls unsubscribe me"
    return tokens[0] in _POLITE and len(tokens) > 1 and tokens[1] in _OPENERS | {"STOP", "UNSUBSCRIBE"}


def near_stop(tokens: tuple[str, ...]) -> bool:
    return (
        len(tokens) == 1
        and len(tokens[0]) >= 3
        and any(OSA.distance(tokens[0], word, score_cutoff=1) <= 1 for word in STOP_WORDS if len(word) >= 4)
    )


def _stop(session: Session, settings: Settings, subscriber: Subscriber, inbound: InboundMessage, words: Words,
          now: datetime) -> bool:
    return opt_out(
        session, subscriber, words=words.original or inbound.params.get("OptOutType", ""), channel="sms",
        now=now, inbound_id=inbound.id, wording=render("stop_confirm") if settings.stop_reply else None,
    )


def wants_to_stop(inbound: InboundMessage, words: Words) -> bool:
    """A STOP-family text, or one Twilio's Advanced Opt-Out classified as a STOP."""
    return (inbound.params.get("OptOutType") or "").upper() == "STOP" or asks_to_stop(words.tokens)


def stop_on_arrival(session: Session, settings: Settings, inbound: InboundMessage, phone: str, words: Words) -> None:
    """Opt the number out in the transaction that stores its STOP (SPEC §2: no text after STOP is stored).

    The subscriber's row is locked first: a send to this number already on the wire holds
    it (see `sending.sender`), so the STOP is stamped as stored only once that send is
    over, and every later claim sees the number opted out. Routing, in its own
    transaction, then confirms and tells the neighbours it was connected with.
    """
    if not wants_to_stop(inbound, words):
        return
    subscriber = get_or_create_subscriber(session, phone, inbound.received_at)
    lock_recipient(session, subscriber.id)
    inbound.received_at = max(inbound.received_at, utcnow())
    inbound.subscriber_id = subscriber.id
    session.add(inbound)
    session.flush()
    _stop(session, settings, subscriber, inbound, words, inbound.received_at)


def stopped_by_this_text(ctx: Context) -> bool:
    """Whether this very text opted the number out when it was stored (so it is owed a confirmation)."""
    if not ctx.subscriber.opted_out or not wants_to_stop(ctx.inbound, ctx.words):
        return False
    return ctx.session.scalar(
        select(ConsentEvent.id).where(ConsentEvent.subscriber_id == ctx.subscriber.id,
                                      ConsentEvent.action == "opt_out", ConsentEvent.inbound_id == ctx.inbound.id)
    ) is not None


def do_stop(ctx: Context) -> None:
    wording = render("stop_confirm")
    changed = _stop(ctx.session, ctx.settings, ctx.subscriber, ctx.inbound, ctx.words, ctx.now) or \
        stopped_by_this_text(ctx)
    ctx.handler = "stop"
    if changed:
        # The other side of each open connection is told it ended, without details.
        for match, other in end_connections_of(ctx.session, ctx.subscriber, ctx.now, "opted_out"):
            ctx.notify(other, "connection_ended", ref=match.item.ref)
    # One confirmation only: a second STOP from an opted-out number is stored, not answered.
    if changed and ctx.settings.stop_reply:
        ctx.replies.append(wording)
        ctx.mandatory_reply = True


def do_start(ctx: Context) -> None:
    ctx.handler = "start"
    was_out = ctx.subscriber.opted_out
    areas = opt_in(
        ctx.session, ctx.subscriber, words=ctx.words.original or "START", channel="sms", now=ctx.now,
        inbound_id=ctx.inbound.id,
    ) if was_out else []
    ctx.reply("start_confirm", areas=areas, was_out=was_out)


@stage(STOP_STAGE, "stop")
def stop_stage(ctx: Context) -> bool:
    if wants_to_stop(ctx.inbound, ctx.words):
        do_stop(ctx)
        return True
    if near_stop(ctx.words.tokens):
        ctx.handler = "stop_hint"
        ctx.reply("stop_hint")
        ctx.file_in_inbox()
        return True
    return False


@stage(START_HELP_STAGE, "start")
def start_stage(ctx: Context) -> bool:
    opt_out_type = (ctx.inbound.params.get("OptOutType") or "").upper()
    if opt_out_type == "START" or (len(ctx.words) == 1 and ctx.words.first in START_WORDS):
        do_start(ctx)
        return True
    return False


def opts_back_in(ctx: Context) -> bool:
    """Whether an opted-out number's text is one that may bring it back (START, UNSTOP, YES)."""
    opt_out_type = (ctx.inbound.params.get("OptOutType") or "").upper()
    return opt_out_type == "START" or (len(ctx.words) == 1 and ctx.words.first in START_WORDS | {"YES"})
