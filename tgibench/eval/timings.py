"""Where a run's time goes: stages timed into a profile, and the profile as text (``--profile``).

A profile maps a stage (``load``, ``generate``, ``score:<metric>``, ...) to seconds; per-case
stages are summed over the cases (and over worker processes).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tgibench.eval.runner import RunSummary


@contextmanager
def timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Add the seconds the block takes to ``timings[stage]``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


#: Stages of a profile in the order they happen (stages not listed come after ``score``).
PROFILE_ORDER = (
    "start-up",
    "benchmark",
    "model and metrics",
    "run directory",
    "workers start-up (slowest)",
    "load",
    "generate",
    "conform",
    "save_video",
    "score",
)


def profile_table(summary: RunSummary) -> str:
    """The summary's profile as text: one line per stage, seconds, ``score:<metric>``
    lines indented under ``score``; per-case stages are sums over the cases."""
    profile = summary.profile
    known = [stage for stage in PROFILE_ORDER if stage in profile]
    later = ("write rows", "run-level metrics", "total")
    middle = [s for s in profile if s not in known and s not in later]
    lines = [
        f"profile: {summary.scored + len(summary.failed)} cases, {summary.workers} worker(s); "
        "seconds, per-case stages summed over the cases"
    ]
    for stage in [*known, *middle, *(s for s in later if s in profile)]:
        label = f"  {stage}" if stage.startswith("score:") else stage
        lines.append(f"  {label:<34} {profile[stage]:9.2f}")
    return "\n".join(lines) + "\n"
