"""The languages the board can speak: one pack of data per language, found in `translations/`.

A pack is a folder named by its language code (`translations/cy/`) holding:

- `LC_MESSAGES/*.po`: gettext catalogs of every text the board sends and every word its pages
  show (`sms.po` for texts, `web.po` for pages), the format Poedit and Weblate read;
- `pack.toml`: the words residents text in that language (keyword aliases, the words a keyword
  takes after it, the words that choose a language, STOP phrases, urgent phrases) and how typo
  tolerance treats the language;
- `words.txt.gz`: every word of the language typo tolerance must never read as a misspelt
  keyword (`translations/tools/word_lists.py` makes it from its source), and
  `everyday_words.txt`, those of them one edit from a keyword (`make words`): what the router reads.

English is the source language: its texts are the templates themselves, so its pack holds a
`pack.toml` only. Adding a language is adding its folder and naming it in `SMS_BOARD_LANGUAGES`;
no code changes. A catalog entry that is missing, empty or fuzzy is never sent: the tests refuse
a pack with one (docs/translations.md), so no Welsh reader is ever sent English for want of it.
"""

from __future__ import annotations

import gzip
import io
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale, support
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from sms_board.plumbing.paths import resource_dir

SOURCE_LANGUAGE = "en"
# In a pack's folder: the words of its word list one edit from some keyword (`make words`).
EVERYDAY_WORDS_FILE = "everyday_words.txt"
# The catalogs of a pack: texts (`sms.po`) and pages (`web.po`), each read on its own, so one
# English msgid may be worded differently in a text and on a page.
SMS, WEB = "sms", "web"


class UnknownLanguage(ValueError):
    """A language code with no pack in `translations/`."""


@dataclass(frozen=True)
class Pack:
    """One language's data: its catalogs and the words residents text in it."""

    code: str
    folder: Path
    # Canonical (English) keyword → the words that mean it in this language, upper case.
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Language code → the words, in this language, that choose it (CYMRAEG, SAESNEG).
    choose: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    stop_phrases: tuple[str, ...] = ()
    urgent_phrases: tuple[str, ...] = ()
    # (Canonical keyword, English word it takes after it) → this language's words for it:
    # ("DIGEST", "DAILY") → ("DYDDIOL",).
    arguments: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    # Every word of the language typo tolerance must not read as a misspelt keyword (`words.txt.gz`).
    word_list: Path | None = None
    # Words a reviewer added to the list by hand (`more_words` in pack.toml): "joio" is Welsh, not JOIN.
    more_words: tuple[str, ...] = ()
    # Whether a misspelt keyword of this pack is read as the keyword: only with a word list.
    typo_tolerance: bool = False
    typo_reason: str = ""
    draft: bool = True
    # How a web page names the language in `<html lang>` (BCP 47): `tag` in pack.toml, else the code.
    tag: str = ""

    @property
    def name(self) -> str:
        """The language's name in itself ("Cymraeg", "polski"), from CLDR."""
        return Locale.parse(self.code).display_name or self.code

    @property
    def english_name(self) -> str:
        return Locale.parse(self.code).get_display_name("en") or self.code

    def word_for(self, keyword: str) -> str:
        """The word a resident texts for `keyword` in this language: the pack's first (YMUNO for JOIN), else the
        English one, which works in every language of the board."""
        return next(iter(self.keywords.get(keyword, ())), keyword)

    def translations(self) -> NullTranslations:
        """Every text the board sends (`sms.po`)."""
        return _translations(self.code, SMS)

    def page_translations(self) -> NullTranslations:
        """The words of the web pages, the dashboard's too (`web.po`)."""
        return _translations(self.code, WEB)

    def everyday_words(self) -> frozenset[str]:
        """The words of the pack's word list within one edit of a keyword, folded (`make words`)."""
        return _everyday_words(self.code)

    def words(self) -> list[str]:
        """The whole word list, as its source spells them (empty without one): for `make words` and the tests."""
        if self.word_list is None:
            return []
        with gzip.open(self.word_list, "rt", encoding="utf-8") as handle:
            listed = [word for line in handle if (word := line.strip()) and not word.startswith("#")]
        return listed + list(self.more_words)


def packs_folder() -> Path:
    return resource_dir("translations")


@lru_cache(maxsize=1)
def available() -> tuple[str, ...]:
    """Every language code that has a pack, English first, then alphabetical."""
    codes = sorted(path.name for path in packs_folder().iterdir() if (path / "pack.toml").is_file())
    return tuple(sorted(codes, key=lambda code: code != SOURCE_LANGUAGE))


@cache
def pack(code: str) -> Pack:
    """The pack for `code`; `UnknownLanguage` when there is none."""
    folder = packs_folder() / code
    manifest = folder / "pack.toml"
    if not manifest.is_file():
        raise UnknownLanguage(code)
    data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    typo = data.get("typo_tolerance", {})
    word_list = folder / typo["word_list"] if typo.get("word_list") else None
    if word_list is not None and not word_list.is_file():
        word_list = None  # named but not made yet (`make word-lists`): tolerance stays off
    return Pack(
        code=code,
        folder=folder,
        keywords={name.upper(): _upper(words) for name, words in data.get("keywords", {}).items()},
        arguments={(name.upper(), argument.upper()): _upper(words)
                   for name, table in data.get("arguments", {}).items() for argument, words in table.items()},
        choose={language: _upper(words) for language, words in data.get("choose", {}).items()},
        stop_phrases=tuple(data.get("phrases", {}).get("stop", ())),
        urgent_phrases=tuple(data.get("phrases", {}).get("urgent", ())),
        word_list=word_list,
        more_words=tuple(typo.get("more_words", ())),
        typo_tolerance=bool(typo.get("enabled", False)) and (word_list is not None or code == SOURCE_LANGUAGE),
        typo_reason=str(typo.get("reason", "")),
        draft=bool(data.get("draft", True)),
        tag=str(data.get("tag") or code),
    )


def _upper(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(word.upper() for word in words)


@cache
def _everyday_words(code: str) -> frozenset[str]:
    path = packs_folder() / code / EVERYDAY_WORDS_FILE
    if not path.is_file():
        return frozenset()
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(word for line in lines if (word := line.strip()) and not word.startswith("#"))


def catalog_files(code: str, domain: str = SMS) -> list[Path]:
    """The pack's `.po` files of one catalog: `sms.po` (and any `sms-*.po` part), or `web.po`."""
    return sorted((packs_folder() / code / "LC_MESSAGES").glob(f"{domain}*.po"))


@cache
def _translations(code: str, domain: str) -> NullTranslations:
    """The pack's catalog `domain` as one gettext `Translations`, read from its `.po` files (no build step).

    Fuzzy and empty entries are left out, as `msgfmt` would; the tests make sure there are none.
    """
    if code == SOURCE_LANGUAGE:
        return support.NullTranslations()  # Babel's: what Flask-Babel expects of a catalog (`ugettext`)
    files = catalog_files(code, domain)
    if not files:
        raise UnknownLanguage(code)
    merged: Translations | None = None
    for path in files:
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=code, domain=path.stem)
        compiled = io.BytesIO()
        write_mo(compiled, catalog, use_fuzzy=False)
        compiled.seek(0)
        translations = Translations(compiled, domain="messages")
        if merged is None:
            merged = translations
        else:
            merged.merge(translations)
    assert merged is not None
    return merged


def check_codes(codes: Iterable[str]) -> tuple[str, ...]:
    """`codes` as given, each with a pack; `UnknownLanguage` names the first without one."""
    known = available()
    checked = []
    for code in codes:
        if code not in known:
            raise UnknownLanguage(code)
        checked.append(code)
    return tuple(checked)


@dataclass(frozen=True)
class Vocabulary:
    """What residents may text on a board speaking `codes`, in every one of its languages.

    `keywords`: a folded word of a pack (YMUNO) → the keyword it means (JOIN) and the language it
    belongs to (None when two of the board's languages share it). `arguments`: (keyword, folded
    word of a pack) → the English word it means after that keyword (("DIGEST", "DYDDIOL") →
    "DAILY"). `choose`: a folded word → the language it chooses (CYMRAEG → cy). Phrases are
    folded, apostrophes dropped, as the text's own words are (`text.urgent.plain`).
    """

    codes: tuple[str, ...]
    keywords: Mapping[str, tuple[str, str | None]]
    choose: Mapping[str, str]
    stop_phrases: tuple[str, ...]
    urgent_phrases: tuple[str, ...]
    arguments: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def word_language(self, word: str) -> str | None:
        found = self.keywords.get(word)
        return found[1] if found else None


class PackClash(ValueError):
    """Two packs of one board give one word two meanings."""


@lru_cache(maxsize=32)
def vocabulary(codes: tuple[str, ...]) -> Vocabulary:
    """Every pack's words for a board speaking `codes`. A word meaning two things is refused (`PackClash`)."""
    from sms_board.text.words import fold, plain_phrase

    keywords: dict[str, tuple[str, str | None]] = {}
    choose: dict[str, str] = {}
    for code in codes:
        data = pack(code)
        for keyword, words in data.keywords.items():
            for word in words:
                folded = fold(word)
                earlier = keywords.get(folded)
                if earlier is not None and earlier[0] != keyword:
                    raise PackClash(f"{folded} means {earlier[0]} in {earlier[1]} and {keyword} in {code}")
                keywords[folded] = (keyword, None if earlier is not None and earlier[1] != code else code)
    arguments: dict[tuple[str, str], str] = {}
    for code in codes:
        for (keyword, argument), words in pack(code).arguments.items():
            for word in words:
                arguments[keyword, fold(word)] = argument
    for code in available():  # a word that chooses a language is understood whatever the board speaks
        for language, words in pack(code).choose.items():
            for word in words:
                choose[fold(word)] = language
    stop = tuple(plain_phrase(phrase) for code in codes for phrase in pack(code).stop_phrases)
    urgent = tuple(plain_phrase(phrase) for code in codes for phrase in pack(code).urgent_phrases)
    return Vocabulary(codes, keywords, choose, stop, urgent, arguments)


def listed(codes: Iterable[str]) -> str:
    """Languages as an organiser reads them in a refusal: `cy (Cymraeg), en (English)`."""
    return ", ".join(f"{code} ({pack(code).name})" for code in codes)
