"""One small registry type for every name -> object table (geolocators, models, weights, galleries, ...).

A :class:`Registry` maps names to objects, each with a one-line description::

    PRIORS: Registry[Prior] = Registry("prior")
    PRIORS.register("photo-density", Prior(...), description="where people take photos")

    @GEOLOCATORS.register("agclip", description="AG-CLIP", arg="model")
    def _agclip(model: str = "birdnet-sim-v1") -> Geolocator: ...

Lookups by exact name (``get``, ``reg[name]``, ``in``) and names with an argument (:meth:`Registry.parse`)
share one grammar and one error:

- an exact registered name wins ("agclip:birdnet-sim-v1" may be an entry of its own);
- otherwise "NAME:ARG" names entry NAME with argument ARG when NAME was registered with ``arg`` (the
  label of what follows the colon: "PATH", "model"); ARG is everything after the first colon, so it may
  hold colons itself ("h3:PATH:RES:K", "csv:C:/data/x.csv");
- an unknown name is an :class:`~geoforensics.errors.InputError`
  "unknown <kind> 'x'; known: a, b, c" (arguments shown as "csv:PATH").

``plugins`` are modules that register more entries, imported on first need (a miss, a listing), so that
a registry of systems built on torch costs nothing until one of them is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar, overload

from .errors import InputError

T = TypeVar("T")
D = TypeVar("D")


class _Missing:
    """Sentinel type: no object given."""


_MISSING = _Missing()


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A registered object, what it is in one line, and the label of its "NAME:ARG" argument (None: takes none)."""

    obj: T
    description: str = ""
    arg: str | None = None


class Registry(Generic[T]):
    """Named objects of one ``kind`` ("gallery", "prior", ...) in registration order; see the module docstring."""

    def __init__(self, kind: str, plugins: Sequence[str] = ()) -> None:
        self.kind = kind
        self.plugins = tuple(plugins)
        self._entries: dict[str, Entry[T]] = {}
        self._plugins_loaded = not self.plugins

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._entries)} entries)"

    # ------------------------------------------------------------ registering

    @overload
    def register(self, name: str, obj: T, *, description: str = "", arg: str | None = None) -> T: ...

    @overload
    def register(self, name: str, *, description: str = "", arg: str | None = None) -> Callable[[T], T]: ...

    def register(
        self, name: str, obj: T | _Missing = _MISSING, *, description: str = "", arg: str | None = None
    ) -> T | Callable[[T], T]:
        """Add (or replace) ``obj`` under ``name`` and return it; without ``obj``, a decorator that does so.
        With ``arg`` (a label such as "PATH"), "NAME:VALUE" names this entry too, with argument VALUE."""
        if not name or not isinstance(name, str):
            raise ValueError(f"a {self.kind} needs a non-empty name, got {name!r}")
        if arg is not None and not arg:
            raise ValueError(f"{self.kind} {name!r}: the label of its argument must not be empty")

        def add(value: T) -> T:
            self._entries[name] = Entry(value, description, arg)
            return value

        return add if isinstance(obj, _Missing) else add(obj)

    def unregister(self, name: str) -> None:
        """Remove ``name`` (nothing happens when it is not registered)."""
        self._entries.pop(name, None)

    def __setitem__(self, name: str, obj: T) -> None:
        """Replace the object of ``name``, keeping its description and argument (or add it without them)."""
        old = self._entries.get(name)
        self.register(name, obj, description=old.description if old else "", arg=old.arg if old else None)

    def __delitem__(self, name: str) -> None:
        self.unregister(name)

    # ------------------------------------------------------------ plugins

    def _load_plugins(self) -> None:
        """Import the plugin modules once (they register more entries). No lock of its own: the import
        system already makes a second thread wait for a module another one is importing."""
        if not self._plugins_loaded:
            for module in self.plugins:
                importlib.import_module(module)
            self._plugins_loaded = True

    def _find(self, name: str) -> Entry[T] | None:
        entry = self._entries.get(name)
        if entry is None and not self._plugins_loaded:
            self._load_plugins()
            entry = self._entries.get(name)
        return entry

    # ------------------------------------------------------------ looking up

    def unknown(self, name: str) -> InputError:
        """The one error for a name this registry does not know."""
        return InputError(f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self.usage()))}")

    @overload
    def get(self, name: str) -> T: ...

    @overload
    def get(self, name: str, default: D) -> T | D: ...

    def get(self, name: str, default: D | _Missing = _MISSING) -> T | D:
        """The object registered as exactly ``name``; ``default`` when given and ``name`` is unknown, else
        :meth:`unknown`'s ``InputError``."""
        entry = self._find(name)
        if entry is not None:
            return entry.obj
        if isinstance(default, _Missing):
            raise self.unknown(name)
        return default

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    def parse(self, name: str) -> tuple[str, str | None]:
        """(registered name, argument or None) of ``name``: an exact name, or "NAME:ARG" of an entry
        registered with ``arg``. ``InputError`` for an unknown name or an empty argument."""
        if self._find(name) is not None:
            return name, None
        base, sep, value = name.partition(":")
        entry = self._find(base) if sep else None
        if entry is None or entry.arg is None:
            raise self.unknown(name)
        if not value:
            raise InputError(f"{self.kind} {name!r}: give its {entry.arg} after the colon ({base}:{entry.arg})")
        return base, value

    def resolve(self, name: str) -> tuple[T, str | None]:
        """(object, argument or None) that ``name`` names (see :meth:`parse`)."""
        key, value = self.parse(name)
        return self._entries[key].obj, value

    def arg(self, name: str) -> str | None:
        """The label of entry ``name``'s "NAME:ARG" argument, or None when it takes none."""
        entry = self._find(name)
        if entry is None:
            raise self.unknown(name)
        return entry.arg

    def describe(self, name: str) -> str:
        """The one-line description of entry ``name``."""
        entry = self._find(name)
        if entry is None:
            raise self.unknown(name)
        return entry.description

    # ------------------------------------------------------------ listing

    def _snapshot(self) -> list[tuple[str, Entry[T]]]:
        self._load_plugins()
        return list(self._entries.items())

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return [name for name, _ in self._snapshot()]

    def items(self) -> list[tuple[str, T]]:
        """(name, object) pairs, in registration order."""
        return [(name, e.obj) for name, e in self._snapshot()]

    def values(self) -> list[T]:
        """Registered objects, in registration order."""
        return [e.obj for _, e in self._snapshot()]

    def list(self) -> dict[str, str]:
        """Registered names and their one-line descriptions, in registration order."""
        return {name: e.description for name, e in self._snapshot()}

    def usage(self) -> dict[str, str]:
        """Like :meth:`list`, with entries that take an argument shown as "NAME:ARG" ("csv:PATH")."""
        return {(f"{name}:{e.arg}" if e.arg else name): e.description for name, e in self._snapshot()}

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._snapshot())


__all__ = ["Entry", "Registry"]
