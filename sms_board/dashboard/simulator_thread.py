"""What the development simulator (`/simulator`) shows: a phone's thread with the board, and the demo phones' roles.

The thread is the texts the phone sent (with the board's replies) and the outbox texts
queued to it (notifications, relays, sign-in codes), in the order the phone would see them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_board.models import InboundMessage, Organiser, Outbox, Subscriber
from sms_board.text.phrases import phrase


@dataclass(frozen=True)
class Bubble:
    at: datetime
    order: int  # within one moment: the text sent, then its replies, then queued texts
    text: str
    incoming: bool  # sent by the board to the phone
    note: str = ""


@dataclass(frozen=True)
class DemoPhone:
    number: str
    role: str  # "organiser", "administrator", "organiser and administrator" or ""


def thread(session: Session, phone: str) -> list[Bubble]:
    """The last 60 bubbles between `phone` and the board, oldest first."""
    bubbles: list[Bubble] = []
    for row in session.scalars(
        select(InboundMessage).where(InboundMessage.from_number == phone).order_by(InboundMessage.id.desc()).limit(40)
    ):
        bubbles.append(Bubble(row.received_at, 0, row.body, incoming=False))
        bubbles.extend(Bubble(row.received_at, 1, reply, incoming=True) for reply in row.replies)
    for out in session.scalars(
        select(Outbox).where(Outbox.to_number == phone, Outbox.kind != "reply").order_by(Outbox.id.desc()).limit(40)
    ):
        bubbles.append(Bubble(out.created_at, 2, out.body, incoming=True, note=f"{out.kind} · {out.status}"))
    bubbles.sort(key=lambda b: (b.at, b.order))
    return bubbles[-60:]


def demo_phones(session: Session, numbers: Sequence[str]) -> list[DemoPhone]:
    """Each of `numbers` with what it is on this board, so a tester knows which phone signs in."""
    admins = set(session.scalars(
        select(Subscriber.phone).where(Subscriber.phone.in_(numbers), Subscriber.is_admin.is_(True))))
    organisers = set(session.scalars(
        select(Subscriber.phone).join(Organiser, Organiser.subscriber_id == Subscriber.id)
        .where(Subscriber.phone.in_(numbers))))
    return [DemoPhone(n, _role(n in organisers, n in admins)) for n in numbers]


def _role(organiser: bool, administrator: bool) -> str:
    if organiser and administrator:
        return phrase("organiser and administrator")
    if organiser:
        return phrase("organiser")
    return phrase("administrator") if administrator else ""
