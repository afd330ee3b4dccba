"""INTRO: an organiser (a link worker, a GP's social prescriber) proposes to put two residents in touch.

`INTRO +447700900123 +447700900456 gardening`: both must be subscribers of one
of the organiser's areas. Each is asked to reply `OK I4`; only when both agree
are they connected, by relay. No number is shown to anyone.
"""

from __future__ import annotations

from sqlalchemy import select

from sms_board.community import audit
from sms_board.community.exchange import display_name, is_member, record
from sms_board.handlers.router import Context, keyword
from sms_board.models import (
    AuditAction,
    Item,
    ItemEventAction,
    ItemKind,
    ItemStatus,
    Response,
    ResponseKind,
    ResponseStatus,
    Subscriber,
)
from sms_board.text.phone import normalise


@keyword("INTRO", "INTRODUCE")
def intro(ctx: Context) -> None:
    areas = ctx.organiser_areas()
    if not areas:
        ctx.reply("organisers_only", action="INTRO")
        ctx.file_in_inbox()
        return
    tokens = ctx.words.original.split()[1:]
    numbers = [normalise(t, ctx.settings.default_region) for t in tokens[:2]]
    topic = " ".join(tokens[2:]).strip()
    if len(numbers) < 2 or None in numbers or not topic:
        ctx.reply("intro_usage")
        return
    people = [ctx.session.scalar(select(Subscriber).where(Subscriber.phone == n)) for n in numbers]
    area = next(
        (a for a in areas if all(p is not None and is_member(ctx.session, p, a.id) for p in people)), None
    )
    if area is None or people[0] is people[1] or any(p is None or p.opted_out for p in people):
        ctx.reply("intro_not_members")
        return
    first, second = people[0], people[1]
    assert first is not None and second is not None
    item = Item(
        kind=ItemKind.INTRO, area_id=area.id, author_id=ctx.subscriber.id, author_name=ctx.subscriber.name,
        body=topic[:160], status=ItemStatus.PUBLISHED, inbound_id=ctx.inbound.id,
        created_at=ctx.now, published_at=ctx.now, last_activity_at=ctx.now,
    )
    ctx.session.add(item)
    ctx.session.flush()
    for number, person in enumerate((first, second), start=1):
        ctx.session.add(Response(item_id=item.id, responder_id=person.id, kind=ResponseKind.INTRO,
                                 number=number, status=ResponseStatus.PENDING, created_at=ctx.now))
    record(ctx.session, item, ItemEventAction.INTRODUCED, ctx.now, actor=ctx.subscriber)
    ctx.did()
    audit.record(ctx.session, AuditAction.INTRO, ctx.now, actor=ctx.subscriber, item=item)
    organiser = display_name(ctx.subscriber)
    ctx.notify(first, "intro_asked", about=item, item=item, organiser=organiser, other=display_name(second), area=area)
    ctx.notify(second, "intro_asked", about=item, item=item, organiser=organiser, other=display_name(first), area=area)
    ctx.reply("intro_sent", item=item)
