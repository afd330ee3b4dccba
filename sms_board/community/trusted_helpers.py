"""Trusted helpers: the life cycle of one resident's helper, and the rules for naming one.

Not the `helper` of an exchange (`Match.helper_id`): a trusted helper stands in for a person
(docs/helpers.md). This module is the only writer of `trusted_helpers.status`. A new row is
created `proposed` (`propose`) and moves only through `transition`, one conditional
`UPDATE … WHERE id = … AND status IN (…)`, so a helper's OK and the clock's lapse at the same
moment cannot both win:

    proposed ──helper's OK H<n>──▶ active
    proposed ──helper's NO H<n>──▶ declined
    proposed ──48 hours unanswered (the clock)──▶ lapsed
    active ──12 months on, asked again, not confirmed with OK H<n> in 14 days (the clock)──▶ lapsed
    proposed / active ──HELPER OFF (resident), HELPER OFF <name> (helper), an organiser,
                        either's STOP, either's FORGET──▶ ended

A resident ending it is never told to the helper (coercion happens); the helper ending it, or
their STOP, is told to the resident (or, for one who hears the board by telephone, to the
organisers of their area). The rules for naming one (`propose`) are the same by text, CLI and web.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from sms_board.community import audit
from sms_board.community.languages import enqueue_in_their_language, reading, texts_for
from sms_board.community.people import actor_label, organisers_to_tell
from sms_board.community.privacy import is_suppressed
from sms_board.community.subscriptions import active_areas, get_or_create_subscriber
from sms_board.models import (
    HELPER_LETTER,
    AuditAction,
    DigestBatch,
    HearsBy,
    Item,
    Match,
    Outbox,
    OutboxKind,
    Response,
    Subscriber,
    TrustedHelper,
    TrustedHelperStatus,
)
from sms_board.plumbing.config import Settings
from sms_board.plumbing.db import move_status
from sms_board.sending.delivery import NOT_RECEIVED, cancel_about, in_statuses
from sms_board.sending.outbox import enqueue, enqueue_once, prepare
from sms_board.text.digest_text import page as digest_page
from sms_board.text.phone import mask, normalise, why_not_textable
from sms_board.text.segments import PAGE, fit, frame_segments, smart_encode, truncate_to_segments
from sms_board.text.templates import Said, render
from sms_board.voice.listing import Listing, digest_listings
from sms_board.voice.script import digest_call, digest_call_of, item_words

T = TrustedHelperStatus

# ── the status groups every other module speaks in ─────────────────────────

WAITING = (T.PROPOSED,)  # the helper was asked and has not answered
ACTIVE = (T.ACTIVE,)  # the helper stands in for the resident
CURRENT = (T.PROPOSED, T.ACTIVE)  # counts against the limits; never twice for one pair
FINISHED = (T.DECLINED, T.LAPSED, T.ENDED)  # nothing moves it again

PROPOSAL_LAPSES_AFTER = timedelta(hours=48)
RECONFIRM_EVERY = timedelta(days=365)  # the resident is asked again after this long
RECONFIRM_WITHIN = timedelta(days=14)  # and it lapses unless confirmed within this
PROPOSALS_PER_DAY = 3  # by one resident: a proposal is a text to a stranger that carries a name
_DAY = timedelta(days=1)

_HELPER_REF = re.compile(rf"^#?{HELPER_LETTER}#?(\d{{1,9}})$", re.IGNORECASE)


def helper_ref(token: str) -> int | None:
    """`H4`, `h4`, `#H4` → 4; anything else (`4`, `R4`) → None: a helper's ref always has its letter."""
    match = _HELPER_REF.match(token.strip())
    return int(match.group(1)) if match else None


def transition(session: Session, row: TrustedHelper, to: TrustedHelperStatus, *,
               allowed_from: Iterable[TrustedHelperStatus], now: datetime, **values_: Any) -> bool:
    """Move `row` to `to` if it is still in `allowed_from`; False (and `row` re-read) if it was not.

    Finishing it stamps `ended_at`.
    """
    if to in FINISHED:
        values_.setdefault("ended_at", now)
    moved = move_status(session, row, to, allowed_from, values_)
    if moved and to in FINISHED:
        cancel_about(session, waiting_copies(row), "the helper ended", now)
    return moved


def waiting_copies(row: TrustedHelper) -> ColumnElement[bool]:
    """The copies made for this helper row: its digest copies (kind `copy`) and its notice copies, each
    marked with the row's id as its version (an ordinary text to the helper has version 0)."""
    return and_(Outbox.subscriber_id == row.helper_id, Outbox.version == row.id,
                or_(Outbox.kind == OutboxKind.COPY, Outbox.campaign_id.is_(None)))


# ── who is whose ───────────────────────────────────────────────────────────


def helpers_of(session: Session, resident: Subscriber, statuses: Iterable[TrustedHelperStatus] = CURRENT
               ) -> list[TrustedHelper]:
    return list(session.scalars(select(TrustedHelper).where(
        TrustedHelper.resident_id == resident.id, TrustedHelper.status.in_(list(statuses))).order_by(TrustedHelper.id)))


def has_ties(person: ColumnElement[int]) -> ColumnElement[bool]:
    """Whether `end_everything_of` would find anything of `person`'s to end: a helper, or someone they help
    (proposed or agreed)."""
    return exists().where(or_(TrustedHelper.resident_id == person, TrustedHelper.helper_id == person),
                          TrustedHelper.status.in_(list(CURRENT)))


def helping(session: Session, helper: Subscriber, statuses: Iterable[TrustedHelperStatus] = ACTIVE
            ) -> list[TrustedHelper]:
    """The rows in which `helper` helps someone (agreed, unless `statuses` says otherwise)."""
    return list(session.scalars(select(TrustedHelper).where(
        TrustedHelper.helper_id == helper.id, TrustedHelper.status.in_(list(statuses))).order_by(TrustedHelper.id)))


def name_of(person: Subscriber) -> str:
    """How the other side is named to someone: their NAME, else their number masked (never in full)."""
    return person.name or mask(person.phone)


def area_of(session: Session, resident: Subscriber) -> str:
    """The resident's area, for the helper to know who asks: the first of their areas, or ''."""
    areas = active_areas(session, resident)
    return areas[0].name if areas else ""


# ── naming a helper ────────────────────────────────────────────────────────


def propose(session: Session, settings: Settings, resident: Subscriber, raw_number: str, now: datetime, *,
            words: str, channel: str, asked_by: Subscriber | None = None, asked_label: str | None = None) -> Said:
    """Ask the person at `raw_number` to be `resident`'s helper, or say why not (nothing is written then).

    `words`: the resident's own text, or the organiser's note of how the resident agreed; `asked_by` /
    `asked_label`: who recorded it (None: the resident themselves, by text).
    """
    number = normalise(raw_number, settings.default_region)
    if number is None:
        return Said.of("helper_usage")
    if number == resident.phone:
        return Said.of("helper_refused", reason="own")
    if why_not_textable(number) is not None:
        return Said.of("helper_refused", reason="mobile")
    if not resident.name:
        return Said.of("helper_refused", reason="name")
    helper = session.scalar(select(Subscriber).where(Subscriber.phone == number))
    already = _already(session, resident, helper) if helper is not None else None
    if already is not None:
        return Said.of("helper_refused", reason="twice", ref=already)
    if len(helpers_of(session, resident)) >= settings.helpers_per_resident:
        return Said.of("helper_refused", reason="limit", limit=settings.helpers_per_resident)
    if asked_by is None and asked_label is None and _proposals_today(session, resident, now) >= PROPOSALS_PER_DAY:
        return Said.of("helper_refused", reason="today", limit=PROPOSALS_PER_DAY)
    if _cannot_be_asked(session, settings, helper, number):
        # Never why: that a number opted out, was forgotten or helps enough people is theirs to keep.
        return Said.of("helper_refused", reason="cannot_ask")
    helper = helper or get_or_create_subscriber(session, number, now)
    row = TrustedHelper(resident_id=resident.id, helper_id=helper.id, status=T.PROPOSED, proposed_at=now,
                        asked_by=(asked_label or actor_label(asked_by or resident))[:60], resident_channel=channel,
                        resident_words=words)
    session.add(row)
    session.flush()  # its id is the ref the helper is told
    data = {"name": resident.name, "area": area_of(session, resident), "ref": row.ref}
    row.proposal_wording = "\n\n".join(texts_for(settings, helper, "helper_proposal", **data))
    enqueue_in_their_language(session, settings, helper, "helper_proposal", OutboxKind.NOTIFY, now=now, **data)
    return Said.of("helper_asked", helper=mask(number), ref=row.ref,
                   hours=int(PROPOSAL_LAPSES_AFTER.total_seconds() // 3600)).because(True)


def _already(session: Session, resident: Subscriber, helper: Subscriber) -> str | None:
    row = session.scalar(select(TrustedHelper).where(
        TrustedHelper.resident_id == resident.id, TrustedHelper.helper_id == helper.id,
        TrustedHelper.status.in_(CURRENT)))
    return row.ref if row is not None else None


def _proposals_today(session: Session, resident: Subscriber, now: datetime) -> int:
    return session.scalar(select(func.count(TrustedHelper.id)).where(
        TrustedHelper.resident_id == resident.id, TrustedHelper.resident_channel == "sms",
        TrustedHelper.proposed_at > now - _DAY)) or 0


def _cannot_be_asked(session: Session, settings: Settings, helper: Subscriber | None, number: str) -> bool:
    """An opted-out, undeliverable or forgotten number, or one helping as many as the board allows."""
    if is_suppressed(session, settings.suppression_key, number):
        return True
    if helper is None:
        return False
    if helper.opted_out or helper.undeliverable_at is not None or helper.hears_by != HearsBy.SMS:
        return True
    return len(helping(session, helper, CURRENT)) >= settings.residents_per_helper


# ── the helper's answer ────────────────────────────────────────────────────


def answer(session: Session, settings: Settings, helper: Subscriber, number: int, *, agree: bool, words: str,
           now: datetime) -> Said:
    """`OK H4` / `NO H4` from the person asked; anyone else, or a proposal no longer waiting, names nothing."""
    row = session.get(TrustedHelper, number)
    if row is not None and row.resident_id == helper.id and row.status in ACTIVE and row.reconfirm_asked_at:
        return confirm(session, row, now)
    if row is None or row.helper_id != helper.id:
        return Said.of("helper_answer", outcome="unknown", ref=f"{HELPER_LETTER}{number}")
    if row.status not in WAITING:
        return Said.of("helper_answer", outcome="answered", ref=row.ref)
    if agree and len(helping(session, helper)) >= settings.residents_per_helper:
        return Said.of("helper_answer", outcome="limit", limit=settings.residents_per_helper)
    to = T.ACTIVE if agree else T.DECLINED
    stamps = {"confirmed_at": now} if agree else {}
    if not transition(session, row, to, allowed_from=WAITING, now=now, helper_answered_at=now, helper_words=words,
                      **stamps):
        return Said.of("helper_answer", outcome="answered", ref=row.ref)
    outcome = "agreed" if agree else "declined"
    tell_resident(session, settings, row, outcome, now)
    return Said.of("helper_answer", outcome=outcome, name=row.resident.name, ref=row.ref).because(True)


def lapse_proposals(session: Session, settings: Settings, now: datetime) -> int:
    """Proposals unanswered for 48 hours lapse; the resident is told (the helper, who never answered, is not)."""
    due = session.scalars(select(TrustedHelper).where(
        TrustedHelper.status.in_(WAITING), TrustedHelper.proposed_at <= now - PROPOSAL_LAPSES_AFTER)
        .order_by(TrustedHelper.id)).all()
    lapsed = 0
    for row in due:
        if transition(session, row, T.LAPSED, allowed_from=WAITING, now=now, ended_by="the board"):
            tell_resident(session, settings, row, "lapsed", now)
            lapsed += 1
    return lapsed


def confirm(session: Session, row: TrustedHelper, now: datetime) -> Said:
    """The resident's `OK H4` (or an organiser's `helper confirm H4`) when asked after 12 months: it goes on."""
    if row.status not in ACTIVE or row.reconfirm_asked_at is None:
        return Said.of("helper_answer", outcome="answered", ref=row.ref)
    row.confirmed_at, row.reconfirm_asked_at = now, None
    return Said.of("helper_answer", outcome="confirmed", helper=name_of(row.helper), ref=row.ref).because(True)


def reconfirm_helpers(session: Session, settings: Settings, now: datetime) -> dict[str, int]:
    """Every 12 months: the resident (or their organisers) is asked to confirm; 14 days unconfirmed, it lapses
    and both are told."""
    due = session.scalars(select(TrustedHelper).where(
        TrustedHelper.status.in_(ACTIVE), TrustedHelper.reconfirm_asked_at.is_(None),
        TrustedHelper.confirmed_at <= now - RECONFIRM_EVERY).order_by(TrustedHelper.id)).all()
    for row in due:
        row.reconfirm_asked_at = now
        tell_resident(session, settings, row, "reconfirm", now)
    unconfirmed = session.scalars(select(TrustedHelper).where(
        TrustedHelper.status.in_(ACTIVE), TrustedHelper.reconfirm_asked_at <= now - RECONFIRM_WITHIN)
        .order_by(TrustedHelper.id)).all()
    lapsed = 0
    for row in unconfirmed:
        if transition(session, row, T.LAPSED, allowed_from=ACTIVE, now=now, ended_by="not confirmed"):
            tell_resident(session, settings, row, "unconfirmed", now)
            enqueue_in_their_language(session, settings, row.helper, "helper_answer", OutboxKind.NOTIFY, now=now,
                                      outcome="unconfirmed", name=row.resident.name, ref=row.ref)
            lapsed += 1
    return {"helpers_asked_to_confirm": len(due), "helpers_unconfirmed": lapsed}


# ── ending it ──────────────────────────────────────────────────────────────


def end(session: Session, row: TrustedHelper, now: datetime, *, by: str) -> bool:
    """End a proposal or a helper at once; False when it had ended already."""
    return transition(session, row, T.ENDED, allowed_from=CURRENT, now=now, ended_by=by[:60])


def end_as_resident(session: Session, resident: Subscriber, now: datetime, *, by: str,
                    only: TrustedHelper | None = None) -> list[TrustedHelper]:
    """The resident's helpers (or `only` one) end; the helpers are not told."""
    rows = [only] if only is not None else helpers_of(session, resident)
    return [row for row in rows if end(session, row, now, by=by)]


def end_as_helper(session: Session, settings: Settings, helper: Subscriber, now: datetime, *, by: str,
                  only: Iterable[TrustedHelper] | None = None) -> list[TrustedHelper]:
    """The helper stops helping (everyone, or `only` these); each resident (or their organisers) is told."""
    rows = list(only) if only is not None else helping(session, helper, CURRENT)
    ended = [row for row in rows if end(session, row, now, by=by)]
    for row in ended:
        if row.helper_answered_at is not None:  # a proposal never agreed to was nothing to the resident yet
            tell_resident(session, settings, row, "stopped", now)
    return ended


def end_everything_of(session: Session, settings: Settings, person: Subscriber, now: datetime, *, why: str) -> None:
    """STOP or FORGET: the person's helpers end (not told) and so does their helping (their residents told)."""
    end_as_resident(session, person, now, by=why)
    end_as_helper(session, settings, person, now, by=why)


def on_opt_out(settings: Settings) -> Callable[[Session, Subscriber, datetime], None]:
    """What Twilio's word that a number opted out (21610, by a status callback or the sender) ends besides
    its texts: as a STOP does, the number's helpers (not told) and its helping (its residents told)."""
    def opted_out(session: Session, person: Subscriber, now: datetime) -> None:
        end_everything_of(session, settings, person, now, why="STOP (carrier)")
    return opted_out


def tell_resident(session: Session, settings: Settings, row: TrustedHelper, event: str, now: datetime) -> None:
    """Tell the resident what became of their helper (`event`: agreed, declined, lapsed, stopped) by text;
    for one who hears the board by telephone (or cannot be texted), the organisers of their area."""
    resident = row.resident
    data = {"event": event, "helper": name_of(row.helper), "ref": row.ref, "name": resident.name or ""}
    if resident.hears_by == HearsBy.SMS and not resident.opted_out and resident.undeliverable_at is None:
        enqueue_in_their_language(session, settings, resident, "helper_news", OutboxKind.NOTIFY, now=now,
                                  for_organisers=False, **data)
        return
    areas = active_areas(session, resident)
    # A resident in no area (none is an area id): the administrators, as `organisers_to_tell` falls back to.
    for organiser in organisers_to_tell(session, areas[0].id if areas else -1):
        enqueue_in_their_language(session, settings, organiser, "helper_news", OutboxKind.NOTIFY, now=now,
                                  for_organisers=True, **data)


# ── copies to the helpers ──────────────────────────────────────────────────


def copy_to_helpers(session: Session, settings: Settings, resident: Subscriber, kind: OutboxKind,
                    worded: Callable[[str], str], *, about: Item | Response | Match | None, now: datetime | None,
                    urgent: bool = False, zone_name: str | None = None) -> int:
    """A copy of a notice or relay to `resident` for each of their agreed helpers, in the helper's language,
    marked "For Rose:" (`worded(language)`: the notice in that language). Returns the copies queued.

    Notices are copied where they are queued (`languages.enqueue_in_their_language`); digests by
    `copy_digests`, broadcasts by `copy_broadcast`.
    """
    if resident.id is None:
        return 0
    queued = 0
    for row in helpers_of(session, resident, ACTIVE):
        for language in reading(settings, row.helper):
            text = render("helper_for", language, name=resident.name, body=worded(language))
            copy = enqueue(session, settings, row.helper, text, kind, about=about, now=now, urgent=urgent,
                           zone_name=zone_name)
            if copy is not None:
                copy.version = row.id  # whose copy it is: ending the helper cancels it (`waiting_copies`)
                queued += 1
    return queued


def copy_digests(session: Session, settings: Settings, campaign_ids: Sequence[int], now: datetime) -> int:
    """A copy of each digest these runs wrote for a resident with agreed helpers, to each helper: the first
    page of the resident's digest in the helper's language (`text_copy_pages`), after "For Rose:", ending
    "+2 more: text FOR Rose MORE" when it has more. A resident who hears the board by telephone got a call: the
    copy is the first page of its posts as texts, in the helper's language (`call_copy_pages`). `FOR ROSE MORE`
    reads on from either (`next_copy_page`). Its own outbox row (kind `copy`, version the helper's ref number); a
    copy already written is not written again, so a resumed run copies each digest once. The same few
    statements at any size: the calls' listings and the digests' pages are read once for all of them.
    Returns the copies written."""
    digests = session.execute(
        select(Outbox, TrustedHelper).join(TrustedHelper, TrustedHelper.resident_id == Outbox.subscriber_id)
        .where(Outbox.campaign_id.in_(list(campaign_ids)), Outbox.kind.in_([OutboxKind.DIGEST, OutboxKind.CALL]),
               TrustedHelper.status.in_(ACTIVE))
        .options(selectinload(TrustedHelper.helper), selectinload(TrustedHelper.resident))
        .order_by(Outbox.id, TrustedHelper.id)
    ).all()
    # The calls' listings, read once for all of them (not once a copy).
    calls = {digest.id: digest for digest, _ in digests if digest.kind == OutboxKind.CALL}
    batches = list(session.scalars(select(DigestBatch).where(
        DigestBatch.id.in_([d.batch_id for d in calls.values() if d.batch_id is not None])))) if calls else []
    listings = digest_listings(session, batches)
    # The text digests' batches, and their twins in the helpers' languages, read once for all of them.
    texts = [(digest, row) for digest, row in digests if digest.kind != OutboxKind.CALL and digest.batch_id is not None]
    twins = _twins(session, [digest.batch_id for digest, _ in texts if digest.batch_id is not None],
                   {reading(settings, row.helper)[0] for _, row in texts}) if texts else {}
    written = 0
    for digest, row in digests:
        language = reading(settings, row.helper)[0]
        if digest.kind == OutboxKind.CALL:
            body = call_copy_pages(session, settings, digest, row, listings.get(digest.batch_id or 0, Listing((), ())))[0]
        else:
            own = twins.get((digest.batch_id, None)) if digest.batch_id is not None else None
            theirs = twins.get((digest.batch_id, language)) or own
            body = text_copy_pages(settings, theirs, row)[0] if theirs is not None and theirs.pages else digest.body
        # The delivery key (campaign, helper, copy, the helper's ref) makes a second copy impossible.
        written += enqueue_once(session, settings, row.helper,
                                render("helper_for", language, name=row.resident.name, body=body),
                                OutboxKind.COPY, campaign_id=digest.campaign_id, batch_id=digest.batch_id,
                                version=row.id, not_before=digest.send_after, now=now)
    return written


def _twins(session: Session, batch_ids: Sequence[int], languages: set[str]) -> dict[tuple[int, str | None],
                                                                                   DigestBatch]:
    """Each of these digest batches, keyed (its id, None), and its twin in each of `languages` (on a board of
    several languages every digest is built in each, `digest_groups.plan`: the batch of the same run, area,
    range and author in that language), keyed (its id, the language). Two statements however many."""
    own = list(session.scalars(select(DigestBatch).where(DigestBatch.id.in_(list(set(batch_ids))))))
    found: dict[tuple[int, str | None], DigestBatch] = {(batch.id, None): batch for batch in own}
    wanted = [batch for batch in own if batch.language is not None and languages - {batch.language}]
    if not wanted:
        return found
    candidates = session.scalars(select(DigestBatch).where(
        DigestBatch.campaign_id.in_({batch.campaign_id for batch in wanted}),
        DigestBatch.language.in_(languages)).order_by(DigestBatch.id))

    def same(batch: DigestBatch) -> tuple[Any, ...]:
        return batch.campaign_id, batch.area_id, batch.author_id, batch.since, batch.until

    by_key: dict[tuple[Any, ...], DigestBatch] = {}
    for candidate in candidates:
        by_key.setdefault((*same(candidate), candidate.language), candidate)
    for batch in own:
        found[(batch.id, batch.language)] = batch
        for language in languages:
            twin = by_key.get((*same(batch), language))
            if twin is not None:
                found.setdefault((batch.id, language), twin)
    return found


def text_copy_pages(settings: Settings, batch: DigestBatch, row: TrustedHelper) -> list[str]:
    """A resident's text digest as her helper's pages: the pages the digest wrote (`batch`, in the helper's
    language), each but the last ending "+2 more: text FOR Rose MORE" (her ref, `FOR H4 MORE`, when her NAME
    is more than one word) instead of her "+2 more: text MORE", which reads on in his own digest, not hers.
    The mark, "For Rose: ", is the caller's to add."""
    language = reading(settings, row.helper)[0]
    word = _more_name(row)
    pages = list(batch.pages)
    for index, text in enumerate(pages[:-1]):
        head, _, last = text.rpartition("\n")
        count = re.match(r"\+(\d+)\D", last)
        # Her page's last line is how many follow (digest_page.txt), as `digest_text.page` writes it.
        if head and count and digest_page("", [], int(count.group(1)), False, batch.language or language
                                   ).endswith("\n" + last):
            pages[index] = smart_encode(head + "\n" + render("helper_copy_more", language, name=word,
                                                               more=int(count.group(1))))
    return pages


def _more_name(row: TrustedHelper) -> str:
    """How the helper names her in `FOR … MORE`: her NAME when it is one word, else her ref (`H4`)."""
    name = row.resident.name or ""
    return name if len(name.split()) == 1 else row.ref


def call_copy_pages(session: Session, settings: Settings, source: Outbox, row: TrustedHelper,
                    listing: Listing | None = None) -> list[str]:
    """A landline resident's digest call as her helper's texts, in the helper's language: the call's posts
    still up (as the call reads them, without the greeting and keys; refs as typed, `R3`), each page within
    SMS_BOARD_DIGEST_SEGMENTS once marked "For Rose: " (the mark is the caller's to add); all but the last
    end "+2 more: text FOR Rose MORE", as a resident's digest ends "text MORE". `source`: the call, or the
    copy of it (its batch is the call's). Built from the call's batch each time it is read, so a post taken
    down or forgotten since is never sent on. `listing`: the call's, when a digest run has read it already."""
    language = reading(settings, row.helper)[0]
    call = (digest_call(session, settings, source, chosen=language) if listing is None
            else digest_call_of(settings, source, row.resident, listing, chosen=language))
    posts = [item_words(call, item, written=True) for item in call.listing.items]
    name = row.resident.name or ""
    word = _more_name(row)

    def page(on_page: list[str], left: int, marked: bool = True) -> str:
        text = "\n".join(on_page)
        if left:
            text += "\n" + render("helper_copy_more", language, name=word, more=left)
        whole = smart_encode(render("helper_for", language, name=name, body=text))
        if marked:
            return whole
        # Unmarked, but encoded as it is marked: on its own a page could be encoded otherwise ("…" as "...",
        # two units more once the mark, with a ŵ, makes it UCS-2).
        mark = smart_encode(render("helper_for", language, name=name, body=PAGE)).partition(PAGE)[0]
        return whole[len(mark):] if whole.startswith(mark) else smart_encode(text)

    budget = settings.digest_segments
    pages: list[str] = []
    index = 0
    while index < len(posts):
        on_page: list[str] = []
        while index < len(posts) and fit(page([*on_page, posts[index]], len(posts) - index - 1), budget):
            on_page.append(posts[index])
            index += 1
        if not on_page:  # a post too long for a page of its own: as much of it as fits
            on_page, index = [_cut_to_fit(posts[index], page([PAGE], len(posts) - index - 1), budget)], index + 1
        pages.append(page(on_page, len(posts) - index, marked=False))
    return pages or [""]


def _cut_to_fit(post: str, frame: str, budget: int) -> str:
    """As much of `post` as fits its page (`frame`, marked and encoded, "{page}" standing for the post) within
    `budget` segments. When the frame alone does not fit (SMS_BOARD_DIGEST_SEGMENTS=1, a long NAME, a page made
    UCS-2 by a ŵ, a ł or an emoji), the page takes the fewest segments it can: the post, whole or cut, in as many
    as the frame with "…" needs. Her name is never shortened: it says whose the page is."""
    return truncate_to_segments(smart_encode(post), max(budget, frame_segments(frame)), within=frame)


def next_copy_page(session: Session, settings: Settings, helper: Subscriber, resident: Subscriber) -> str | None:
    """`FOR ROSE MORE`: the next page of the helper's latest digest copy for Rose, in the helper's language ('' when
    every page has been read; None when he has no copy of a digest of hers).

    A copy of her text digest pages the batch her digest wrote in his language (`text_copy_pages`); the place is
    what he has been sent since the copy (his replies that are its pages), so neither her own MORE nor his own
    moves it, nor it theirs. A copy of her call is built again from the call each time (a post taken down since
    is never sent on); its place is Rose's own (`more_batch_id`, `more_page`: a landline never texts MORE)."""
    found = session.execute(
        select(Outbox, TrustedHelper, DigestBatch)
        .join(TrustedHelper, TrustedHelper.id == Outbox.version)
        .join(DigestBatch, DigestBatch.id == Outbox.batch_id)
        .where(Outbox.subscriber_id == helper.id, Outbox.kind == OutboxKind.COPY, ~in_statuses(NOT_RECEIVED),
               TrustedHelper.helper_id == helper.id, TrustedHelper.resident_id == resident.id)
        .order_by(Outbox.id.desc()).limit(1)
    ).first()
    if found is None:
        return None
    copy, row, batch = found
    if batch.encoding != "voice":
        return _next_text_copy_page(session, settings, copy, row, batch)
    pages = call_copy_pages(session, settings, copy, row)
    at = resident.more_page if resident.more_batch_id == copy.batch_id else 1
    if at >= len(pages):
        return ""
    resident.more_batch_id, resident.more_page = copy.batch_id, at + 1
    return pages[at]


def _next_text_copy_page(session: Session, settings: Settings, copy: Outbox, row: TrustedHelper,
                         batch: DigestBatch) -> str:
    language = reading(settings, row.helper)[0]
    theirs = _twins(session, [batch.id], {language})
    pages = text_copy_pages(settings, theirs.get((batch.id, language)) or batch, row)
    # Each page as the helper got it: marked, as the `for` stage marks a reply, and encoded as it was recorded.
    sent = {prepare(render("helper_for", language, name=row.resident.name, body=text)).text: index
            for index, text in enumerate(pages) if index}
    read = session.scalars(select(Outbox.body).where(
        Outbox.subscriber_id == row.helper_id, Outbox.kind == OutboxKind.REPLY, Outbox.id > copy.id,
        Outbox.body.in_(list(sent)))).all() if sent else []
    at = max((sent[body] for body in read if body in sent), default=0) + 1
    return pages[at] if at < len(pages) else ""


def speaks_for_someone(session: Session, person: Subscriber, tokens: tuple[str, ...]) -> bool:
    """Whether a text (its folded words) is `FOR <name or ref> …` from a helper naming someone they help:
    the words after it are that resident's, so they are never the helper's own STOP."""
    if len(tokens) < 3 or tokens[0] != "FOR" or person.id is None:
        return False
    return bool(find_by_ref_or_name(helping(session, person), tokens[1], name_of_row=lambda row: row.resident.name))


def find_by_ref_or_name(rows: list[TrustedHelper], token: str, *, name_of_row: Any) -> list[TrustedHelper]:
    """The rows a word names: a ref (`H4`) names its row, a name every row whose person has it."""
    number = helper_ref(token)
    if number is not None:
        return [row for row in rows if row.id == number]
    return [row for row in rows if (name_of_row(row) or "").upper() == token.upper()]



# ── what organisers do (CLI and dashboard alike) ───────────────────────────


def record_for_resident(session: Session, settings: Settings, resident: Subscriber, raw_number: str, consent: str,
                        now: datetime, *, actor: Subscriber | None, channel: str) -> Said:
    """An organiser records a resident's helper (a landline resident, asked in person): `consent` says
    how the resident agreed (not empty: the caller asks for it). The helper is still asked by text and must
    reply OK H<n>."""
    said = propose(session, settings, resident, raw_number, now, words=consent, channel=channel, asked_by=actor,
                   asked_label=None if actor else audit.OPERATOR)
    if said.changed:
        row = session.get(TrustedHelper, int(str(said.data["ref"]).removeprefix(HELPER_LETTER)))
        assert row is not None
        areas = active_areas(session, resident)
        audit.record(session, AuditAction.HELPER_ADD, now, actor=actor, label=None if actor else audit.OPERATOR,
                     channel=channel, area_id=areas[0].id if areas else None, ref=row.ref,
                     resident=mask(resident.phone), helper=mask(row.helper.phone), consent=consent)
    return said


def end_by_organiser(session: Session, row: TrustedHelper, now: datetime, *, actor: Subscriber | None,
                     channel: str) -> bool:
    """An organiser ends a helper at once; nobody is told (the organiser says what needs saying)."""
    if not end(session, row, now, by=actor_label(actor) if actor else audit.OPERATOR):
        return False
    areas = active_areas(session, row.resident)
    audit.record(session, AuditAction.HELPER_END, now, actor=actor, label=None if actor else audit.OPERATOR,
                 channel=channel, area_id=areas[0].id if areas else None, ref=row.ref,
                 resident=mask(row.resident.phone), helper=mask(row.helper.phone))
    return True


def every_helper(session: Session) -> list[TrustedHelper]:
    """Every helper row, newest first (`sms-board helper list`)."""
    return list(session.scalars(select(TrustedHelper).order_by(TrustedHelper.id.desc())))
