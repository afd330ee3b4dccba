"""Every language pack is complete, and every text fits its budget in every language.

A Welsh reader is never sent English for want of a translation: a catalog entry that is
missing, empty or fuzzy fails here, naming the entry. A pseudo-language (every translation
bracketed) proves that no English word in a template is left outside the words translators
see. Every template is rendered in every pack from the samples in `template_samples/`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from sms_board.plumbing.paths import resource_dir
from sms_board.text import languages
from sms_board.text.segments import GSM7, analyse
from sms_board.text.templates import render
from tests.support import catalogs, pseudo
from tests.text.template_samples import all_samples

SMS_TEMPLATES = resource_dir("templates") / "sms"
TRANSLATED = [code for code in languages.available() if code != languages.SOURCE_LANGUAGE]


def template_messages() -> Catalog:
    """Every message the SMS templates hold, as `make messages` extracts them."""
    return catalogs.SMS.messages()


def sms_catalog(code: str) -> Catalog:
    """The pack's catalog of texts: `sms.po` (and any `sms-*.po` part being translated alongside)."""
    merged = Catalog(locale=code)
    for path in sorted((languages.packs_folder() / code / "LC_MESSAGES").glob("sms*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=code):
                if message.id:
                    merged[message.id] = message
    return merged


def test_every_sms_template_has_samples_and_no_sample_names_a_missing_template():
    templates = {path.stem for path in SMS_TEMPLATES.glob("*.txt")}
    samples = all_samples()
    assert sorted(templates - samples.keys()) == [], "templates without samples in tests/text/template_samples/"
    assert sorted(samples.keys() - templates) == [], "samples for templates that do not exist"


def test_the_templates_have_words_to_translate():
    assert len(template_messages()) > 100


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_text_the_board_sends_is_translated_in_the_pack(code):
    catalog = sms_catalog(code)
    missing = []
    for message in template_messages():
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        strings = found.string if found is not None else None
        texts = strings if isinstance(strings, tuple | list) else (strings,)
        if found is None or found.fuzzy or not all(texts):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    assert missing == [], f"{code}: {len(missing)} texts with no translation (run `make messages`, then translate)"


@pytest.mark.parametrize("code", TRANSLATED)
def test_no_pack_keeps_translations_of_texts_that_are_gone(code):
    current = {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in template_messages() if m.id}
    stale = [m.id for m in sms_catalog(code) if m.id and ((m.id if isinstance(m.id, str) else m.id[0]), m.context)
             not in current]
    assert stale == [], f"{code}: translations of texts no template has (run `make messages`)"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_translation_keeps_the_placeholders_of_its_text(code):
    catalog = sms_catalog(code)
    problems = [(message.id, [str(error) for error in errors]) for message, errors in catalog.check()]
    assert problems == []


# ── a throwaway language: adding a pack touches only its folder ──────────────


@pytest.fixture
def pseudo_pack(tmp_path, monkeypatch) -> Iterator[str]:
    """A pack `qa` whose every translation is its English wrapped in ⟦ ⟧, added beside the real ones
    (its catalogs with Welsh's plural forms, six to exercise)."""
    with pseudo.pseudo_pack(tmp_path, monkeypatch, "qa", locale="cy", web=False) as code:
        yield code


def _sample_strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _sample_strings(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _sample_strings(item)
    elif hasattr(value, "__dict__"):
        for item in vars(value).values():
            yield from _sample_strings(item)


def cases() -> Iterator[tuple[str, int, dict[str, object]]]:
    for name, samples in sorted(all_samples().items()):
        for index, data in enumerate(samples):
            yield name, index, data


def test_a_new_language_is_its_folder_alone(pseudo_pack):
    assert pseudo_pack in languages.available()
    assert render("stop_confirm", pseudo_pack).startswith("⟦")


@pytest.mark.parametrize(("template", "index", "data"), list(cases()), ids=lambda v: v if isinstance(v, str) else None)
def test_no_english_word_in_a_template_is_outside_what_translators_see(pseudo_pack, template, index, data):
    text = render(template, pseudo_pack, **data)
    leftover = text
    while (inner := re.sub(r"⟦[^⟦⟧]*⟧", " ", leftover)) != leftover:  # innermost first: blocks nest
        leftover = inner
    for value in sorted(_sample_strings(data), key=len, reverse=True):
        if len(value) > 1:
            leftover = leftover.replace(value, " ")
    words = re.findall(r"[A-Za-z]{2,}", leftover)
    assert words == [], f"{template} case {index}: words no translator sees: {words} in {text!r}"


# ── every text within its budget in every language ───────────────────────────


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_text_fits_its_budget_in_every_language(code):
    too_long = []
    for template, index, data in cases():
        english = analyse(render(template, **data))
        translated = analyse(render(template, code, **data))
        if english.segments == 1:
            allowed = 1 if translated.encoding == GSM7 else 2
        else:
            allowed = english.segments + 1 if translated.encoding == GSM7 else english.segments * 2
        if translated.segments > allowed:
            too_long.append(f"{template}[{index}]: {translated.segments} parts ({translated.encoding}), "
                            f"English {english.segments}: {translated.text!r}")
    assert too_long == []


def test_the_pack_list_is_what_the_folder_holds():
    folders = sorted(path.name for path in Path(languages.packs_folder()).iterdir() if (path / "pack.toml").exists())
    assert sorted(languages.available()) == folders
    assert languages.available()[0] == "en"


def test_the_docs_list_every_keyword_of_every_pack():
    docs = (Path(__file__).parents[2] / "docs" / "translations.md").read_text(encoding="utf-8")
    missing = [f"{code}: {word}" for code in TRANSLATED
               for words in (*languages.pack(code).keywords.values(), *languages.pack(code).arguments.values())
               for word in words if f" {word} |" not in docs and f" {word}," not in docs]
    assert missing == [], "docs/translations.md's keyword table is missing these"
