"""Finding Debian's Chromium for browser tests, installing it where this machine allows."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CANDIDATES = ("chromium", "chromium-browser")
_skip_reason: list[str] = []


def _find() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _install() -> None:
    """`apt-get install chromium` when allowed (SMS_BOARD_INSTALL_BROWSER=1, as root); a registry package, not a download."""
    if os.environ.get("SMS_BOARD_INSTALL_BROWSER") != "1" or os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Parallel test processes (pytest-xdist) may all get here: one installs, the others wait and find it.
    with (Path(tempfile.gettempdir()) / "sms-board-chromium-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _find():
            return
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, env=env,
                       capture_output=True, timeout=900)


def chromium_path() -> str:
    found = _find()
    if found is None and not _skip_reason:
        _install()
        found = _find()
    if found is None:
        reason = ("BROWSER TESTS SKIPPED: Debian's chromium is not installed "
                  "(apt-get install chromium, or set SMS_BOARD_INSTALL_BROWSER=1 as root)")
        if not _skip_reason:
            _skip_reason.append(reason)
        pytest.skip(reason)
    return found

