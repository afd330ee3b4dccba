"""The campaign life cycle: every status change of every digest run and broadcast goes through this module.

    draft ──YES (may_confirm)──▶ confirmed ──fan-out starts──▶ fanning_out ──all written──▶ sending ──▶ done
      │                             │                             │   └──nothing to send─────────────────▶ done
      ├──15 minutes, no YES─────▶ cancelled                       │
      ├──a version added by SMS (a new draft holds them all)──▶ cancelled
      └──sender no longer an organiser, at YES──▶ cancelled       │
                                    └──monthly cap──▶ paused ◀────┘

A digest run is created `confirmed`; a broadcast `draft` (or `confirmed`, from the CLI's
`--yes`). A row moves only through `transition()`: one conditional `UPDATE … WHERE status
IN (…)` naming the states it may leave, so two confirmations of one draft (a double click,
YES by text and a click on the dashboard) cannot both pass, and the clock cannot lapse a
draft that was confirmed a moment before. Each move stamps the campaign's own time column
for the state it enters (`STAMPS`). The database refuses any status not in
`models.CampaignStatus` (a CHECK constraint).

Whether a person may confirm a draft (`may_confirm`) is decided here too, for YES by text
and the dashboard's Confirm alike, and so is what a refusal does to the draft (`refuse`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import ClauseElement

from sms_board.community.confirmations import CONFIRM_WINDOW
from sms_board.models import Area, Campaign, CampaignStatus, Organiser, Subscriber

C = CampaignStatus

# ── the status groups every other module speaks in ─────────────────────────

DRAFTS = (C.DRAFT,)  # a broadcast waiting for its organiser's YES
TO_FAN_OUT = (C.CONFIRMED, C.FANNING_OUT)  # the clock writes (or resumes writing) their outbox rows
TO_PAUSE = TO_FAN_OUT  # the monthly cap stops a campaign before or while it is written
# Rows of these may still be queued: quiet hours hold them (a digest paused part-way has some too).
WITH_TEXTS_WAITING = (C.FANNING_OUT, C.SENDING, C.PAUSED)
DRAINING = (C.SENDING,)  # every row written; done when none is waiting or in flight
FINISHED = (C.DONE, C.CANCELLED)

# A draft is confirmed by YES, so it lives as long as any YES waits: older, it can never be confirmed.
DRAFT_LIFETIME = CONFIRM_WINDOW
LAPSED_NOTE = "not confirmed in time"
NOT_ORGANISER_NOTE = "sender is no longer an organiser of every area"
REPLACED_NOTE = "replaced by a preview with another language's version"

# The time column each state stamps when a campaign enters it. `sending` and `paused` have
# none of their own: the note says why a campaign paused.
STAMPS = {
    C.CONFIRMED: "confirmed_at",
    C.FANNING_OUT: "started_at",
    C.DONE: "finished_at",
    C.CANCELLED: "finished_at",
}


def initial_status(*, confirmed: bool) -> CampaignStatus:
    """A broadcast starts as a draft waiting for YES; a digest run or the CLI's `--yes`, confirmed."""
    return C.CONFIRMED if confirmed else C.DRAFT


# ── the one way a status changes ───────────────────────────────────────────

Which = Campaign | Sequence[Campaign] | ColumnElement[bool]


def transition(
    session: Session, which: Which, to: CampaignStatus, *, allowed_from: Iterable[CampaignStatus], now: datetime,
    **values: Any,
) -> int:
    """Move the campaigns `which` names to `to`, but only those now in `allowed_from`; returns how many moved.

    `which` is a loaded campaign, several, or a condition (for set-based moves by the clock).
    Loaded campaigns that moved show their new status and stamps at once; those that did
    not (another process moved them first) are expired, so reading them fetches the truth.
    """
    loaded = [which] if isinstance(which, Campaign) else list(which) if isinstance(which, Sequence) else None
    if loaded is not None and not loaded:
        return 0
    condition = Campaign.id.in_([c.id for c in loaded]) if loaded is not None else which
    stamp = STAMPS.get(to)
    values = {**({stamp: now} if stamp else {}), **values, "status": to}
    # ORM-enabled, so a campaign's unsaved changes (a note, the channel) are flushed first.
    moved = set(session.scalars(
        update(Campaign)
        .where(condition, status_in(allowed_from))  # type: ignore[arg-type]
        .values(**values)
        .returning(Campaign.id)
        .execution_options(synchronize_session=False)
    ))
    for campaign in loaded or []:
        if campaign.id not in moved:
            session.expire(campaign)
            continue
        for key, value in values.items():
            if isinstance(value, ClauseElement):
                session.expire(campaign, [key])  # worked out by the database: read it back when needed
            else:
                set_committed_value(campaign, key, value)
    return len(moved)


def status_in(statuses: Iterable[CampaignStatus]) -> ColumnElement[bool]:
    return Campaign.status.in_(list(statuses))


# ── who may confirm a draft ────────────────────────────────────────────────


class Refusal(enum.StrEnum):
    """Why a confirmation was refused; each channel says it in its own words."""

    NOT_THEIRS = "not_theirs"  # only the organiser who wrote a broadcast confirms it: the draft is left alone
    NOT_ORGANISER = "not_organiser"  # removed from an area since the preview: the draft is cancelled
    LAPSED = "lapsed"  # older than DRAFT_LIFETIME: the clock cancels it
    NOT_A_DRAFT = "not_a_draft"  # already confirmed, cancelled or sent


# Refusals after which the draft can never be confirmed by anyone: it is cancelled at once,
# so it never waits on the dashboard as if someone still could.
CANCELS = {Refusal.NOT_ORGANISER: NOT_ORGANISER_NOTE}


def may_confirm(session: Session, campaign: Campaign, person: Subscriber, now: datetime) -> Refusal | None:
    """Whether `person` may confirm this draft now: None if so, else why not. Writes nothing.

    The same rule for YES by text and the dashboard's Confirm: the organiser who wrote it,
    still able to broadcast to every one of its areas (their organiser, or an administrator,
    who may broadcast to any area from the dashboard), within DRAFT_LIFETIME.
    """
    if campaign.created_by_id is None or campaign.created_by_id != person.id:
        return Refusal.NOT_THEIRS
    if not _broadcasts_to(session, person, campaign.area_ids or []):
        return Refusal.NOT_ORGANISER
    if campaign.status == C.DRAFT and now - campaign.created_at > DRAFT_LIFETIME:
        return Refusal.LAPSED
    if campaign.status != C.DRAFT:
        return Refusal.NOT_A_DRAFT
    return None


def _broadcasts_to(session: Session, person: Subscriber, area_ids: Sequence[int]) -> bool:
    """Whether `person` may broadcast to every one of these areas (an area since deleted counts against)."""
    wanted = set(area_ids)
    if not wanted:
        return False
    if person.is_admin:
        found = select(func.count()).select_from(Area).where(Area.id.in_(wanted))
    else:
        found = select(func.count()).select_from(Organiser).where(
            Organiser.subscriber_id == person.id, Organiser.area_id.in_(wanted))
    return session.scalar(found) == len(wanted)


def confirm(session: Session, campaign: Campaign, person: Subscriber, now: datetime) -> Refusal | None:
    """Draft → confirmed if `person` may confirm it; else why not (and `refuse`'s consequence)."""
    refusal = may_confirm(session, campaign, person, now)
    if refusal is None and not transition(session, campaign, C.CONFIRMED, allowed_from=DRAFTS, now=now):
        refusal = Refusal.NOT_A_DRAFT  # another confirmation (or the clock) moved it first
    if refusal is not None:
        refuse(session, campaign, refusal, now)
    return refusal


def replace(session: Session, draft: Campaign, now: datetime) -> bool:
    """A draft whose versions went into a new draft with one more (`BROADCAST EN …` after `BROADCAST CY …`)
    is cancelled: what YES confirms is always exactly what its preview showed. False if it had moved on."""
    return bool(transition(session, draft, C.CANCELLED, allowed_from=DRAFTS, now=now, note=REPLACED_NOTE))


def refuse(session: Session, campaign: Campaign, refusal: Refusal, now: datetime) -> None:
    """What a refused confirmation does to the draft: cancelled when nobody could ever confirm it."""
    note = CANCELS.get(refusal)
    if note is not None:
        transition(session, campaign, C.CANCELLED, allowed_from=DRAFTS, now=now, note=note)
