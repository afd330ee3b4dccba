"""Sample data for every SMS template, so each can be rendered in every language and measured.

Each part module holds `SAMPLES: dict[str, list[dict[str, object]]]`: a template's name and the
data of each case worth rendering (every branch a resident may receive). Objects are plain
namespaces with the attributes the template reads, never database rows, so rendering a case
needs no database. The parts are merged here; a template named twice is an error.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import SimpleNamespace

Sample = dict[str, object]


def thing(**attributes: object) -> SimpleNamespace:
    return SimpleNamespace(**attributes)


ELM = thing(name="Elm Street", slug="elm", id=1)
OAK = thing(name="Oak Road", slug="oak", id=2)


def all_samples() -> dict[str, list[Sample]]:
    merged: dict[str, list[Sample]] = {}
    for module in pkgutil.iter_modules(__path__, prefix=f"{__name__}."):
        part = importlib.import_module(module.name)
        for name, cases in part.SAMPLES.items():
            if name in merged:
                raise ValueError(f"template {name!r} has samples in two parts")
            merged[name] = cases
    return merged
