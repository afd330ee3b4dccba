"""A throwaway language pack beside the real ones: every translation is its English wrapped in ⟦ ⟧.

It proves two things: a language is its folder alone (no code names one), and no English word
is left outside what translators see (a word on a page or in a text outside ⟦ ⟧ is one no catalog
holds). Both its catalogs are made from what `make messages` extracts (`tests/support/catalogs.py`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from sms_board.text import languages
from tests.support import catalogs

OPEN, CLOSE = "⟦", "⟧"


def bracketed(messages: Catalog, locale: str) -> Catalog:
    """Each message of `messages` translated as itself in brackets, every plural form of `locale` too."""
    catalog = Catalog(locale=locale)
    for message in messages:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            string: object = tuple(
                f"{OPEN}{message.id[min(i, 1)]}{CLOSE}" for i in range(catalog.num_plurals)
            )
        else:
            string = f"{OPEN}{message.id}{CLOSE}"
        catalog.add(message.id, string, context=message.context)
    return catalog


def clear_caches() -> None:
    from sms_board.text import templates

    languages.available.cache_clear()
    languages.pack.cache_clear()
    languages._translations.cache_clear()
    languages.vocabulary.cache_clear()
    templates._environment.cache_clear()


@contextmanager
def pseudo_pack(
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: str,
    *,
    locale: str | None = None,
    web: bool = True,
) -> Iterator[str]:
    """The real packs copied into `folder`, and pack `code` added: its texts (and, with `web`, its pages)
    bracketed. `locale` is the locale whose plural forms the catalogs have (`code` by default)."""
    packs = folder / "translations"
    shutil.copytree(languages.packs_folder(), packs)
    (packs / code / "LC_MESSAGES").mkdir(parents=True)
    (packs / code / "pack.toml").write_text(
        'draft = true\n[keywords]\nJOIN = ["QAJOIN"]\n', encoding="utf-8"
    )
    for domain in (catalogs.SMS, catalogs.WEB) if web else (catalogs.SMS,):
        with (packs / code / "LC_MESSAGES" / f"{domain.domain}.po").open("wb") as handle:
            write_po(handle, bracketed(domain.messages(), locale or code))
    real = languages.packs_folder
    monkeypatch.setattr(languages, "packs_folder", lambda: packs)
    clear_caches()
    try:
        yield code
    finally:
        monkeypatch.setattr(languages, "packs_folder", real)
        clear_caches()
