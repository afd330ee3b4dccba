"""The fault tests' view of the outbox: queue texts as the board does, read back rows, match them to requests."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text

from sms_board.models import HearsBy, Outbox, OutboxKind, Subscriber
from sms_board.plumbing.utc import utcnow
from sms_board.sending.outbox import enqueue, enqueue_call

from .rig import Rig


@dataclass(frozen=True)
class Row:
    id: int
    to: str
    status: str
    attempts: int
    provider_sid: str | None
    error_code: str | None
    kind: str


def queue_texts(rig: Rig, numbers: Iterable[str], body: str = "Bins go out on Tuesday, not Monday") -> list[int]:
    """One queued text per number, written the way handlers write them (`sending.outbox.enqueue`)."""
    settings = rig.board.settings
    ids: list[int] = []
    with rig.sessions() as session:
        people: dict[str, Subscriber] = {}
        for number in numbers:
            person = people.get(number) or session.scalar(select(Subscriber).where(Subscriber.phone == number))
            if person is None:
                person = Subscriber(phone=number)
                session.add(person)
                session.flush()
            people[number] = person
            row = enqueue(session, settings, person, body, OutboxKind.NOTIFY)
            assert row is not None
            session.flush()
            ids.append(row.id)
        session.commit()
    return ids


def queue_calls(rig: Rig, numbers: Iterable[str], words: str = "Bins go out on Tuesday, not Monday") -> list[int]:
    """One queued call per number to people who hear the board by voice (`sending.outbox.enqueue_call`)."""
    settings = rig.board.settings
    with rig.sessions() as session:
        people = [Subscriber(phone=number, hears_by=HearsBy.VOICE) for number in numbers]
        session.add_all(people)
        session.flush()
        ids = []
        for person in people:
            row = enqueue_call(session, settings, person, words, now=utcnow())
            assert row is not None
            session.flush()
            ids.append(row.id)
        session.commit()
    return ids


def rows(rig: Rig, kind: str | None = None) -> list[Row]:
    with rig.sessions() as session:
        query = select(Outbox).order_by(Outbox.id)
        if kind is not None:
            query = query.where(Outbox.kind == kind)
        return [Row(r.id, r.to_number, r.status, r.attempts, r.provider_sid, r.error_code, r.kind)
                for r in session.scalars(query)]


def count_status(rig: Rig, *statuses: str) -> int:
    return int(rig.schema.scalar("SELECT count(*) FROM outbox WHERE kind <> 'reply' AND status = ANY(:s)",
                                 s=list(statuses)))


def age_sending(rig: Rig, minutes: int = 6) -> int:
    """Make rows left `sending` look `minutes` old, as if the 5-minute wait had passed.

    `sms-board send` turns rows left `sending` for more than 5 minutes into `unknown`
    (a live sender holds a row `sending` for one HTTP call, seconds). The tests do not
    wait 5 real minutes: once every sender is stopped, no row is really in flight, so
    moving `updated_at` back is exactly the state a 5-minute wait would leave.
    """
    with rig.schema.engine.begin() as connection:
        return connection.execute(text(
            "UPDATE outbox SET updated_at = updated_at - make_interval(mins => :m) WHERE status = 'sending'"
        ), {"m": minutes}).rowcount or 0


def by_row(requests: list[dict[str, Any]]) -> dict[int | None, list[dict[str, Any]]]:
    found: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for request in requests:
        found[request["outbox_id"]].append(request)
    return found


@dataclass
class Audit:
    """What reached Twilio, row by row: the oracle of 'never lost, never twice'."""

    rows: list[Row]
    requests: list[dict[str, Any]]

    def __post_init__(self) -> None:
        # Half a request (its sender killed while writing it) never became a message.
        self.incomplete = [r for r in self.requests if r["answer"] == "incomplete"]
        self.requests = [r for r in self.requests if r["answer"] != "incomplete"]
        self.per_row = by_row(self.requests)

    def accepted(self, row: Row) -> list[dict[str, Any]]:
        return [r for r in self.per_row.get(row.id, []) if r["answer"] == "accept"]

    @property
    def duplicates(self) -> list[int]:
        """Rows Twilio accepted more than once, or was asked again after an ambiguous send."""
        found = []
        for row in self.rows:
            sent = self.per_row.get(row.id, [])
            answers = [r["answer"] for r in sent]
            if answers.count("accept") > 1:
                found.append(row.id)
                continue
            for earlier, later in itertools.pairwise(answers):
                if earlier in {"accept", "drop", "hang"} and later is not None:
                    found.append(row.id)
                    break
        return found

    @property
    def strays(self) -> list[dict[str, Any]]:
        """Requests that name no outbox row of this board."""
        known = {row.id for row in self.rows}
        return [r for r in self.requests if r["outbox_id"] not in known]

    def lost(self, allowed: Iterable[str] = ("sent", "unknown")) -> list[Row]:
        allowed = set(allowed)
        return [row for row in self.rows if row.status not in allowed]

    def sent_without_twilio(self) -> list[Row]:
        """Rows marked sent whose SID is not one Twilio (the fake) handed out for that row."""
        bad = []
        for row in self.rows:
            if row.status != "sent":
                continue
            sids = {r["sid"] for r in self.accepted(row)}
            if row.provider_sid not in sids:
                bad.append(row)
        return bad
