"""Which language each person is texted in, how it is chosen, and texting them in it.

A person's language is one of the board's (`SMS_BOARD_LANGUAGES`), or not known yet. It is
known from the first keyword they text that belongs to one language (`YMUNO ELM` → Welsh,
`JOIN ELM` → English), from a word that chooses one (`CYMRAEG`, `ENGLISH`, `IAITH CY`), or from
an organiser (import, the dashboard, the CLI). Every choice is kept with its time and wording in
`language_choices`, as consent is. Until it is known, every text goes to them once in each of the
board's languages, the first language first: nobody is sent only a language they may not read.
An area may speak only some of the board's languages (`area add … --languages cy`): someone whose
language is not known and whose every area is narrowed gets the languages of their areas instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from sms_board.community.areas import public_page
from sms_board.models import (
    Area,
    Item,
    LanguageChoice,
    Match,
    OutboxKind,
    Response,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from sms_board.plumbing.config import Settings
from sms_board.sending.outbox import OutboxRow, enqueue
from sms_board.text.languages import listed, pack
from sms_board.text.phrases import phrase
from sms_board.text.templates import render


def spoken_in(settings: Settings, area: Area | None) -> tuple[str, ...]:
    """The board's languages an area speaks (`area add … --languages`), the board's first first."""
    if area is None or not area.languages:
        return settings.languages
    own = {code.strip() for code in area.languages.split(",")}
    return tuple(code for code in settings.languages if code in own) or settings.languages


def reading(settings: Settings, person: Subscriber, *, areas: Sequence[Area] | None = None,
            joining: Area | None = None) -> tuple[str, ...]:
    """The languages texts go to `person` in, the board's first first: theirs when it is known and the board
    speaks it; else the languages of their areas when every one of them is narrowed; else all the board's.

    `areas`: the person's active areas when the caller has them (else they are read, in one statement, and
    only on a board of more than one language for someone whose language is not known; someone in no area
    now counts the areas they were in); `joining`: an area they are joining now, counted with them.
    """
    if person.language in settings.languages:
        return (person.language,)  # type: ignore[return-value]
    if len(settings.languages) == 1:
        return settings.languages
    narrowed = [area.languages for area in areas] if areas is not None else _areas_languages(person)
    if joining is not None:
        narrowed.append(joining.languages)
    if not narrowed or not all(narrowed):
        return settings.languages
    own = {code for languages in narrowed for code in (languages or "").split(",")}
    return tuple(code for code in settings.languages if code in own) or settings.languages


def _areas_languages(person: Subscriber) -> list[str | None]:
    """The `languages` of each area `person` is an active member of (None: one that speaks all the board's);
    of each they ever joined when they are in none now (a STOP's or a LEAVE's answer, a START's)."""
    session = object_session(person)
    if session is None or person.id is None:
        return []
    rows = session.execute(
        select(Area.languages, Subscription.status).join(Subscription, Subscription.area_id == Area.id)
        .where(Subscription.subscriber_id == person.id)
    ).all()
    active = [languages for languages, status in rows if status == SubscriptionStatus.ACTIVE]
    return active or [languages for languages, _ in rows]


def board_language(settings: Settings, raw: str) -> str | None:
    """A language as an organiser writes it in a list (`cy`, `CY`): the board's code; None when empty.

    Raises ValueError, naming the board's languages, for anything else.
    """
    code = raw.strip().lower()
    if not code:
        return None
    if code not in settings.languages:
        raise ValueError(phrase("language %(code)r is not one this board speaks; write one of %(languages)s, "
                                "or leave it empty", code=raw.strip(), languages=listed(settings.languages)))
    return code


def language_history(session: Session, phone: str) -> tuple[str | None, list[LanguageChoice]]:
    """A number's language (None: not known) and every choice of it, oldest first (nothing for a number never seen)."""
    person = session.scalar(select(Subscriber).where(Subscriber.phone == phone))
    if person is None:
        return None, []
    return person.language, list(session.scalars(
        select(LanguageChoice).where(LanguageChoice.subscriber_id == person.id).order_by(LanguageChoice.id)))


def knows_language(settings: Settings, person: Subscriber) -> bool:
    return len(settings.languages) == 1 or person.language in settings.languages


def choose(session: Session, person: Subscriber, language: str, *, wording: str, channel: str,
           now: datetime) -> bool:
    """Set `person`'s language and keep how; False when it was theirs already (nothing is written)."""
    if person.language == language:
        return False
    person.language = language
    if person.id is None:
        session.add(person)
        session.flush()
    session.add(LanguageChoice(subscriber_id=person.id, language=language, wording=wording, channel=channel,
                               created_at=now))
    return True


def texts_for(settings: Settings, person: Subscriber, template: str, /, **data: object) -> list[str]:
    """`template` rendered once in each language `person` reads, the board's first language first."""
    return [render(template, language, **data) for language in reading(settings, person)]


def texts_for_person(session: Session, settings: Settings, subscriber_id: int | None, template: str, /,
                     **data: object) -> list[str]:
    """`texts_for` someone known only by id (None: a sender the board has no row for: every language)."""
    person = session.get(Subscriber, subscriber_id) if subscriber_id is not None else None
    if person is None:
        return [render(template, language, **data) for language in settings.languages]
    return texts_for(settings, person, template, **data)


def enqueue_in_their_language(
    session: Session, settings: Settings, recipient: Subscriber, template: str, kind: OutboxKind, *,
    about: Item | Response | Match | None = None, urgent: bool = False, now: datetime | None = None,
    zone_name: str | None = None, to_helpers: bool | None = None, **data: object,
) -> list[OutboxRow]:
    """Queue `template` to `recipient` in their language, or one text per language of the board.

    The one place a notice to a person is queued, whoever queues it (a text's handling, the clock, the
    dashboard, the CLI), so it is also where their trusted helpers' copies are made (docs/helpers.md):
    `to_helpers` None copies a notice that is `about` one of their posts, offers or connections; True
    copies any (an organiser's reply); False none (what the board says about the helper itself).
    The rows returned are the recipient's own.
    """
    queued = []
    for body in texts_for(settings, recipient, template, **data):
        row = enqueue(session, settings, recipient, body, kind, about=about, urgent=urgent, now=now,
                      zone_name=zone_name)
        if row is not None:
            queued.append(row)
    if to_helpers or (to_helpers is None and about is not None):
        # Imported here: trusted helpers are texted through this module (their proposals, their news).
        from sms_board.community.trusted_helpers import copy_to_helpers

        copy_to_helpers(session, settings, recipient, kind, lambda language: render(template, language, **data),
                        about=about, urgent=urgent, zone_name=zone_name, now=now)
    return queued


def welcome_texts(settings: Settings, person: Subscriber, area: Area) -> list[str]:
    """The welcome to `area` in each language `person` reads (counting `area` among theirs). Someone who
    reads one language, in an area that speaks others, is offered them in one line each, written in that
    language ("Cymraeg? Atebwch CYMRAEG.")."""
    page = public_page(area, settings.public_url)
    read = reading(settings, person, joining=area)
    texts = [render("join_welcome", language, area=area, named=bool(person.name), page=page) for language in read]
    if len(texts) == 1:
        offers = [render("language_offer", other, word=pack(other).choose[other][0])
                  for other in spoken_in(settings, area) if other not in read and other in pack(other).choose]
        texts[0] = "\n".join([texts[0], *offers])
    return texts
