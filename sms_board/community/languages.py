"""Which language each person is texted in, how it is chosen, and texting them in it.

A person's language is one of the board's (`SMS_BOARD_LANGUAGES`), or not known yet. It is
known from the first keyword they text that belongs to one language (`YMUNO ELM` → Welsh,
`JOIN ELM` → English), from a word that chooses one (`CYMRAEG`, `ENGLISH`, `IAITH CY`), or from
an organiser (import, the dashboard, the CLI). Every choice is kept with its time and wording in
`language_choices`, as consent is. Until it is known, every text goes to them once in each of the
board's languages, the first language first: nobody is sent only a language they may not read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from sms_board.community.areas import public_page
from sms_board.models import Area, Item, LanguageChoice, Match, OutboxKind, Response, Subscriber
from sms_board.plumbing.config import Settings
from sms_board.sending.outbox import OutboxRow, enqueue
from sms_board.text.languages import pack
from sms_board.text.templates import render


def spoken_in(settings: Settings, area: Area | None) -> tuple[str, ...]:
    """The board's languages an area speaks (`area add … --languages`), the board's first first."""
    if area is None or not area.languages:
        return settings.languages
    own = {code.strip() for code in area.languages.split(",")}
    return tuple(code for code in settings.languages if code in own) or settings.languages


def reading(settings: Settings, person: Subscriber) -> tuple[str, ...]:
    """The languages texts go to `person` in: theirs when it is known and the board speaks it, else all."""
    if person.language in settings.languages:
        return (person.language,)  # type: ignore[return-value]
    return settings.languages


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
    zone_name: str | None = None, **data: object,
) -> list[OutboxRow]:
    """Queue `template` to `recipient` in their language, or one text per language of the board."""
    queued = []
    for body in texts_for(settings, recipient, template, **data):
        row = enqueue(session, settings, recipient, body, kind, about=about, urgent=urgent, now=now,
                      zone_name=zone_name)
        if row is not None:
            queued.append(row)
    return queued


def welcome_texts(settings: Settings, person: Subscriber, area: Area) -> list[str]:
    """The welcome to `area` in each language `person` reads. Someone whose language is known, on a
    board that speaks others, is offered them in one line each, written in that language
    ("Cymraeg? Atebwch CYMRAEG.")."""
    page = public_page(area, settings.public_url)
    texts = [render("join_welcome", language, area=area, named=bool(person.name), page=page)
             for language in reading(settings, person)]
    if len(texts) == 1 and len(settings.languages) > 1:
        offers = [render("language_offer", other, word=pack(other).choose[other][0])
                  for other in settings.languages if other != person.language and other in pack(other).choose]
        texts[0] = "\n".join([texts[0], *offers])
    return texts
