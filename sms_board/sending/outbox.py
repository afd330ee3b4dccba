"""The output boundary: every text the board sends is prepared and recorded here.

`prepare` smart-encodes a text and measures it (segments, encoding); `enqueue`
queues one text to a subscriber for the sender (`enqueue_if_one`: to whoever a condition
picks, in a statement that is the same when it picks no one); `record_replies` stores the
direct replies that leave in the webhook's own TwiML answer, so that every text,
whichever way it leaves, is in the outbox with its segments and counts toward
cost and the monthly cap. Handlers and digests call this; only the sender sends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Insert, bindparam, case, insert, literal, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sms_board.models import Item, Match, OutboxKind, OutboxLane, OutboxStatus, Response, Subscriber
from sms_board.models import Outbox as OutboxRow
from sms_board.plumbing.config import Settings
from sms_board.plumbing.utc import utcnow
from sms_board.sending.call_hours import call_opens
from sms_board.sending.delivery import REPLY_STATUS, initial_status
from sms_board.sending.quiet import held_until
from sms_board.sending.reachability import LANDLINE, takes_texts
from sms_board.text.segments import analyse, smart_encode

# Relays are a conversation in progress; everything else waits for quiet hours to end.
_SENT_IN_QUIET_HOURS = {OutboxKind.RELAY, OutboxKind.REPLY}
# Texts to one person go ahead of any broadcast or digest (docs/architecture.md, "Lanes").
_LANES = {
    OutboxKind.REPLY: OutboxLane.DIRECT,
    OutboxKind.RELAY: OutboxLane.DIRECT,
    OutboxKind.NOTIFY: OutboxLane.DIRECT,
    OutboxKind.BROADCAST: OutboxLane.BULK,
    OutboxKind.DIGEST: OutboxLane.BULK,
    OutboxKind.COPY: OutboxLane.BULK,
    OutboxKind.CALL: OutboxLane.BULK,  # claimed apart from texts, by the call lane (`delivery.claim_call`)
}
# A call's row: what the script says in plain words, never measured in segments.
CALL_ENCODING = "voice"


@dataclass(frozen=True)
class Body:
    """A text as it will be sent: smart-encoded, with its segments and encoding."""

    text: str
    segments: int
    encoding: str


# Replies repeat (HELP, the inbox hint, confirmations): each is measured once.
@lru_cache(maxsize=2048)
def prepare(text: str) -> Body:
    """Smart-encode a text (curly quotes, dashes, … to GSM-7; letters kept as written) and measure it."""
    encoded = smart_encode(text)
    info = analyse(encoded)
    return Body(encoded, info.segments, info.encoding)


def lane_for(kind: OutboxKind, *, urgent: bool = False) -> OutboxLane:
    if kind == OutboxKind.BROADCAST and urgent:
        return OutboxLane.URGENT
    return _LANES[kind]


def enqueue(
    session: Session,
    settings: Settings,
    recipient: Subscriber,
    body: str,
    kind: OutboxKind,
    *,
    zone_name: str | None = None,
    urgent: bool = False,
    about: Item | Response | Match | None = None,
    now: datetime | None = None,
) -> OutboxRow | None:
    """Queue one text to a subscriber, or hold it for quiet hours. Nothing goes to an opted-out number or a landline.

    `about`: the item, offer or connection the text is about; if that is withdrawn before the
    text goes, the text is cancelled (`delivery.cancel_about`).
    """
    if recipient.opted_out_at is not None or recipient.undeliverable_at is not None or not takes_texts(recipient.phone):
        return None
    fields = _text_fields(settings, body, kind, zone_name=zone_name, urgent=urgent, now=now or utcnow())
    row = OutboxRow(to_number=recipient.phone, subscriber_id=recipient.id, **_about(about), **fields)
    session.add(row)
    return row


def enqueue_once(
    session: Session, settings: Settings, recipient: Subscriber, body: str, kind: OutboxKind, *, campaign_id: int,
    version: int, batch_id: int | None = None, not_before: datetime | None = None, now: datetime,
) -> bool:
    """`enqueue` one campaign's text unless that delivery (campaign, subscriber, kind, version) is already
    written: one `INSERT … ON CONFLICT DO NOTHING`, so a resumed run writes it once. `not_before`: it
    waits at least until then. Returns whether a row was written."""
    if recipient.opted_out_at is not None or recipient.undeliverable_at is not None or not takes_texts(recipient.phone):
        return False
    fields = _text_fields(settings, body, kind, zone_name=None, urgent=False, now=now)
    fields["send_after"] = max(fields["send_after"] or now, not_before or now)
    insert_ = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    written = session.execute(
        insert_(OutboxRow).values(to_number=recipient.phone, subscriber_id=recipient.id, item_id=None,
                                  campaign_id=campaign_id, batch_id=batch_id, version=version, **fields)
        .on_conflict_do_nothing(index_elements=["campaign_id", "subscriber_id", "kind", "version"])
        .returning(OutboxRow.id)
    ).scalar()
    return written is not None


def enqueue_call(
    session: Session, settings: Settings, recipient: Subscriber, words: str, *, zone_name: str | None = None,
    campaign_id: int | None = None, batch_id: int | None = None, match: Match | None = None, now: datetime,
) -> OutboxRow | None:
    """Queue one call to a subscriber, held until quiet hours end and call hours open on `zone_name`'s clock.

    `words`: what the call says, in plain words (the outbox's `body`); a call is 0 segments,
    encoding `voice`. Nothing goes to an opted-out number.
    """
    if recipient.opted_out_at is not None:
        return None
    held = call_opens(now, settings, zone_name)
    row = OutboxRow(
        to_number=recipient.phone, subscriber_id=recipient.id, body=words, kind=OutboxKind.CALL,
        status=initial_status(held), lane=lane_for(OutboxKind.CALL).value, segments=0, encoding=CALL_ENCODING,
        campaign_id=campaign_id, batch_id=batch_id, created_at=now, send_after=held, **_about(match),
    )
    session.add(row)
    return row


def _about(thing: Item | Response | Match | None) -> dict[str, int | None]:
    if isinstance(thing, Response):
        return {"item_id": thing.item_id, "response_id": thing.id}
    if isinstance(thing, Match):
        return {"item_id": thing.item_id, "match_id": thing.id}
    return {"item_id": thing.id if thing is not None else None}


class Queued(NamedTuple):
    outbox_id: int
    subscriber_id: int


def enqueue_if_one(
    session: Session, settings: Settings, recipient: ColumnElement[bool], body: str, kind: OutboxKind, *,
    urgent: bool = False, now: datetime, by_language: Mapping[str, str] | None = None,
) -> Queued | None:
    """Queue one text to the subscriber `recipient` picks out, if it picks one, in one `INSERT … SELECT`.

    The statement is the same whether it picks someone or no one: for a caller whose database
    work must not tell who is who (the dashboard's sign-in texts a code to organisers only).
    As with `enqueue`, nothing goes to an opted-out or undeliverable number. `recipient` must
    pick at most one subscriber (a unique column, such as the phone number). `by_language`: the
    text in each language, chosen in the same statement by the subscriber's language; `body` goes
    to someone whose language is none of them.
    """
    fields = _text_fields(settings, body, kind, zone_name=None, urgent=urgent, now=now)
    table = OutboxRow.__table__
    columns: dict[str, ColumnElement[Any]] = {name: literal(value, table.c[name].type) for name, value in fields.items()}
    if by_language:
        versions = {code: prepare(text) for code, text in by_language.items()}
        for name, part in (("body", "text"), ("segments", "segments"), ("encoding", "encoding")):
            columns[name] = case(
                *((Subscriber.language == code, literal(getattr(version, part), table.c[name].type))
                  for code, version in versions.items()),
                else_=columns[name],
            )
    picked = select(Subscriber.phone, Subscriber.id, *columns.values()).where(
        recipient, Subscriber.opted_out_at.is_(None), Subscriber.undeliverable_at.is_(None))
    queued = session.execute(
        insert(table).from_select(["to_number", "subscriber_id", *columns], picked)
        .returning(table.c.id, table.c.subscriber_id)
    ).first()
    return Queued(*queued) if queued else None


def _text_fields(settings: Settings, body: str, kind: OutboxKind, *, zone_name: str | None, urgent: bool,
                 now: datetime) -> dict[str, Any]:
    """An outbox row's columns that follow from the text and its kind: words, measure, lane, quiet hours."""
    held = held_until(now, settings, zone_name or settings.timezone, urgent=urgent or kind in _SENT_IN_QUIET_HOURS)
    prepared = prepare(body)
    return {
        "body": prepared.text, "kind": kind, "status": initial_status(held),
        "lane": lane_for(kind, urgent=urgent).value, "segments": prepared.segments, "encoding": prepared.encoding,
        "created_at": now, "send_after": held,
    }


def record_replies(
    session: Session, to_number: str, subscriber_id: int | None, texts: Sequence[str], *, inbound_id: int,
    now: datetime, by_rest: bool = False,
) -> list[str]:
    """Prepare the direct replies to an inbound text and record them; returns the texts as sent.

    They normally leave as TwiML in the webhook's answer, so they are recorded as sent,
    never queued, never held back by quiet hours or the monthly cap, but counted like any
    text. A text routed with no webhook to answer (the clock took it over) has its replies
    queued `by_rest` in the first lane instead.
    """
    replies = reply_rows(to_number, subscriber_id, texts, inbound_id=inbound_id, now=now, by_rest=by_rest)
    if replies.rows:
        session.connection().execute(insert(OutboxRow.__table__), replies.rows)
    return replies.texts


class Replies(NamedTuple):
    texts: list[str]  # as sent in the webhook's answer (none, to a number that takes no texts)
    rows: list[dict[str, Any]]  # the outbox rows that record them


def reply_rows(
    to_number: str, subscriber_id: int | None, texts: Sequence[str], *, inbound_id: int, now: datetime,
    by_rest: bool = False,
) -> Replies:
    """`record_replies` before the INSERT: the rows, for a caller that writes them with a statement of its own
    (routing: in the one that settles the text, `inserting_replies`)."""
    if not texts:
        return Replies([], [])
    prepared = [prepare(text) for text in texts]
    status = initial_status(None) if by_rest else REPLY_STATUS
    refused = None if takes_texts(to_number) else LANDLINE  # kept, as cancelled, so it shows what was not sent
    # Plain rows (every text but a few has a reply): no ORM object is made for a row nothing else in the
    # transaction reads.
    rows = [
        {
            "to_number": to_number, "subscriber_id": subscriber_id, "body": body.text, "kind": OutboxKind.REPLY,
            "status": (OutboxStatus.CANCELLED if refused else status).value, "lane": OutboxLane.DIRECT.value,
            "segments": body.segments, "encoding": body.encoding, "attempts": 0 if by_rest or refused else 1,
            "inbound_id": inbound_id, "created_at": now, "sent_at": None if by_rest or refused else now,
            "updated_at": now, "status_updated_at": now, "error_message": refused,
        }
        for body in prepared
    ]
    return Replies([] if refused else [body.text for body in prepared], rows)


_OUTBOX = OutboxRow.__table__
_REPLY_COLUMNS = ("to_number", "subscriber_id", "body", "kind", "status", "lane", "segments", "encoding", "attempts",
                  "inbound_id", "created_at", "sent_at", "updated_at", "status_updated_at", "error_message")


@lru_cache(maxsize=8)
def _inserting_replies(count: int) -> Insert:
    # Parameters named apart from the outbox's columns (a parameter named after one would join the VALUES), and
    # each reply's from the others'. Several replies are one INSERT … SELECT of their rows (one statement may
    # carry only one INSERT into a table in its WITH).
    def row(number: int) -> dict[str, Any]:
        return {column: bindparam(f"reply{number}_{column}", type_=_OUTBOX.c[column].type) for column in _REPLY_COLUMNS}

    if count == 1:
        return insert(_OUTBOX).values(row(0))
    rows = union_all(*(select(*(value.label(column) for column, value in row(number).items()))
                       for number in range(count)))
    return insert(_OUTBOX).from_select(list(_REPLY_COLUMNS), rows, include_defaults=False)  # `version`: the server's 0


class Inserting(NamedTuple):
    statements: list[Insert]  # none, or one INSERT of every row, built and compiled once for each number of rows
    parameters: dict[str, Any]  # for it


def inserting_replies(rows: Sequence[Mapping[str, Any]]) -> Inserting:
    """`reply_rows`' rows as a statement another may carry (in a WITH, on PostgreSQL), with its parameters."""
    return Inserting([_inserting_replies(len(rows))] if rows else [],
                     {f"reply{number}_{column}": row[column] for number, row in enumerate(rows)
                      for column in _REPLY_COLUMNS})


def list_outbox(session: Session, status: str | None = None) -> list[OutboxRow]:
    """Every outbox row, `id` ascending, or only those with `status`: the operator's view of what left."""
    query = select(OutboxRow).order_by(OutboxRow.id)
    if status:
        query = query.where(OutboxRow.status == status)
    return list(session.scalars(query))
