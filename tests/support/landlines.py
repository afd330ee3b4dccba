"""A neighbour on a landline who hears the board by telephone and offers help by keypad (CAN, key 3)."""

from __future__ import annotations

from flask import Flask

from sms_board.community.exchange import respond
from sms_board.models import HearsBy, Item, ResponseKind, Subscriber, Subscription
from sms_board.plumbing.utc import utcnow
from tests.conftest import session_of


def landline_offers(app: Flask, item_ref: str, number: str, *, name: str = "Mavis",
                    language: str | None = None) -> None:
    """`name`, on the landline `number`, subscribed (by an organiser, who phoned her) to the area of the
    request `item_ref` (`R12`), in `language` (None: the board's first), pressed 3 after hearing it: CAN."""
    with session_of(app) as session:
        item = session.get(Item, int(item_ref[1:]))
        assert item is not None
        person = Subscriber(phone=number, name=name, hears_by=HearsBy.VOICE,
                            **({"language": language} if language else {}))
        session.add(person)
        session.flush()
        session.add(Subscription(subscriber_id=person.id, area_id=item.area_id, consent_at=utcnow(),
                                 consent_text="phoned by Ruth", consent_channel="import"))
        respond(session, item, person, ResponseKind.OFFER, utcnow())
        session.commit()
