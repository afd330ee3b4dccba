"""Where the board's non-Python files live: the source tree, or the installed wheel's copy."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def resource_dir(name: str) -> Path:
    """`templates` or `migrations`, from a checkout or from `sms_board/_data` in a wheel."""
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"sms-board cannot find its {name}/ folder; reinstall the package.")
