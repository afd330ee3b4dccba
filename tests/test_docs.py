"""The docs name tests and code that exist: a promise in docs/security.md points at a test that still proves it.

docs/security.md is the threat model: each finding and each promise names the tests that prove
it, and the code that enforces it. A test renamed, moved or deleted (as when the code was
reorganised) would leave the page pointing at nothing, and the promise unproved without anyone
noticing. So every test the docs name must exist under that name, and every module, function,
class or setting of the board that docs/security.md names must still be there.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

import sms_board

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
SECURITY = ROOT / "docs" / "security.md"
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]

# docs/security.md's own short names for test files ("`promises::test_…`").
ABBREVIATIONS = {"promises": "tests/web/test_security_promises.py"}
# Names in docs/security.md that are the web framework's, not the board's.
NOT_THE_BOARDS = {"app.url_map", "csrf.init_app"}

_TICKED = re.compile(r"`([^`]+)`")
_TEST_REF = re.compile(
    r"^(?:(?P<file>[\w/]+\.py|promises)|…)::(?P<name>test_\w+)(?P<cut>…)?(?:\[[^\]]*\])?$"
)
_BARE_TEST = re.compile(r"^test_\w+$")
_DOTTED = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")
_FILE_NAME = re.compile(r"\.(?:csv|md|py|txt|toml)$")


def file_of_tests(named: str) -> Path | None:
    """The one file under tests/ that `named` (`tests/web/test_x.py`, `web/test_x.py`, `test_x.py`) means."""
    named = ABBREVIATIONS.get(named, named)
    found = [
        path
        for path in TESTS.rglob("*.py")
        if path.as_posix().endswith("/" + named.removeprefix("tests/"))
    ]
    return found[0] if len(found) == 1 else None


@cache
def defined_tests(path: Path) -> frozenset[str]:
    return frozenset(
        re.findall(r"^(?:async )?def (test_\w+)\(", path.read_text(encoding="utf-8"), re.M)
    )


@cache
def every_test_name() -> frozenset[str]:
    files = list(TESTS.rglob("test_*.py"))
    return frozenset().union(
        *(defined_tests(path) for path in files), (path.stem for path in files)
    )


def ticked(doc: Path) -> list[str]:
    """The `inline code` of a page, line by line, leaving fenced blocks out."""
    prose = re.sub(r"^```.*?^```", "", doc.read_text(encoding="utf-8"), flags=re.S | re.M)
    return [token for line in prose.splitlines() for token in _TICKED.findall(line)]


def missing_tests(doc: Path) -> list[str]:
    """Each test `doc` names that does not exist. `…::test_x` names a test of the file named last
    before it; `test_x…` (cut short) is any test whose name starts so; a bare `test_x` any test or test file."""
    missing, last_file = [], None
    for token in ticked(doc):
        if (
            token.endswith(".py") and Path(token).name.startswith("test_")
        ) or token in ABBREVIATIONS:
            last_file = file_of_tests(token)
            if last_file is None:
                missing.append(token)
            continue
        found = _TEST_REF.match(token)
        if found:
            path = file_of_tests(found["file"]) if found["file"] else last_file
            if found["file"]:
                last_file = path
            names = defined_tests(path) if path else frozenset()
        elif _BARE_TEST.match(token):
            names = every_test_name()
        else:
            continue
        name = found["name"] if found else token
        cut = bool(found and found["cut"])
        if not any(have == name or (cut and have.startswith(name)) for have in names):
            missing.append(token)
    return missing


@pytest.mark.parametrize("doc", DOCS, ids=[path.name for path in DOCS])
def test_every_test_a_doc_names_exists(doc: Path) -> None:
    assert missing_tests(doc) == [], (
        f"{doc.relative_to(ROOT)} names tests that do not exist (renamed or moved?)"
    )


@cache
def board_modules() -> dict[str, ModuleType]:
    modules = {"sms_board": sms_board}
    for info in pkgutil.walk_packages(sms_board.__path__, "sms_board."):
        modules[info.name] = importlib.import_module(info.name)
    return modules


def names_something_of_the_board(dotted: str) -> bool:
    """`phone.mask`, `community.audit.record`, `Settings.simulator_allowed`: a module named by the end
    of its path and what it holds, or a class any module holds and its attribute."""
    parts = dotted.split(".")
    for split in range(1, len(parts) + 1):
        path, rest = parts[:split], parts[split:]
        if any(
            name.split(".")[-split:] == path and _holds(module, rest)
            for name, module in board_modules().items()
        ):
            return True
    return any(_holds(module, parts) for module in board_modules().values())


def _holds(target: object, attributes: list[str]) -> bool:
    for attribute in attributes:
        if not hasattr(target, attribute):
            return False
        target = getattr(target, attribute)
    return True


def missing_code(doc: Path) -> list[str]:
    missing = []
    for token in ticked(doc):
        if token.endswith(".py") and not Path(token).name.startswith("test_"):
            if not any((base / token).is_file() for base in (ROOT, ROOT / "sms_board")):
                missing.append(token)
        elif (
            _DOTTED.match(token)
            and token not in NOT_THE_BOARDS
            and not _FILE_NAME.search(token)
            and not names_something_of_the_board(token)
        ):
            missing.append(token)
    return missing


def test_the_code_the_threat_model_names_exists() -> None:
    assert missing_code(SECURITY) == [], (
        "docs/security.md names code that is not there (renamed or moved?)"
    )


def test_the_checks_find_a_name_that_is_gone(tmp_path: Path) -> None:
    """The checks above can fail: a renamed test, a moved module and a removed function are found."""
    page = tmp_path / "page.md"
    page.write_text(
        "`tests/web/test_signin.py::test_a_code_works_once`, `…::test_a_code_works_twice`, "
        "`web/test_gone.py`, `test_never_written`, `test_webhook_faults.py::test_a_signed_body_over_64_kb…`, "
        "`web/ids.py`, `web/identifiers.py`, `phone.mask_numbers`, `phone.mask_every_number`, "
        "`Settings.simulator_allowed`, `Settings.simulator_everywhere`",
        encoding="utf-8",
    )
    assert missing_tests(page) == [
        "…::test_a_code_works_twice",
        "web/test_gone.py",
        "test_never_written",
    ]
    assert missing_code(page) == [
        "web/identifiers.py",
        "phone.mask_every_number",
        "Settings.simulator_everywhere",
    ]
