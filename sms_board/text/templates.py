"""Every text the board sends is a template in `templates/sms/`; code only passes data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from sms_board.plumbing.paths import resource_dir

# Smart encoding turns it into "..." for a GSM-7 text: it costs three characters there, one here.
ELLIPSIS = "\u2026"


def shorten(text: str, length: int | None, end: str = ELLIPSIS) -> str:
    """`text` on one line, cut at a word to at most `length` characters (then `end`) when longer; None keeps it whole."""
    words = " ".join(text.split())
    if length is None or len(words) <= length:
        return words
    cut = words[:length + 1].rsplit(" ", 1)[0] if " " in words[:length + 1] else words[:length]
    return cut.rstrip(" ,;:-.") + end


def in_sentence(name: str) -> str:
    """A person's name where a sentence has begun: "A neighbour" (someone with no NAME) reads "a neighbour".

    A NAME is left as the person wrote it.
    """
    return "a " + name[2:] if name.startswith("A ") and name[2:3].islower() else name


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(resource_dir("templates") / "sms"),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    environment.filters["shorten"] = shorten
    environment.filters["in_sentence"] = in_sentence
    return environment


def render(template: str, /, **data: object) -> str:
    """Render `templates/sms/<name>.txt`; runs of spaces from template logic are collapsed."""
    text = _environment().get_template(f"{template}.txt").render(**data)
    lines = [re.sub(r"[ \t]{2,}", " ", line).strip() for line in text.strip().splitlines()]
    return "\n".join(lines)


@dataclass(frozen=True)
class Reply:
    """A reply a domain step rendered, and whether the step changed something the resident asked
    for (a post filed, a number back in): a handler passes both on (`Context.say`)."""

    text: str
    changed: bool
