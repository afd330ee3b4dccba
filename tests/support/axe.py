"""axe-core for the browser tests, from the npm registry (never a CDN), injected into each page.

`npm pack axe-core@VERSION` fetches the package tarball once into `.cache/axe-core/`
(ignored by git); the tests read `axe.min.js` from it and run it in the page. Where npm
is missing or the registry cannot be reached, the accessibility checks are skipped loudly.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

VERSION = "4.10.3"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "axe-core" / VERSION
SERIOUS = {"serious", "critical"}


def axe_script() -> str:
    script = CACHE / "package" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("ACCESSIBILITY CHECKS SKIPPED: npm is not installed (apt-get install npm)")
        CACHE.mkdir(parents=True, exist_ok=True)
        packed = subprocess.run([npm, "pack", f"axe-core@{VERSION}", "--silent", "--pack-destination", str(CACHE)],
                                capture_output=True, text=True, timeout=300, check=False)
        tarball = CACHE / f"axe-core-{VERSION}.tgz"
        if packed.returncode != 0 or not tarball.exists():
            pytest.skip(f"ACCESSIBILITY CHECKS SKIPPED: npm pack axe-core@{VERSION} failed: {packed.stderr[-300:]}")
        with tarfile.open(tarball) as archive:
            archive.extract("package/axe.min.js", CACHE, filter="data")
    return script.read_text(encoding="utf-8")


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core in the page; the serious and critical violations, each with the nodes it found."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(axe_script())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [node["target"] for node in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in SERIOUS
    ]
