"""A trusted helper acts for the resident: `FOR ROSE <text>` is Rose's own text, through the signed
webhook (docs/helpers.md). The black-box scenario of issue 22 as far as it is built."""

from __future__ import annotations

import re

from sqlalchemy import select

from sms_board.models import Exchange, InboundMessage, Item, ItemEvent, Subscriber
from tests.conftest import session_of

ROSE, SAM, PRIYA, TOM = "+447700900111", "+447700900222", "+447700900333", "+447700900444"


def ref_in(text: str) -> str:
    found = re.search(r"#?([NRO]\d+)", text)
    assert found, text
    return found.group(1)


def neighbours(phone):  # type: ignore[no-untyped-def]
    """Rose, who has named Sam her helper (he agreed), and Priya, a neighbour; all on Elm Street."""
    people = {}
    for number, name in ((ROSE, "Rose"), (SAM, "Sam"), (PRIYA, "Priya")):
        person = phone(number)
        person.text("JOIN ELM")
        person.text(f"NAME {name}")
        people[name.lower()] = person
    people["rose"].text("HELPER 07700 900222")
    people["ref"] = re.search(r"\b(H\d+)\b", people["rose"].text("MY")[0]).group(1)  # type: ignore[union-attr]
    people["sam"].text(f"OK {people['ref']}")
    return people


def test_a_helper_posts_accepts_and_closes_for_the_resident_and_the_hours_are_hers(areas, phone, app):
    people = neighbours(phone)
    sam, priya = people["sam"], people["priya"]
    posted = sam.text("FOR ROSE NEED lift to the GP on Thursday")
    assert posted[0].startswith("For Rose: ") and len(posted) == 1
    ref = ref_in(posted[0])
    with session_of(app) as session:
        item = session.get(Item, int(ref[1:]))
        author = session.get(Subscriber, item.author_id)
        assert (author.phone, item.body) == (ROSE, "lift to the GP on Thursday")

    priya.text(f"CAN {ref}")
    assert sam.text(f"FOR ROSE OK {ref}") == [
        f"For Rose: Connected with Priya on #{ref}. Text {ref} <message> to talk; your number stays private. "
        f"Text DONE {ref} when it's done."]
    assert "Connected with Rose" in priya.received()[-1].body
    sam.text(f"FOR {people['ref']} {ref} She says 10am is fine")
    assert priya.received()[-1].body.endswith("She says 10am is fine")
    sam.text(f"FOR rose DONE {ref} 2")

    with session_of(app) as session:
        exchange = session.scalars(select(Exchange)).one()
        assert (session.get(Subscriber, exchange.receiver_id).phone, exchange.hours) == (ROSE, 2.0)
        by = session.scalars(select(ItemEvent.detail).where(ItemEvent.item_id == int(ref[1:]))
                             .order_by(ItemEvent.id)).all()
        assert [detail.get("by_helper") for detail in by][-2:] == ["Sam +44 7•••• ••222 as Rose's helper"] * 2
    assert sam.text("BALANCE")[0].startswith("Timebank: you've given 0h (0 times) and received 0h (0 times).")
    assert "received 2h" in sam.text("FOR ROSE BALANCE")[0]


def test_the_residents_own_rights_are_refused_and_nothing_is_done(areas, phone, app):
    people = neighbours(phone)
    sam = people["sam"]
    for words in ("STOP", "stop texting me", "START", "FORGET", "HELPER OFF", "YES"):
        assert sam.text(f"FOR ROSE {words}") == ["Only Rose can do that. HELPER OFF Rose stops your helping."]
    with session_of(app) as session:
        rose, helper = (session.scalar(select(Subscriber).where(Subscriber.phone == n)) for n in (ROSE, SAM))
        assert rose is not None and helper is not None
        assert rose.opted_out_at is None and helper.opted_out_at is None


def test_for_from_someone_who_helps_nobody_is_an_ordinary_text_and_naming_the_wrong_person_does_nothing(
    areas, phone, app, inbound_rows,
):
    people = neighbours(phone)
    tom = phone(TOM)
    tom.text("JOIN ELM")
    tom.text("FOR ROSE NEED a lift")
    assert inbound_rows()[-1].in_inbox and inbound_rows()[-1].handler == "inbox"
    assert people["sam"].text("FOR PRIYA NEED a lift") == ["You're not PRIYA's helper."]
    with session_of(app) as session:
        assert session.scalars(select(Item)).all() == []
        handled = session.scalars(select(InboundMessage.handler).order_by(InboundMessage.id.desc())).first()
        assert handled == "for"


def test_the_helper_gets_copies_of_the_residents_notices_and_relays_until_helper_off(areas, phone, app):
    people = neighbours(phone)
    rose, sam, priya = people["rose"], people["sam"], people["priya"]
    ref = ref_in(rose.text("NEED help with the shopping")[0])
    priya.text(f"CAN {ref}")
    offer = rose.received()[-1].body
    assert sam.received()[-1].body == f"For Rose: {offer}"
    sam.text(f"FOR ROSE OK {ref}")
    priya.text(f"{ref} I can come at 10am")
    relayed = rose.received()[-1].body
    assert relayed.endswith("I can come at 10am") and sam.received()[-1].body == f"For Rose: {relayed}"

    rose.text("HELPER OFF")
    copies = len(sam.received())
    priya.text(f"{ref} Running late, 10:15")
    assert rose.received()[-1].body.endswith("Running late, 10:15")
    assert len(sam.received()) == copies
    assert sam.text(f"FOR ROSE {ref} fine") != [] and rose.received()[-1].body.endswith("Running late, 10:15")


def test_a_digest_copy_reaches_the_helper_marked_for_the_resident_and_stops_after_helper_off(areas, phone, app,
                                                                                            runner):
    from datetime import UTC, datetime, timedelta

    import time_machine

    people = neighbours(phone)
    rose, sam, priya = people["rose"], people["sam"], people["priya"]
    priya.text("POST Jumble sale at the church hall on Saturday")
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2), tick=False) as clock:
        runner("digest")
        digest = next(row for row in rose.received() if row.kind == "digest")
        [copy] = [row for row in sam.received() if row.kind == "copy"]
        assert "Jumble sale" in digest.body and copy.body.startswith("For Rose: ")
        # Her digest's page, without her line on how to stop (Sam's STOP would stop Sam's own texts).
        assert "STOP" in digest.body and "STOP" not in copy.body
        assert digest.body.startswith(copy.body.removeprefix("For Rose: "))
        assert (copy.campaign_id, copy.version) == (digest.campaign_id, int(people["ref"][1:]))
        assert sam.text("FOR ROSE MORE")[0].startswith("For Rose: ")  # the next page of Rose's own digest

        clock.shift(timedelta(minutes=10))
        rose.text("HELPER OFF")
        priya.text("POST Lost black cat near the park")
        clock.shift(timedelta(minutes=2))
        runner("digest")
        assert any("Lost black cat" in row.body for row in rose.received() if row.kind == "digest")
        assert [row.body for row in sam.received() if row.kind == "copy"] == [copy.body]
