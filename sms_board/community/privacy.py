"""FORGET: erasing a resident's personal data from the board.

What goes: the number, the name, every subscription and consent record, the
words of every text they sent or were sent, the text of their posts, and their
posts' lines in digests already built and sent to neighbours (the line says the post
was removed at the author's request; a digest still waiting goes out so). What
stays: the fact that things happened (rows without a person), the ledger's
hours (without names), and a keyed hash of the number on the suppression list,
so the board can tell it once knew the number without being able to read it. The
hash is keyed with SMS_BOARD_SUPPRESSION_KEY, never with SECRET_KEY: the web sessions'
key is rotated after a leak, and a list keyed with it would silently empty. An import
reads the list (`is_suppressed`) and never adds a forgotten number back.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, or_, select, union, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sms_board.community.audit import forget_actor
from sms_board.community.digest_lines import erase_from_digests
from sms_board.community.exchange import close_item, end_connections_of
from sms_board.community.item_lifecycle import OPEN
from sms_board.models import (
    DigestBatch,
    InboundMessage,
    Item,
    ItemEventAction,
    ItemStatus,
    Match,
    Outbox,
    Response,
    Subscriber,
    Subscription,
    Suppression,
    VoiceMessage,
)
from sms_board.plumbing.db import is_sqlite
from sms_board.sending.delivery import WAITING, cancel_about, cancel_waiting, in_statuses

ERASED = "forgotten"
# What the post itself says from then on, for the organisers (digests say it in their reader's language).
REMOVED_TEXT = "(removed at the author's request)"


def number_hash(suppression_key: str, phone: str) -> str:
    """A keyed hash of a number: the same number always gives the same hash, and it cannot be reversed."""
    return hmac.new(suppression_key.encode(), phone.encode(), hashlib.sha256).hexdigest()


def suppressed_hashes(session: Session, suppression_key: str, phones: Iterable[str]) -> set[str]:
    """The hashes, among those of `phones`, that are on the suppression list."""
    wanted = sorted({number_hash(suppression_key, phone) for phone in phones})
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        found |= set(session.scalars(
            select(Suppression.number_hash).where(Suppression.number_hash.in_(wanted[start:start + 500]))
        ))
    return found


def is_suppressed(session: Session, suppression_key: str, phone: str) -> bool:
    """Whether the number was erased with FORGET (it stays so even if the person texts again)."""
    return bool(suppressed_hashes(session, suppression_key, [phone]))


def forget(
    session: Session, suppression_key: str, person: Subscriber, now: datetime, first_language: str = "en"
) -> list[tuple[Match, Subscriber]]:
    """Erase `person`; returns (connection, neighbour) for each neighbour to tell their connection ended.

    `first_language`: the board's; the lines in digests are rewritten in each digest's language.
    """
    phone = person.phone
    # Texts about their items, offers and connections carry their words and name, whoever got them.
    involved = union(
        select(Item.id).where(Item.author_id == person.id),
        select(Match.item_id).where(or_(Match.owner_id == person.id, Match.helper_id == person.id)),
        select(Response.item_id).where(Response.responder_id == person.id),
    )
    # Texts still waiting about their posts, offers and connections never go (a neighbour's
    # offer on their request is about the neighbour: it waits on); those sent lose their words.
    about_them = or_(
        Outbox.item_id.in_(select(Item.id).where(Item.author_id == person.id)),
        Outbox.response_id.in_(select(Response.id).where(Response.responder_id == person.id)),
        Outbox.match_id.in_(select(Match.id).where(or_(Match.owner_id == person.id, Match.helper_id == person.id))),
    )
    cancel_about(session, about_them, "about someone who asked to be forgotten", now)
    session.execute(
        update(Outbox).where(Outbox.item_id.in_(involved), ~in_statuses(WAITING)).values(body="")
        .execution_options(synchronize_session=False)
    )
    told = end_connections_of(session, person, now, ItemEventAction.FORGOTTEN)
    authored = session.scalars(select(Item).where(Item.author_id == person.id)).all()
    # Digests already built show their posts with their name: those lines go too, sent or not.
    erase_from_digests(session, authored, first_language)
    for item in authored:
        if item.status in OPEN:
            told += close_item(session, item, ItemStatus.CLOSED, now, person, ItemEventAction.FORGOTTEN) or []
        item.body = REMOVED_TEXT
        item.author_name = None
    cancel_waiting(session, person.id, "recipient asked to be forgotten", now)
    session.execute(
        update(Outbox)
        .where(or_(Outbox.subscriber_id == person.id, Outbox.to_number == phone))
        .values(to_number=ERASED, body="")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(InboundMessage)
        .where(or_(InboundMessage.subscriber_id == person.id, InboundMessage.from_number == phone))
        .values(from_number=ERASED, body="", params={}, replies=[], subscriber_id=None)
        .execution_options(synchronize_session=False)
    )
    # Their voice messages to organisers: who left them goes now; the clock deletes the audio at Twilio.
    session.execute(
        update(VoiceMessage)
        .where(or_(VoiceMessage.subscriber_id == person.id, VoiceMessage.from_number == phone))
        .values(erase_requested_at=now, from_number=None, subscriber_id=None)
        .execution_options(synchronize_session=False)
    )
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    session.execute(
        insert(Suppression).values(number_hash=number_hash(suppression_key, phone), reason="forget", created_at=now)
        .on_conflict_do_nothing(index_elements=["number_hash"])
    )
    forget_actor(session, person)
    session.flush()
    _drop_own_digest_batches(session, person)
    session.execute(delete(Subscription).where(Subscription.subscriber_id == person.id))
    # Everything else that points at the person is cleared by the database (SET NULL / CASCADE).
    session.execute(delete(Subscriber).where(Subscriber.id == person.id).execution_options(synchronize_session=False))
    session.expunge(person)
    return told


def _drop_own_digest_batches(session: Session, person: Subscriber) -> None:
    """The digest pages built for the person alone (without their own posts) go before they do.

    The database would delete them with the person, but a row of the person's own digest
    would then be changed by two cascades in one statement (its batch and its recipient
    both going), which PostgreSQL refuses as a foreign-key violation. Deleted first, in a
    statement of their own, each cascade has that row to itself.
    """
    session.execute(delete(DigestBatch).where(DigestBatch.author_id == person.id)
                    .execution_options(synchronize_session=False))
