"""Plugins: models, metrics and features registered from outside the package.

A plugin is a Python module that registers things with the public decorators
(:func:`tgibench.models.register_model`, :func:`tgibench.metrics.register_metric`,
:func:`tgibench.features.store.register_feature`) when it is imported. It comes in one
of two ways:

- **a file or folder**, given to ``tgibench evaluate|score|metrics|models --include PATH``
  (repeatable): :func:`include` imports the file, or every ``.py`` file directly inside
  the folder in name order (names starting with ``_`` are skipped), before any name is
  looked up. Run directories do not record it: pass the same ``--include`` again when
  resuming a run.
- **an installed package** with an entry point in the group ``tgibench.plugins``::

      [project.entry-points."tgibench.plugins"]
      my_plugin = "my_package.tgibench_plugin"          # a module: imported
      other = "my_package.plugin:register_all"           # a function: imported and called

  :func:`load_installed_plugins` loads them once per process, on the first lookup in any
  registry, after the built-ins.

A plugin name that clashes with a built-in or another plugin is an error naming both
modules and files (:class:`tgibench.registry.RegistryError`).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from types import FunctionType

#: The entry-point group installed packages declare their plugins in.
ENTRY_POINT_GROUP = "tgibench.plugins"

_included: dict[Path, str] = {}  # resolved file → module name, so a file is imported once
_installed_loaded = False


class PluginError(ValueError):
    """A plugin cannot be found or fails to import; the message names the file or package."""


def plugin_files(path: str | Path) -> list[Path]:
    """The plugin files of one ``--include`` argument: the file itself (``.py``), or the
    ``.py`` files directly inside a folder, in name order, skipping names starting with ``_``."""
    given = Path(path).expanduser()
    if given.is_file():
        if given.suffix != ".py":
            raise PluginError(f"--include {path}: not a .py file")
        return [given]
    if given.is_dir():
        files = sorted(f for f in given.glob("*.py") if not f.name.startswith("_"))
        if not files:
            raise PluginError(f"--include {path}: the folder has no .py files")
        return files
    raise PluginError(f"--include {path}: no such file or folder")


def _module_name(file: Path) -> str:
    """A module name for a plugin file that no other module uses: ``tgibench_plugin_<stem>``."""
    base = "tgibench_plugin_" + re.sub(r"\W", "_", file.stem)
    name, n = base, 1
    while name in sys.modules:
        n += 1
        name = f"{base}_{n}"
    return name


def _import_file(file: Path) -> str:
    file = file.resolve()
    if file in _included:
        return _included[file]
    name = _module_name(file)
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise PluginError(f"--include {file}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up here
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise PluginError(
            f"--include {file}: importing it failed: {type(exc).__name__}: {exc}"
        ) from exc
    _included[file] = name
    return name


def include(paths: Iterable[str | Path]) -> list[str]:
    """Import the plugin files of ``paths`` (files or folders, see :func:`plugin_files`).

    Each file is imported once per process, under a module name of its own (returned, in
    order); including it again does nothing. Raises :class:`PluginError` naming the file
    when it is missing or its import fails (including a name it registers twice).
    """
    return [_import_file(file) for path in paths for file in plugin_files(path)]


def included_files() -> list[Path]:
    """The plugin files :func:`include` imported in this process, in order (a worker
    process of a run includes them again: :mod:`tgibench.eval.workers`)."""
    return list(_included)


def load_installed_plugins() -> list[str]:
    """Load the ``tgibench.plugins`` entry points of installed packages, once per process.

    An entry point naming a module imports it; one naming a function (``module:function``)
    imports its module and calls it without arguments (anything else it names is only
    imported). Returns the entry-point names
    loaded by this call (empty after the first). Raises :class:`PluginError` naming the
    package when one fails.
    """
    global _installed_loaded
    if _installed_loaded:
        return []
    _installed_loaded = True
    from importlib.metadata import entry_points

    loaded = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        package = point.dist.name if point.dist is not None else "an unknown package"
        try:
            target = point.load()
            if isinstance(target, FunctionType):
                target()
        except Exception as exc:
            raise PluginError(
                f"plugin {point.name!r} = {point.value!r} of package {package} (entry point "
                f"group {ENTRY_POINT_GROUP}) failed: {type(exc).__name__}: {exc}"
            ) from exc
        loaded.append(point.name)
    return loaded
