"""Every text the board sends is a template in `templates/sms/`; code only passes data.

Templates are written in English with their words inside `{% trans %}` blocks; rendering in
another language reads that language's pack (`text/languages.py`), so one template serves
every language the board speaks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache, partial

from babel import UnknownLocaleError
from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from sms_board.plumbing.paths import resource_dir
from sms_board.text.languages import SOURCE_LANGUAGE, pack

# Smart encoding turns it into "..." for a GSM-7 text: it costs three characters there, one here.
ELLIPSIS = "\u2026"


def month_name(month: date, language: str) -> str:
    """The month's name as a heading in `language` ("November", "Tachwedd", "Listopad"); 11/2026 in a
    language the locale data does not know (no English word in a text of another language)."""
    try:
        name = format_date(month, "LLLL", locale=language)
    except UnknownLocaleError:
        return f"{month:%m/%Y}"
    return name[:1].upper() + name[1:]


def shorten(text: str, length: int | None, end: str = ELLIPSIS) -> str:
    """`text` on one line, cut at a word to at most `length` characters (then `end`) when longer; None keeps it whole."""
    words = " ".join(text.split())
    if length is None or len(words) <= length:
        return words
    cut = words[:length + 1].rsplit(" ", 1)[0] if " " in words[:length + 1] else words[:length]
    return cut.rstrip(" ,;:-.") + end


def N_(message: str) -> str:
    """Marks English words that code hands to a template, for `make messages` to extract."""
    return message


# Someone with no NAME. Code passes this English sentinel; templates word it in the reader's
# language through the `who` and `in_sentence` filters.
NEIGHBOUR = N_("A neighbour")
NEIGHBOUR_IN_SENTENCE = N_("a neighbour")


def _name_filters(gettext: Callable[[str], str]) -> dict[str, Callable[[str], str]]:
    def who(name: str) -> str:
        """A person's name at the start of a sentence: their NAME as they wrote it, else "A neighbour"."""
        return gettext(NEIGHBOUR) if name == NEIGHBOUR else name

    def in_sentence(name: str) -> str:
        """A person's name where a sentence has begun: someone with no NAME reads "a neighbour"."""
        return gettext(NEIGHBOUR_IN_SENTENCE) if name == NEIGHBOUR else name

    return {"who": who, "in_sentence": in_sentence}


@cache
def _environment(language: str) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(resource_dir("templates") / "sms"),
        extensions=["jinja2.ext.i18n"],
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    environment.filters["shorten"] = shorten
    environment.filters["month_name"] = partial(month_name, language=language)
    translations = pack(language).translations()
    environment.filters.update(_name_filters(translations.gettext))
    environment.policies["ext.i18n.trimmed"] = True  # a block's line breaks and indents are not part of its words
    environment.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    environment.globals["language"] = language
    return environment


@dataclass(frozen=True)
class Said:
    """What to tell someone, not yet in words: a template and its data, and whether the step that
    says it changed something the resident asked for (a post filed, a number back in). Domain code
    returns one; the handler renders it in the reader's language and passes on the change
    (`Context.say`)."""

    template: str
    data: Mapping[str, object] = field(default_factory=dict)
    changed: bool = False

    @classmethod
    def of(cls, template: str, /, **data: object) -> Said:
        return cls(template, data)

    def because(self, changed: bool) -> Said:
        """The same words, saying whether the step changed something."""
        return replace(self, changed=changed)


def render(template: str, language: str = SOURCE_LANGUAGE, /, **data: object) -> str:
    """Render `templates/sms/<name>.txt` in `language`; runs of spaces from template logic are collapsed."""
    text = _environment(language).get_template(f"{template}.txt").render(**data)
    lines = [re.sub(r"[ \t]{2,}", " ", line).strip() for line in text.strip().splitlines()]
    return "\n".join(lines)
