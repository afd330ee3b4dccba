"""What residents post: a notice, a help request or a standing offer from a text, and the reply to it.

POST, NEED and OFFER differ only in their `Form`. The area is the one an area word after the
keyword names, else the sender's one area; the item's status is the area's moderation policy
(`community.moderation`): published at once, held for an organiser's OK, or kept until the
author gives a NAME. Every way a text posts nothing (no words, no area) gets a hint instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sms_board.community.areas import area_named_first
from sms_board.community.exchange import open_item
from sms_board.community.moderation import status_for_new, submitted
from sms_board.community.subscriptions import nameable_areas
from sms_board.models import Area, Item, ItemKind, ItemStatus, Subscriber
from sms_board.plumbing.config import Settings
from sms_board.text.templates import Said
from sms_board.text.words import Words


@dataclass(frozen=True)
class Form:
    """How one keyword posts: the kind of item, the keyword hints name, its two replies, the longest text kept."""

    kind: ItemKind
    keyword: str
    empty: str  # template: the text says nothing to post
    published: str  # template: posted and published
    max_length: int


def post_item(session: Session, settings: Settings, author: Subscriber, words: Words, form: Form, *,
              inbound_id: int, now: datetime) -> Said:
    """Post the words after the keyword (and any area word) as a new item; the reply to the author.

    The reply says it is published, held for an organiser or waiting for a NAME (all three
    changed something); or, when nothing was posted, what to write instead.
    """
    if not words.rest():
        return Said.of(form.empty)
    chosen = choose_area(session, author, words, form.keyword)
    if isinstance(chosen, Said):
        return chosen
    area, text = chosen
    if not text:
        return Said.of(form.empty)
    item = _new_item(session, settings, area, author, form, text, inbound_id=inbound_id, now=now)
    if item.status == ItemStatus.UNNAMED:
        return Said.of("post_needs_name", item=item, area=area).because(True)
    if item.status == ItemStatus.PENDING:
        return Said.of("post_held", item=item, area=area).because(True)
    return Said.of(form.published, item=item, area=area, truncated=len(text) > form.max_length,
                  max=form.max_length, named=bool(author.name)).because(True)


def choose_area(session: Session, author: Subscriber, words: Words, keyword_name: str) -> tuple[Area, str] | Said:
    """The area a post goes to and the text after any area word; or a hint, when it goes nowhere.

    The first word after the keyword, when it names one of the sender's areas, is the target
    however many areas they are in (the "Which area?" reply teaches `POST ELM <msg>`), and is
    no part of the text. Naming a public area they are not in gets how to join it, or how to
    post at home: their own area word first, after which the text is kept whole.
    """
    mine, others = nameable_areas(session, author)
    named = area_named_first([*mine, *others], words.tokens[1:])
    if named is not None:
        area, used = named
        if area in mine:
            return area, words.rest(1 + used)
        return Said.of("not_in_area", area=area, areas=mine, keyword=keyword_name)
    if not mine:
        return Said.of("need_area", keyword=keyword_name)
    if len(mine) == 1:
        return mine[0], words.rest()
    return Said.of("which_area", keyword=keyword_name, areas=mine)


def _new_item(session: Session, settings: Settings, area: Area, author: Subscriber, form: Form, text: str, *,
              inbound_id: int, now: datetime) -> Item:
    """The item, published or held as the area's moderation says, with its first event."""
    status = status_for_new(session, area, author)
    published = status == ItemStatus.PUBLISHED
    item = Item(
        kind=form.kind, area_id=area.id, author_id=author.id, author_name=author.name,
        body=text[:form.max_length], status=status, inbound_id=inbound_id,
        created_at=now, published_at=now if published else None, last_activity_at=now,
        expires_at=now + timedelta(days=settings.request_expire_days)
        if form.kind == ItemKind.REQUEST and published else None,
        # Known now, so recording its first event writes nothing more to the row.
        reminded_at=None, closed_at=None,
    )
    open_item(session, item, now, actor=author, area=area)
    submitted(session, item, now)
    return item
