"""Make a pack's word list, `translations/<code>/words.txt.gz`, again from its source.

    python3 translations/tools/word_lists.py cy pl     (or `make word-lists`, which then runs `make words`)

A pack's word list is every word of its language that typo tolerance must never read as a
misspelt keyword (docs/translations.md, "Typo tolerance"). `make words` then keeps those of its
words that lie one edit from some keyword in `translations/<code>/everyday_words.txt`, which is
all the router reads. Each list is written as its source gives it, gzip-compressed without a
timestamp, so the same source makes the same bytes:

- `cy`: Debian's `aspell-cy` (the GNU Aspell Welsh word list), its master dictionary expanded
  to every form it holds (mutations, plurals, verb endings): `aspell -d cy dump master | aspell -l
  cy expand`. Needs `apt-get install aspell aspell-cy`. GPL, as the list is.
- `pl`: the 50,000 most frequent Polish words of wordfreq 3.1.1 (`top_n_list("pl", 50000)`),
  installed by this script in a throwaway virtualenv (wordfreq is no dependency of sms-board).
  CC BY-SA 4.0, as wordfreq's data is.

Standard library only, and it imports nothing of sms-board: it only fetches data.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import tempfile
import venv
from collections.abc import Callable
from pathlib import Path

PACKS = Path(__file__).resolve().parents[1]
WORDFREQ = "wordfreq==3.1.1"
POLISH_WORDS = 50000


def _run(command: list[str], stdin: str | None = None) -> str:
    return subprocess.run(command, input=stdin, capture_output=True, text=True, check=True).stdout


def welsh() -> tuple[list[str], list[str]]:
    try:
        master = _run(["aspell", "-d", "cy", "dump", "master"])
    except (FileNotFoundError, subprocess.CalledProcessError) as error:
        sys.exit(
            f"cy: needs aspell and its Welsh dictionary (apt-get install aspell aspell-cy): {error}"
        )
    expanded = _run(["aspell", "-l", "cy", "expand"], stdin=master)
    version = _run(["dpkg-query", "-W", "-f", "${Version}", "aspell-cy"]).strip() or "unknown"
    words = sorted({word for line in expanded.splitlines() for word in line.split()})
    return [
        f"Welsh: every form in Debian's aspell-cy {version} (GNU Aspell Welsh word list 0.50-3,",
        "by Jim Killock, Thierry Vignaud and Mark Nodine), expanded:",
        "aspell -d cy dump master | aspell -l cy expand. Licence: GPL, as aspell-cy (its copyright names no",
        "version, so any may be chosen, GPL-2.0 section 9). Made by translations/tools/word_lists.py; do not edit.",
    ], words


def polish() -> tuple[list[str], list[str]]:
    with tempfile.TemporaryDirectory() as scratch:
        venv.create(scratch, with_pip=True)
        python = str(Path(scratch) / "bin" / "python")
        _run([python, "-m", "pip", "install", "--quiet", WORDFREQ])
        listed = _run(
            [
                python,
                "-c",
                f"from wordfreq import top_n_list; print('\\n'.join(top_n_list('pl', {POLISH_WORDS})))",
            ]
        )
    words = [word for word in listed.splitlines() if word]
    return [
        f"Polish: the {POLISH_WORDS:,} most frequent words of {WORDFREQ.replace('==', ' ')} (Robyn Speer), most",
        "frequent first: top_n_list('pl', 50000). Licence: CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/),",
        "as wordfreq's data is. Made by translations/tools/word_lists.py; do not edit.",
    ], words


SOURCES: dict[str, Callable[[], tuple[list[str], list[str]]]] = {"cy": welsh, "pl": polish}


def write(code: str) -> Path:
    header, words = SOURCES[code]()
    path = PACKS / code / "words.txt.gz"
    text = "".join(f"# {line}\n" for line in header) + "".join(f"{word}\n" for word in words)
    with (
        path.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0, compresslevel=9) as out,
    ):
        out.write(text.encode("utf-8"))
    print(f"{path.relative_to(PACKS.parent)}: {len(words):,} words", file=sys.stderr)
    return path


if __name__ == "__main__":
    codes = sys.argv[1:] or sorted(SOURCES)
    unknown = [code for code in codes if code not in SOURCES]
    if unknown:
        sys.exit(
            f"no source for {', '.join(unknown)}: this script knows {', '.join(sorted(SOURCES))}"
        )
    for code in codes:
        write(code)
