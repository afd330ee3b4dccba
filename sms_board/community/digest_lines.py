"""An item's line in digests already built: withdrawn when it is taken down, erased with its author.

A digest run builds each area's pages once (`DigestBatch`) and writes its first page into
every subscriber's outbox row. Taking an item down (hidden, rejected) changes what is not
yet sent: the pages MORE still reads, the first pages a run still writes from, the texts
waiting to go. A FORGET also changes the texts already sent, so that no copy of the
person's words or name stays in the board's tables. How an item's line reads is
`digest_text`'s, the owner of the page format; what it says instead is
`templates/sms/digest_line_gone.txt`, in each digest's own language (a Welsh reader's page says
it in Welsh); a rewritten text is measured by the output boundary (`sending.outbox.prepare`),
as every text is.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from sms_board.models import Campaign, DigestBatch, Item, Outbox
from sms_board.sending.delivery import WAITING
from sms_board.sending.outbox import Body, prepare
from sms_board.text.digest_text import item_lines_replaced
from sms_board.text.templates import render


def _batches_holding(session: Session, items: Sequence[Item]) -> list[tuple[DigestBatch, list[Item]]]:
    """Each batch that shows any of `items`, with those it shows.

    Only batches built in the items' areas since they were published can hold them.
    """
    if not items:
        return []
    since = min(item.published_at or item.created_at for item in items)
    by_id = {item.id: item for item in items}
    found = []
    for batch in session.scalars(
        select(DigestBatch).join(Campaign, Campaign.id == DigestBatch.campaign_id)
        .where(Campaign.area_id.in_({item.area_id for item in items}), DigestBatch.created_at >= since)
        .order_by(DigestBatch.id)
    ):
        held = [by_id[i] for i in batch.item_ids if i in by_id]
        if held:
            found.append((batch, held))
    return found


def withdraw_from_digests(session: Session, item: Item, first_language: str) -> int:
    """A hidden or rejected item's line says it was withdrawn in every digest not yet sent.

    The pages MORE reads, the first pages a paused or unfinished run still writes from, and
    the digest texts waiting to go; what was already sent stays as it was (the item was
    public when it went out). `first_language`: the board's, which a batch of a board of one
    language is written in. Returns how many waiting texts changed.
    """
    return _rewrite(session, [item], first_language, forgotten=False, sent_too=False)


def erase_from_digests(session: Session, items: Sequence[Item], first_language: str) -> int:
    """Every line of `items` in digests already built, and in every text written from them, says
    the author asked for it to be removed.

    As `withdraw_from_digests`, and also in the texts already sent (FORGET leaves no copy of
    the person's words or name). A sent text keeps the segments it cost. Returns how many
    outbox rows changed.
    """
    return _rewrite(session, items, first_language, forgotten=True, sent_too=True)


def _rewrite(session: Session, items: Sequence[Item], first_language: str, *, forgotten: bool, sent_too: bool) -> int:
    rows = 0
    for batch, held in _batches_holding(session, items):
        # A batch is written in its language; on a board of one language (None), in that one.
        words = render("digest_line_gone", batch.language or first_language, forgotten=forgotten)
        lines = {item.ref: words for item in held}
        batch.pages = [item_lines_replaced(page, lines) for page in batch.pages]
        # The texts the run writes from are measured where every text is: the output boundary.
        body = prepare(item_lines_replaced(batch.body, lines)) if batch.body else None
        reminder = prepare(item_lines_replaced(batch.reminder, lines)) if batch.reminder else None
        for old, new in ((batch.body, body), (batch.reminder, reminder)):
            if old and new is not None and new.text != old:
                rows += _rewrite_rows(session, batch.id, old, new, sent_too=sent_too)
        if body is not None:
            batch.body, batch.segments, batch.encoding = body.text, body.segments, body.encoding
        if reminder is not None:
            # As when the batch was built: the line on how to stop only where it costs no segment more.
            fits = body is not None and (reminder.segments, reminder.encoding) == (batch.segments, batch.encoding)
            batch.reminder = reminder.text if fits else None
    return rows


def _rewrite_rows(session: Session, batch_id: int, old: str, new: Body, *, sent_too: bool) -> int:
    """The batch's texts that say `old` say `new`; a waiting one takes `new`'s measure."""
    waiting = Outbox.status.in_(WAITING)
    return session.execute(
        update(Outbox).where(Outbox.batch_id == batch_id, Outbox.body == old, *([] if sent_too else [waiting]))
        .values(body=new.text, segments=case((waiting, new.segments), else_=Outbox.segments),
                encoding=case((waiting, new.encoding), else_=Outbox.encoding))
        .execution_options(synchronize_session=False)
    ).rowcount or 0
