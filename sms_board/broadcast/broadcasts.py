"""Broadcasts: an organiser's message to everyone in one or more areas, after a YES.

The audience is fixed when fan-out starts: active subscribers of its areas who
had joined by then and can still be texted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from sms_board.broadcast import campaign_lifecycle as lifecycle
from sms_board.broadcast import versions
from sms_board.broadcast.billing import cap_room
from sms_board.broadcast.campaign_lifecycle import (
    TO_FAN_OUT,
    Refusal,
    initial_status,
    status_in,
    transition,
)
from sms_board.broadcast.campaigns import BROADCAST, FAN_OUT_CHUNK, areas_of, pause_campaign
from sms_board.broadcast.fanout import write_versions
from sms_board.broadcast.helper_copies import copy_broadcast
from sms_board.community import audit
from sms_board.models import (
    Area,
    AuditAction,
    Campaign,
    CampaignStatus,
    CampaignVersion,
    Outbox,
    OutboxKind,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from sms_board.plumbing.config import Settings
from sms_board.plumbing.db import PLAN_EACH_TIME, among
from sms_board.sending.outbox import Body, lane_for, prepare
from sms_board.sending.quiet import held_until
from sms_board.sending.reachability import reachable
from sms_board.text.languages import SOURCE_LANGUAGE
from sms_board.text.phone import mask_numbers
from sms_board.text.segments import truncate_to_segments
from sms_board.text.templates import render

log = logging.getLogger(__name__)

# Twilio refuses bodies over 1600 characters; ten GSM-7 segments stay under it.
MAX_BROADCAST_SEGMENTS = 10


@dataclass(frozen=True)
class Version:
    """One text of a broadcast as previewed: the words, for the readers of `language`, as they receive them."""

    language: str | None
    text: str
    body: Body
    readers: int  # people who get it (someone who gets several versions counts in each)
    cost: float

    @property
    def segments(self) -> int:
        return self.body.segments


@dataclass(frozen=True)
class Preview:
    areas: list[Area]
    recipients: int  # people
    versions: tuple[Version, ...]  # in the board's language order (`broadcast.versions`)
    cost: float
    # Written once per language (`BROADCAST CY …`), not one text for everyone.
    by_language: bool = False
    # Recipients whose language is not known: with versions by language, each gets every version.
    unknown: int = 0
    # (language, readers) of the board's languages that have readers but no version of their own, and
    # the language whose version they get instead (None: every version): the preview says so before YES.
    uncovered: tuple[tuple[str, int], ...] = ()
    fallback: str | None = None

    @property
    def body(self) -> Body:
        """The text as the first language's readers receive it."""
        return self.versions[0].body

    @property
    def segments(self) -> int:
        """The most texts any reader's copy takes."""
        return max(version.segments for version in self.versions)

    @property
    def texts(self) -> int:
        return sum(version.readers for version in self.versions)


def broadcast_body(areas: Sequence[Area], text: str, *, urgent: bool, language: str = SOURCE_LANGUAGE) -> Body:
    """The text residents receive: the organiser's words under the area's name (and `language`'s fixed words)."""
    rendered = render("broadcast_message", language, areas=list(areas), text=" ".join(text.split()), urgent=urgent)
    body = prepare(rendered)
    if body.segments > MAX_BROADCAST_SEGMENTS:
        body = prepare(truncate_to_segments(body.text, MAX_BROADCAST_SEGMENTS))
    return body


def audience(
    session: Session, area_ids: Sequence[int], *, exclude_id: int | None = None, joined_by: datetime | None = None,
    after: int | None = None, through: int | None = None,
) -> Select:  # type: ignore[type-arg]
    """`(phone, id)` of everyone a broadcast to these areas reaches, each once.

    `after` < id ≤ `through` (a chunk of a fan-out) bounds both sides of the join: bounded on
    `subscribers` alone, PostgreSQL hashed every subscription of the areas for every chunk.
    """
    member = exists().where(
        Subscription.subscriber_id == Subscriber.id,
        among(session, Subscription.area_id, area_ids),
        Subscription.status == SubscriptionStatus.ACTIVE,
        *_window(Subscription.subscriber_id, after, through),
    )
    if joined_by is not None:
        member = member.where(Subscription.consent_at <= joined_by)
    query = select(Subscriber.phone, Subscriber.id).where(*reachable(), *_window(Subscriber.id, after, through), member)
    if exclude_id is not None:
        query = query.where(Subscriber.id != exclude_id)
    return query


def _window(column: ColumnElement[int], after: int | None, through: int | None) -> list[ColumnElement[bool]]:
    return [*([column > after] if after is not None else []), *([column <= through] if through is not None else [])]


def count_audience(session: Session, area_ids: Sequence[int], *, exclude_id: int | None = None,
                   joined_by: datetime | None = None) -> int:
    query = audience(session, area_ids, exclude_id=exclude_id, joined_by=joined_by).subquery()
    return session.scalar(select(func.count()).select_from(query)) or 0


def audience_by_language(session: Session, board: Sequence[str], area_ids: Sequence[int], *,
                         exclude_id: int | None = None) -> dict[str | None, int]:
    """How many a broadcast to these areas reaches, by language (`versions.reader_group`; None: not known).
    One statement."""
    members = audience(session, area_ids, exclude_id=exclude_id).with_only_columns(
        versions.reader_group(board).label("language")).subquery()
    return {language: count for language, count in session.execute(
        select(members.c.language, func.count()).group_by(members.c.language))}


class NotSpoken(ValueError):
    """A version in a language the board does not speak."""


def preview_broadcast(
    session: Session, settings: Settings, areas: Sequence[Area], text: str | Mapping[str, str], *, urgent: bool,
    sender: Subscriber | None = None,
) -> Preview:
    """Who a broadcast would reach, with which version, and what it would cost; nothing is written.

    `text`: one text for everyone, or the organiser's words by language code (one version per language).
    """
    board = settings.languages
    by_language = not isinstance(text, str)
    if isinstance(text, str):
        written = [(code, text) for code in board]
    else:
        strange = sorted(set(text) - set(board))
        if strange or not text:
            raise NotSpoken(", ".join(strange))
        written = [(code, text[code]) for code in board if code in text]
    languages = [code for code, _ in written]
    # The organiser knows what they wrote: "neighbours" are everyone else.
    counts = audience_by_language(session, board, [a.id for a in areas], exclude_id=sender.id if sender else None)
    per = versions.readers(counts, languages, board, by_language=by_language)
    built = []
    for (code, words), reach in zip(written, per, strict=True):
        body = broadcast_body(areas, words, urgent=urgent, language=code)
        built.append(Version(code, words, body, reach, round(reach * body.segments * settings.price_per_segment, 2)))
    segments = sum(version.readers * version.segments for version in built)
    uncovered = tuple((code, counts[code]) for code in board if code not in languages and counts.get(code)) \
        if by_language else ()
    return Preview(list(areas), sum(counts.values()), tuple(built), round(segments * settings.price_per_segment, 2),
                   by_language=by_language, unknown=counts.get(None, 0), uncovered=uncovered,
                   fallback=board[0] if board[0] in languages else None)


def create_broadcast(
    session: Session, preview: Preview, *, urgent: bool, now: datetime, created_by: Subscriber | None = None,
    confirmed: bool = False, channel: str | None = None,
) -> Campaign:
    """Store a broadcast and its versions: a draft waiting for YES, or already confirmed (the CLI's --yes)."""
    campaign = Campaign(
        kind=BROADCAST,
        status=initial_status(confirmed=confirmed),
        area_id=preview.areas[0].id if len(preview.areas) == 1 else None,
        area_ids=[a.id for a in preview.areas],
        body=preview.body.text,
        urgent=urgent,
        by_language=preview.by_language,
        created_by_id=created_by.id if created_by else None,
        channel=channel or ("sms" if created_by else "cli"),
        audience=preview.recipients,
        segments=preview.segments,
        estimated_cost=preview.cost,
        created_at=now,
        confirmed_at=now if confirmed else None,
    )
    session.add(campaign)
    session.flush()
    session.add_all(
        CampaignVersion(campaign_id=campaign.id, position=position, language=version.language, text=version.text,
                        body=version.body.text, segments=version.segments, encoding=version.body.encoding,
                        readers=version.readers)
        for position, version in enumerate(preview.versions)
    )
    if confirmed:
        _audit(session, campaign, created_by, now)
    log.info("broadcast %s %s: %s recipients, %s texts in %s version(s)", campaign.id, campaign.status,
             preview.recipients, preview.texts, len(preview.versions))
    return campaign


def versions_of(session: Session, campaign: Campaign) -> list[CampaignVersion]:
    """A broadcast's versions, in the order a reader who gets several receives them."""
    return list(session.scalars(
        select(CampaignVersion).where(CampaignVersion.campaign_id == campaign.id).order_by(CampaignVersion.position)))


def confirm_broadcast(session: Session, campaign: Campaign, now: datetime, *,
                      confirmed_by: Subscriber) -> Refusal | None:
    """Draft → confirmed and into the audit log, for YES and the dashboard alike; else why not.

    `campaign_lifecycle.confirm` decides (`may_confirm`) and moves it with a conditional
    UPDATE, so of two confirmations racing exactly one passes; a refusal after which nobody
    could confirm the draft cancels it.
    """
    refusal = lifecycle.confirm(session, campaign, confirmed_by, now)
    if refusal is None:
        _audit(session, campaign, confirmed_by, now)
    return refusal


def _audit(session: Session, campaign: Campaign, by: Subscriber | None, now: datetime) -> None:
    """One audit row per target area, so that each area's log shows what reached it.

    Its first words are masked before they are cut: cut first, half a number would be left to mask.
    """
    action = AuditAction.URGENT if campaign.urgent else AuditAction.BROADCAST
    for area_id in campaign.area_ids:
        audit.record(session, action, now, actor=by, label=None if by else audit.OPERATOR,
                     channel=campaign.channel, area_id=area_id, campaign=campaign.id,
                     recipients=campaign.audience, text=mask_numbers(campaign.body or "")[:80])


@dataclass
class FanOutReport:
    started: int = 0
    texts: int = 0
    paused: int = 0
    # When the first texts written now may go, when quiet hours hold them.
    held_until: datetime | None = None


def fan_out_broadcast(
    factory: sessionmaker[Session], settings: Settings, campaign_id: int, now: datetime, *,
    chunk: int = FAN_OUT_CHUNK, max_chunks: int | None = None,
) -> FanOutReport:
    """Write a confirmed broadcast's outbox rows; resumes a fan-out that stopped halfway.

    `max_chunks` stops early (the campaign stays `fanning_out` for the next tick):
    that is what a crash looks like, and how the tests make one.
    """
    report = FanOutReport()
    with factory() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None or campaign.kind != BROADCAST or campaign.status not in TO_FAN_OUT:
            return report
        stored = versions_of(session, campaign)
        board = settings.languages
        languages = [version.language for version in stored]
        if campaign.status == CampaignStatus.CONFIRMED:
            room = cap_room(session, settings, now)
            if room is not None:
                counts = audience_by_language(session, board, campaign.area_ids, exclude_id=campaign.created_by_id)
                reach = versions.readers(counts, languages, board, by_language=campaign.by_language)
                needed = sum(count * version.segments for count, version in zip(reach, stored, strict=True))
                if needed > room:
                    pause_campaign(session, settings, campaign, now, needed=needed, room=room)
                    session.commit()
                    report.paused += 1
                    return report
            if not transition(session, campaign, CampaignStatus.FANNING_OUT, allowed_from=(CampaignStatus.CONFIRMED,),
                              now=now):
                return report  # another fan-out started it first; it (or the next tick) writes the rows
            report.started += 1
        # Each subscriber joins the versions they get (`versions.gets_version`), in the chunk's one statement.
        reads = versions.gets_version(board, languages, by_language=campaign.by_language)
        lane = lane_for(OutboxKind.BROADCAST, urgent=campaign.urgent)
        # Quiet hours are each area's own; areas that share a time zone share one statement.
        # A resident in two target areas in different zones gets the first zone's timing.
        zones: dict[str, list[int]] = {}
        for area in areas_of(session, campaign):
            zones.setdefault(area.timezone, []).append(area.id)
        chunks = 0
        for zone_name, area_ids in zones.items():
            send_after = held_until(now, settings, zone_name, urgent=campaign.urgent)
            # Chunks are ranges of subscriber ids, so each chunk reads only its own range (both
            # the boundary and the write); a resumed fan-out walks them again and the unique
            # constraint skips the done. Two statements a chunk, whatever the size of the board.
            after = 0
            while True:
                if max_chunks is not None and chunks >= max_chunks:
                    session.commit()
                    return report
                members = audience(session, area_ids, exclude_id=campaign.created_by_id, joined_by=campaign.started_at,
                                   after=after)
                last = session.scalar(
                    members.with_only_columns(Subscriber.id).order_by(Subscriber.id).offset(chunk - 1).limit(1),
                    execution_options=PLAN_EACH_TIME,
                )
                window = audience(session, area_ids, exclude_id=campaign.created_by_id, joined_by=campaign.started_at,
                                  after=after, through=last)
                written = write_versions(session, window, reads, kind=OutboxKind.BROADCAST, lane=lane,
                                         campaign_id=campaign_id, now=now, send_after=send_after)
                report.texts += written
                if written and send_after and (report.held_until is None or send_after < report.held_until):
                    report.held_until = send_after
                chunks += 1
                if last is None:
                    break
                session.commit()
                after = last
        # The audience is people: someone whose language is not known may have a text of each version.
        reached = select(func.count(func.distinct(Outbox.subscriber_id))).where(
            Outbox.campaign_id == campaign_id).scalar_subquery()
        transition(session, campaign, CampaignStatus.SENDING, allowed_from=(CampaignStatus.FANNING_OUT,), now=now,
                   audience=reached)
        # Trusted helpers' copies (docs/helpers.md), once every resident's text is written; not in the audience.
        report.texts += copy_broadcast(session, settings, campaign, stored, now)
        session.commit()
    log.info("broadcast %s fanned out: %s texts written this run", campaign_id, report.texts)
    return report


def fan_out_confirmed(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    """Fan out every confirmed broadcast, and resume any whose fan-out stopped halfway."""
    with factory() as session:
        due = list(session.scalars(
            select(Campaign.id).where(Campaign.kind == BROADCAST, status_in(TO_FAN_OUT))
            .order_by(Campaign.id)
        ))
    total = FanOutReport()
    for campaign_id in due:
        report = fan_out_broadcast(factory, settings, campaign_id, now)
        total.started += report.started
        total.texts += report.texts
        total.paused += report.paused
    return {"broadcasts_started": total.started, "broadcast_texts": total.texts, "broadcasts_paused": total.paused}
