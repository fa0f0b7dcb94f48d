"""The ``tgibench`` application and what its commands share: the typer apps, errors, plugins.

Each group of commands lives in its own module (:mod:`tgibench.cli.run`,
:mod:`tgibench.cli.tables`, :mod:`tgibench.cli.listing`, :mod:`tgibench.cli.data`) and
registers itself on :data:`app`; ``tgibench.cli`` imports them all.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="The tgibench command: one verb per job.",
)
data_app = typer.Typer(
    no_args_is_help=True, help="Benchmark data: build the mini-bench, verify a copy, show counts."
)
app.add_typer(data_app, name="data")


def split_values(values: list[str] | None) -> list[str] | None:
    """Accept both ``--x a --x b`` and ``--x a,b``."""
    if not values:
        return None
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


Lengths = Annotated[
    list[str] | None, typer.Option("--lengths", "-l", help="Sequence lengths, e.g. 25,33.")
]
Challenges = Annotated[
    list[str] | None,
    typer.Option("--challenges", "-c", help='Challenges, e.g. "linear motion,occlusion".'),
]


def parse_lengths(values: list[str] | None) -> tuple[int, ...] | None:
    """``--lengths 25,33`` as a tuple of ints (None: every length)."""
    return tuple(int(n) for n in split_values(values) or []) or None


def parse_names(values: list[str] | None) -> tuple[str, ...] | None:
    """A repeatable, comma-separated option as a tuple (None: not given)."""
    return tuple(split_values(values) or []) or None


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


AllowMixed = Annotated[
    bool,
    typer.Option(
        help="Allow runs on different benchmark data or with different versions of a metric."
    ),
]

Include = Annotated[
    list[Path] | None,
    typer.Option(
        help="Plugin .py file or folder (repeatable; again on resume): tgibench docs extending"
    ),
]


def include_plugins(paths: list[Path] | None) -> None:
    """Import the user's plugin files before any model or metric is looked up."""
    from tgibench.plugins import PluginError, include

    try:
        include(paths or [])
    except PluginError as exc:
        raise fail(str(exc)) from None


def main() -> None:
    # Idle OpenMP threads sleep instead of spinning (set before torch is imported; results
    # do not change): spinning threads take the cores that OpenCV, the worker processes and
    # other jobs need, which made `evaluate` 3.5x slower on a busy 2-core machine
    # (docs/performance.md). OMP_WAIT_POLICY=ACTIVE in the environment keeps spinning.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        app()
        code: object = 0
    except SystemExit as done:  # how typer ends every command
        code = done.code
    _leave(code)


def _leave(code: object) -> NoReturn:
    """End the process with ``code`` (as ``sys.exit`` would) without Python's finalisation.

    With torch imported, finalisation takes ~0.6 s of every command's wall time and does
    nothing a command needs: by the time a command returns, every file it wrote is
    complete and closed (atomic writes), worker processes are stopped and output is
    flushed here. (docs/performance.md measures it.)
    """
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
