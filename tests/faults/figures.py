"""The figures of a fault-suite run, and `docs/reliability.md`'s table of the last run.

Tests note what they counted (from the database and the fake Twilio's log, never
from timings) through the `figures` fixture: `figures(kills=12, requests=900)`.
`make faults` sets `SMS_BOARD_FAULTS_REPORT=docs/reliability.md`; at the end of the
run the block between the two markers in that file is rewritten with this run's
results and figures. Every run also prints them after pytest's summary.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

START = "<!-- fault-figures:start (written by `make faults`; edit the text around it, not this block) -->"
END = "<!-- fault-figures:end -->"

_run: dict[str, Any] = {"seed": None, "nightly": False, "started": time.time()}
_tests: dict[str, dict[str, Any]] = {}  # nodeid → {"outcome", "seconds", "figures"}


def start(seed: int, nightly: bool) -> None:
    _run.update(seed=seed, nightly=nightly)


def _entry(nodeid: str) -> dict[str, Any]:
    return _tests.setdefault(nodeid, {"outcome": None, "seconds": 0.0, "figures": {}})


def record(nodeid: str, **numbers: Any) -> None:
    _entry(nodeid)["figures"].update(numbers)


def outcome(nodeid: str, result: str, seconds: float) -> None:
    entry = _entry(nodeid)
    if entry["outcome"] in (None, "passed"):
        entry["outcome"] = result
    entry["seconds"] += seconds


def ran_any() -> bool:
    return any(entry["outcome"] for entry in _tests.values())


def failed_any() -> bool:
    return any(entry["outcome"] == "failed" for entry in _tests.values())


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _shown(figures: dict[str, Any]) -> str:
    return "; ".join(f"{key.replace('_', ' ')} {_format(value)}" for key, value in figures.items())


def _name(nodeid: str) -> str:
    return nodeid.replace(os.sep, "/").split("tests/faults/")[-1]


def summary_lines() -> list[str]:
    return [f"{entry['outcome'] or '?':<7} {_name(nodeid)} ({entry['seconds']:.0f} s): {_shown(entry['figures'])}"
            for nodeid, entry in _tests.items() if entry["outcome"]]


def _commit() -> str:
    try:
        found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                               timeout=10, cwd=Path(__file__).parent, check=False)
        return found.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def render(scale: Any) -> str:
    took = time.time() - float(_run["started"])
    counts: dict[str, int] = {}
    for entry in _tests.values():
        if entry["outcome"]:
            counts[entry["outcome"]] = counts.get(entry["outcome"], 0) + 1
    replay = f"SMS_BOARD_FAULTS_SEED={_run['seed']} make faults{' NIGHTLY=1' if _run['nightly'] else ''}"
    lines = [
        START,
        "",
        f"Last run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit `{_commit()}`, "
        f"{'nightly' if _run['nightly'] else 'short (CI)'} variant, seed `{_run['seed']}` (replay: `{replay}`); "
        f"{took:.0f} s on a {os.cpu_count()}-CPU {platform.machine()} machine; "
        + ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) + ".",
        "",
        "| test | result | time | figures |",
        "|---|---|---|---|",
    ]
    for nodeid, entry in _tests.items():
        if entry["outcome"]:
            lines.append(f"| `{_name(nodeid)}` | **{entry['outcome']}** | {entry['seconds']:.0f} s "
                         f"| {_shown(entry['figures'])} |")
    lines += ["", f"Scale: `{json.dumps(asdict(scale))}`", "", END]
    return "\n".join(lines)


def write(path: Path, scale: Any) -> None:
    document = path.read_text() if path.exists() else "# Reliability\n"
    if START not in document or END not in document:
        document = document.rstrip() + f"\n\n## Figures of the last run\n\n{START}\n{END}\n"
    before, rest = document.split(START, 1)
    _, after = rest.split(END, 1)
    path.write_text(before + render(scale) + after)
