"""Words for a page that code below the web writes, not yet in a language: `phrase(…)`, `nphrase(…)`.

Domain code and read models know nothing of Flask or of who reads the page, yet their words
reach it: a refusal (`AreaError`), an inbox text's reason, a chart's title. They write them as a
`Phrase`: English words with `%(name)s` placeholders and their values. A Phrase *is* the English
string (a `str`), so the command line, logs and `--json` print it as before; the web translates
it into the page's language where it is shown (`sms_board/web/language.py`: every `{{ … }}`
holding one is translated, and routes translate a refusal with `translated`). `make messages`
extracts `phrase` and `nphrase` calls into the pages' catalog (`translations/web.pot`).

`Wording` is a language's words and number and date formats for code that writes a whole
sentence of several phrases (the audit log's details, a chart's description): English unless the
page passes its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from gettext import NullTranslations
from typing import Any, Protocol

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from markupsafe import Markup, escape


class Catalog(Protocol):
    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


_ENGLISH_CATALOG = NullTranslations()


def _english() -> Catalog:
    return _ENGLISH_CATALOG


# The catalog a Phrase is written in when an HTML page escapes it (`__html__`): the web sets it to
# the page's language (`web/language.py`); English elsewhere.
_page_catalog: list[Callable[[], Catalog]] = [_english]


def write_pages_with(catalog: Callable[[], Catalog]) -> None:
    _page_catalog[0] = catalog


class Phrase(str):
    """English words (a catalog msgid) and the values of their placeholders; the str is the English."""

    message: str
    plural: str | None
    count: int | None
    values: Mapping[str, Any]

    def __new__(
        cls,
        message: str,
        values: Mapping[str, Any],
        plural: str | None = None,
        count: int | None = None,
    ) -> Phrase:
        english = plural if plural is not None and count != 1 else message
        made = super().__new__(cls, english % values if values else english)
        made.message, made.plural, made.count, made.values = message, plural, count, values
        return made

    def _words(self, catalog: Catalog) -> str:
        if self.plural is not None and self.count is not None:
            return catalog.ngettext(self.message, self.plural, self.count)
        return catalog.gettext(self.message)

    def in_language(self, catalog: Catalog) -> str:
        """The words in `catalog`'s language, placeholders filled (values that are Phrases too, translated)."""
        values = {
            key: value.in_language(catalog) if isinstance(value, Phrase) else value
            for key, value in self.values.items()
        }
        words = self._words(catalog)
        return words % values if values else words

    def __html__(self) -> str:
        """A page escaping the Phrase (a value in a `{% trans %}` block, a `|join`) gets it in its language;
        a value in a language of its own (`Foreign`) is marked with its `lang`."""
        words = escape(self._words(_page_catalog[0]()))
        return str(Markup(words) % dict(self.values) if self.values else words)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Phrase, (self.message, dict(self.values), self.plural, self.count))


class Foreign(str):
    """Words in a language of their own inside a page's sentence (a language's name in itself, `Cymraeg`):
    on a page they are marked with their `lang` (BCP 47 `tag`); elsewhere they are the words."""

    tag: str

    def __new__(cls, words: str, tag: str) -> Foreign:
        made = super().__new__(cls, words)
        made.tag = tag
        return made

    def __html__(self) -> str:
        return str(Markup('<span lang="%s">%s</span>') % (self.tag, str(self))) if self.tag else str(escape(str(self)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Foreign, (str(self), self.tag))


def phrase(message: str, /, **values: Any) -> Phrase:
    """`phrase("%(name)s is private.", name=area.name)`: words a page translates, English elsewhere."""
    return Phrase(message, values)


def nphrase(singular: str, plural: str, count: int, /, **values: Any) -> Phrase:
    """`nphrase("%(num)s report", "%(num)s reports", n)`: `num` is `count` unless given."""
    values.setdefault("num", count)
    return Phrase(singular, values, plural, count)


def message_of(error: BaseException) -> str:
    """An exception's message, kept as the Phrase it was raised with (so a page can translate it)."""
    first = error.args[0] if error.args else None
    return first if isinstance(first, Phrase) else str(error)


@dataclass(frozen=True)
class Wording:
    """One language's words (a gettext catalog) and its way of writing numbers and dates."""

    catalog: Catalog
    locale: str = "en"

    def __call__(self, words: str) -> str:
        """A Phrase in this language (other words are already someone's: they are left as they are)."""
        return words.in_language(self.catalog) if isinstance(words, Phrase) else words

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale)

    def date(self, value: date, pattern: str = "d MMM") -> str:
        return format_date(value, pattern, locale=self.locale)

    def datetime(self, value: datetime, pattern: str) -> str:
        return format_datetime(value, pattern, locale=self.locale)


ENGLISH = Wording(_ENGLISH_CATALOG, "en")
