"""`make messages`: every word to translate, extracted, and each pack's catalogs brought up to date with it.

Two catalogs (docs/translations.md), each with its own extraction rules, here and nowhere else
(`tests/text/test_language_packs.py` and `tests/web/test_web_languages.py` extract with them too):

- `sms`: every text the board sends: `templates/sms/` and the words code hands to them (`N_`);
  `babel.cfg`, into `translations/sms.pot` and each pack's `sms.po`.
- `web`: the pages, the dashboard's too: `templates/web/`, `gettext`/`_`/`ngettext` in the web and
  dashboard code, and `phrase`/`nphrase` (`text/phrases.py`) in code below them; `babel-web.cfg`,
  into `translations/web.pot` and each pack's `web.po`.

`python -m tests.support.catalogs` runs pybabel's own extract and update (or init, for a new pack)
for both. New words appear untranslated, and the tests fail until a translator fills them in;
words that are gone leave the catalogs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import CommandLineInterface, parse_keywords, parse_mapping_cfg

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"


@dataclass(frozen=True)
class Catalogs:
    domain: str
    mapping: str  # the pybabel mapping file, at the repository's root
    keywords: tuple[str, ...]  # as pybabel's -k takes them
    default_keywords: bool  # pybabel's own (gettext, ngettext, _, N_ …) besides `keywords`

    @property
    def template(self) -> Path:
        return TRANSLATIONS / f"{self.domain}.pot"

    def extract_arguments(self) -> list[str]:
        arguments = [
            "-F",
            self.mapping,
            "--project=sms-board",
            "--copyright-holder=sms-board contributors",
            "--no-wrap",
            "--sort-by-file",
            "--omit-header",
            "-o",
            str(self.template.relative_to(ROOT)),
        ]
        if not self.default_keywords:
            arguments.append("--no-default-keywords")
        for keyword in self.keywords:
            arguments += ["-k", keyword]
        return [*arguments, "."]

    def messages(self) -> Catalog:
        """Every message the sources hold, as `make messages` extracts them."""
        with (ROOT / self.mapping).open(encoding="utf-8") as handle:
            method_map, options_map = parse_mapping_cfg(handle, self.mapping)
        keywords = dict(DEFAULT_KEYWORDS) if self.default_keywords else {}
        keywords.update(parse_keywords(list(self.keywords)))
        catalog = Catalog()
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT,
            method_map=method_map,
            options_map=options_map,
            keywords=keywords,
        ):
            catalog.add(
                message, None, [(filename, lineno)], auto_comments=comments, context=context
            )
        return catalog


SMS = Catalogs("sms", "babel.cfg", ("N_",), default_keywords=True)
WEB = Catalogs(
    "web",
    "babel-web.cfg",
    ("_", "gettext", "ngettext:1,2", "phrase", "nphrase:1,2", "in_every_language"),
    default_keywords=False,
)
DOMAINS = (SMS, WEB)


def packs_with_catalogs() -> list[str]:
    """The packs that translate (English, the source, has no catalogs)."""
    return sorted(path.parent.name for path in TRANSLATIONS.glob("*/LC_MESSAGES"))


def main() -> None:
    import os

    os.chdir(ROOT)
    cli = CommandLineInterface()
    for catalogs in DOMAINS:
        cli.run(["pybabel", "-q", "extract", *catalogs.extract_arguments()])
        for code in packs_with_catalogs():
            common = [
                "--no-wrap",
                "-D",
                catalogs.domain,
                "-l",
                code,
                "-i",
                str(catalogs.template.relative_to(ROOT)),
                "-d",
                "translations",
            ]
            if (TRANSLATIONS / code / "LC_MESSAGES" / f"{catalogs.domain}.po").exists():
                cli.run(
                    ["pybabel", "-q", "update", *common, "--ignore-obsolete", "--no-fuzzy-matching"]
                )
            else:
                cli.run(["pybabel", "-q", "init", *common])


if __name__ == "__main__":
    main()
