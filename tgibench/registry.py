"""A generic name → factory registry whose built-in entries are found, not listed.

One registry per kind of thing (models, metrics, features); the registry is the only list
of names. Built-ins are every module of the registry's packages (``tgibench.models``,
...): adding one is adding a module that registers itself, with no list to edit. On the
first lookup the registry imports those modules, then the installed plugins (entry-point
group ``tgibench.plugins``, see :mod:`tgibench.plugins`); a plugin file given with
``--include`` is imported before that by the command line. Importing this module stays
cheap: nothing is imported until a name is looked up.

A name registered twice is an error that names both sources (module and file); a miss
suggests the closest names.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class RegistryError(KeyError):
    """A name is unknown to a registry or registered twice."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0])


def describe_source(module: str | None) -> str:
    """``module (path/to/file.py)`` for an imported module, for messages about where a
    registration came from; the bare name when the module has no file."""
    if not module:
        return "an unknown module"
    path = getattr(sys.modules.get(module), "__file__", None)
    return f"{module} ({path})" if path else module


def import_package_modules(package: str) -> None:
    """Import every module directly inside ``package`` (``pkgutil``; names starting with
    ``_`` are skipped): how a registry finds its built-in entries."""
    import importlib
    import pkgutil

    root = importlib.import_module(package)
    for info in pkgutil.iter_modules(getattr(root, "__path__", [])):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package}.{info.name}")


class Registry(Generic[T]):
    """Maps names to factories (classes, functions or definitions).

    Args:
        kind: what the entries are, for messages ("model", "metric", ...).
        packages: packages whose modules register the built-in entries; every module in
            them is imported on the first lookup, then the installed plugins.
    """

    def __init__(self, kind: str, packages: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._sources: dict[str, str | None] = {}
        self._packages = packages
        self._loaded = False

    def register(self, name: str, *, source: str | None = None) -> Callable[[T], T]:
        """Decorator: ``@registry.register("flow")`` on a factory or class.

        ``source`` is the module the entry comes from (default: the factory's
        ``__module__``); a second registration of ``name`` raises :class:`RegistryError`
        naming both sources.
        """

        def decorate(factory: T) -> T:
            origin = source or getattr(factory, "__module__", None)
            if name in self._entries:
                raise RegistryError(
                    f"{self.kind} {name!r} is registered twice: by "
                    f"{describe_source(self._sources[name])} and by {describe_source(origin)}"
                )
            self._entries[name] = factory
            self._sources[name] = origin
            return factory

        return decorate

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for package in self._packages:
                import_package_modules(package)
            from tgibench.plugins import load_installed_plugins

            load_installed_plugins()

    def source(self, name: str) -> str:
        """Where ``name`` was registered: its module and file."""
        self.get(name)
        return describe_source(self._sources[name])

    def registered(self, name: str) -> T:
        """The entry ``name`` if it is registered already, without importing anything
        (for code that runs while the built-in modules are being imported)."""
        return self._entries[name]

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            known = ", ".join(sorted(self._entries))
            raise RegistryError(
                f"unknown {self.kind} {name!r}{hint} (known: {known}). A {self.kind} from a "
                "plugin file needs `--include FILE` (again when resuming a run); one from an "
                "installed package registers through the 'tgibench.plugins' entry points"
            ) from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries
