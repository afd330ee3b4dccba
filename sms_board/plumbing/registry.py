"""Registries that are filled once, by decorators, and refuse to be filled twice.

Keywords, router stages, confirm actions and due jobs each live in a `Registry`.
Every entry remembers the module that registered it, so a clash names both
registrants and a test can ask which modules registered anything. Tests add an
entry for a while with `temporarily`, never by reaching into a private dict.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


def import_modules_of(package: str, path: Iterable[str]) -> tuple[str, ...]:
    """Import every module of a package (its `__name__` and `__path__`), so that each registers its entries.

    Nothing is listed by hand: a module added to the folder is found.
    """
    names = []
    for module in pkgutil.iter_modules(path, prefix=f"{package}."):
        importlib.import_module(module.name)
        names.append(module.name)
    return tuple(names)


class DuplicateEntry(ValueError):
    """A name (or a value that must be distinct, such as a stage's order) is registered twice."""


@dataclass(frozen=True)
class Registered(Generic[T]):
    name: str
    entry: T
    module: str  # the module that registered it


def defined_in(entry: object) -> str:
    """The module a function (or any object with `__module__`) was defined in."""
    return getattr(entry, "__module__", None) or "<unknown module>"


class Registry(Generic[T]):
    """Named entries, in the order they were registered.

    `origin` tells which module an entry comes from (by default the module its
    function was defined in); `distinct` names an attribute that no two entries
    may share (a stage's `order`).
    """

    def __init__(self, kind: str, *, origin: Callable[[T], str] = defined_in, distinct: str | None = None) -> None:
        self.kind = kind
        self._origin = origin
        self._distinct = distinct
        self._entries: dict[str, Registered[T]] = {}
        # Moves on with every change, so that what is worked out from the entries can be kept
        # until they change (the router's spellings, its stages in order).
        self.version = 0

    def add(self, name: str, entry: T) -> T:
        module = self._origin(entry)
        existing = self._entries.get(name)
        if existing is not None:
            raise DuplicateEntry(
                f"{self.kind} {name!r} is registered twice: first by {existing.module}, again by {module}"
            )
        if self._distinct is not None:
            value = getattr(entry, self._distinct)
            for other in self._entries.values():
                if getattr(other.entry, self._distinct) == value:
                    raise DuplicateEntry(
                        f"{self.kind} {self._distinct} {value!r} is taken twice: by {other.name!r} "
                        f"({other.module}) and by {name!r} ({module})"
                    )
        self._entries[name] = Registered(name, entry, module)
        self.version += 1
        return entry

    def remove(self, name: str) -> T:
        """Take an entry out; a name that is not registered is an error."""
        try:
            removed = self._entries.pop(name).entry
        except KeyError:
            raise KeyError(f"no {self.kind} {name!r} is registered") from None
        self.version += 1
        return removed

    @contextmanager
    def temporarily(self, name: str, entry: T) -> Iterator[T]:
        """Register an entry for the length of a `with` block (tests, one-off tools).

        On the way out it is removed, unless it was removed already.
        """
        self.add(name, entry)
        try:
            yield entry
        finally:
            current = self._entries.get(name)
            if current is not None and current.entry is entry:
                del self._entries[name]
                self.version += 1

    def get(self, name: str) -> T | None:
        registered = self._entries.get(name)
        return registered.entry if registered is not None else None

    def __getitem__(self, name: str) -> T:
        return self._entries[name].entry

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def items(self) -> list[tuple[str, T]]:
        return [(name, registered.entry) for name, registered in self._entries.items()]

    def values(self) -> list[T]:
        return [registered.entry for registered in self._entries.values()]

    def module_of(self, name: str) -> str:
        return self._entries[name].module

    def modules(self) -> set[str]:
        """Every module that registered at least one entry."""
        return {registered.module for registered in self._entries.values()}

    def __repr__(self) -> str:
        return f"<Registry of {len(self)} {self.kind}s>"
