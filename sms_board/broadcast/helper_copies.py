"""A broadcast's copies to trusted helpers: "For Rose: <the broadcast>" to each agreed helper of a resident
who received it, in the helper's language (docs/helpers.md).

Written once a broadcast's chunks are written, in two statements whatever the size of the board: one
`SELECT` of every (resident's text, agreed helper) pair of the campaign, and one `INSERT … ON CONFLICT DO
NOTHING` of the copies (none when there are no pairs). A copy is an outbox row of its own, kind `copy`,
under the delivery key (campaign, helper, kind, version) with the helper row's id as its version: one per
helper row and campaign, so a resumed fan-out writes none twice, and ending the helper cancels the copy
still waiting (`trusted_helpers.waiting_copies`). Each copy's body is measured in Python (`prepare`):
its segments count toward the cap like any text's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from sms_board.broadcast.fanout import DELIVERY_KEY
from sms_board.broadcast.versions import versions_for
from sms_board.community.trusted_helpers import ACTIVE
from sms_board.models import (
    Campaign,
    CampaignVersion,
    Outbox,
    OutboxKind,
    Subscriber,
    TrustedHelper,
)
from sms_board.plumbing.config import Settings
from sms_board.plumbing.db import is_sqlite
from sms_board.sending.delivery import initial_status
from sms_board.sending.outbox import prepare
from sms_board.sending.reachability import takes_texts
from sms_board.text.templates import render


def copy_broadcast(session: Session, settings: Settings, campaign: Campaign, stored: Sequence[CampaignVersion],
                   now: datetime) -> int:
    """Write the helpers' copies of a broadcast whose residents' texts are written; returns how many are new.

    Each helper gets the version a reader of their language gets (`versions_for`; the first when they
    would get several), under "For Rose:" in that version's language, on the lane and after the quiet
    hours of Rose's own text. Nothing goes to a helper who opted out or cannot be texted, to a helper who
    got the broadcast themselves, or to the organiser who sent it.
    """
    helper, resident, theirs = aliased(Subscriber), aliased(Subscriber), aliased(Outbox)
    got_it = exists().where(theirs.campaign_id == campaign.id, theirs.subscriber_id == helper.id,
                            theirs.kind == OutboxKind.BROADCAST)
    pairs = session.execute(
        select(TrustedHelper.id, helper.id, helper.phone, helper.language, resident.name, Outbox.lane,
               Outbox.send_after)
        .select_from(Outbox)
        .join(TrustedHelper, TrustedHelper.resident_id == Outbox.subscriber_id)
        .join(helper, helper.id == TrustedHelper.helper_id)
        .join(resident, resident.id == TrustedHelper.resident_id)
        .where(Outbox.campaign_id == campaign.id, Outbox.kind == OutboxKind.BROADCAST,
               TrustedHelper.status.in_(ACTIVE), helper.opted_out_at.is_(None), helper.undeliverable_at.is_(None),
               helper.id != (campaign.created_by_id or -1), ~got_it)
        .order_by(Outbox.id, TrustedHelper.id)
    ).all()
    board = settings.languages
    languages = [version.language for version in stored]
    rows: dict[int, dict[str, Any]] = {}
    for row_id, helper_id, phone, language, name, lane, send_after in pairs:
        if row_id in rows or not takes_texts(phone):
            continue
        group = language if language in board else None
        version = stored[versions_for(group, languages, board[0], by_language=campaign.by_language)[0]]
        body = prepare(render("helper_for", version.language or group or board[0], name=name, body=version.body))
        rows[row_id] = {
            "to_number": phone, "subscriber_id": helper_id, "body": body.text, "kind": OutboxKind.COPY,
            "status": initial_status(send_after), "lane": lane, "segments": body.segments, "encoding": body.encoding,
            "attempts": 0, "campaign_id": campaign.id, "created_at": now, "send_after": send_after, "version": row_id,
        }
    if not rows:
        return 0
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    result = session.connection().execute(
        insert(Outbox.__table__).on_conflict_do_nothing(index_elements=DELIVERY_KEY), list(rows.values()),
        execution_options={"preserve_rowcount": True},
    )
    return max(result.rowcount, 0)
