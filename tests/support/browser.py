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



# Chromium as the browser tests start it: no sandbox (root in CI), nothing fetched in the background.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():  # type: ignore[no-untyped-def]
    """One Chromium per test process (each pytest-xdist worker), launched by the first browser test
    and closed at the end of the run: starting Playwright's driver and Chromium costs seconds a test."""
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def browser(chromium):  # type: ignore[no-untyped-def]
    """The process's Chromium with nothing of an earlier test: a test opens browser contexts of its own
    (each with its own cookies, storage and cache, as a fresh browser has), and every one it leaves open
    is closed after it."""
    assert not chromium.contexts, "a browser test starts with no context of an earlier test open"
    yield chromium
    for context in chromium.contexts:
        context.close()
