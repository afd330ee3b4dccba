"""Every text the board sends is a template in `templates/sms/`; code only passes data."""

from __future__ import annotations

import re
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from sms_board.paths import resource_dir


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(resource_dir("templates") / "sms"),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render(template: str, /, **data: object) -> str:
    """Render `templates/sms/<name>.txt`; runs of spaces from template logic are collapsed."""
    text = _environment().get_template(f"{template}.txt").render(**data)
    lines = [re.sub(r"[ \t]{2,}", " ", line).strip() for line in text.strip().splitlines()]
    return "\n".join(lines)
