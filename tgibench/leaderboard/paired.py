"""Two runs (or two sets of seed repeats of one model each) compared case by case.

For each metric, on the cases both sides scored and have a value of it: the means of A
and B, their difference (A minus B) with its interval (expanded percentile bootstrap of
the mean per-case difference), the two-sided p-value of the paired sign-flip test and a
verdict that reads the metric's direction. A side of several runs (repeats that differ by
seed) has its values averaged per case first. ``tgibench compare`` prints what
:func:`compare` returns.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from tgibench.leaderboard import stats
from tgibench.leaderboard.cases import case_values, scored_cases
from tgibench.leaderboard.runs import LeaderboardError, expand_run_dirs, load_runs

#: Columns of :func:`compare` (``group`` first with ``by``), and keys of each JSON line.
COMPARE_COLUMNS = ("metric", "n", "mean_a", "mean_b", "diff", "diff_lo", "diff_hi", "p", "verdict")
#: The case column of each grouping.
BY_COLUMN = {"challenge": "challenge", "length": "num_frames"}
SIDES = ("a", "b")


def _side_runs(paths: Iterable[str | os.PathLike[str]], side: str) -> list[str]:
    """The run dirs of one side (folders of runs expanded)."""
    runs = [str(path) for path in expand_run_dirs(paths)]
    if not runs:
        raise LeaderboardError(f"side {side}: no run given")
    return runs


def _side_models(records: dict[str, dict[str, object]], sides: dict[str, str]) -> dict[str, str]:
    """Side → the model spec of its runs, which must be repeats of one model spec."""
    found = {}
    for side in SIDES:
        specs = sorted({str(records[run]["model"]) for run, s in sides.items() if s == side})
        if len(specs) > 1:
            raise LeaderboardError(
                f"side {side} mixes models ({', '.join(specs)}); several runs on a side must be "
                "repeats of one model spec that differ by --seed"
            )
        found[side] = specs[0]
    return found


def _verdict(diff: float, p: float, higher_is_better: bool) -> str:
    """ "a" or "b" for the better side when the difference is significant, else "tied"."""
    if not p < 1.0 - stats.LEVEL:
        return "tied"
    return "a" if (diff > 0) == higher_is_better else "b"


def compare(
    a: Sequence[str | os.PathLike[str]],
    b: Sequence[str | os.PathLike[str]],
    *,
    metrics: Sequence[str] | None = None,
    by: str | None = None,
    allow_mixed: bool = False,
    resamples: int = stats.RESAMPLES,
    seed: int = stats.SEED,
) -> pd.DataFrame:
    """Compare runs ``a`` with runs ``b`` on the cases both scored, metric by metric.

    ``a``, ``b``: run directories or folders of runs; several runs on one side are repeats
    of one model spec (seeds), averaged per case. ``metrics``: per-case metrics to compare
    (default: every one both sides measured). ``by``: "challenge" or "length" for one row
    per group and metric (a ``group`` column first).

    Returns one row per (group,) metric with COMPARE_COLUMNS: ``n`` cases, ``mean_a``,
    ``mean_b``, ``diff`` (mean of A - B), its LEVEL interval ``diff_lo``, ``diff_hi``, the
    two-sided paired sign-flip ``p`` and ``verdict`` ("a", "b" when significant at
    1 - LEVEL, by the metric's direction, else "tied"). ``attrs``: ``only_a``, ``only_b``
    (cases scored by one side only, left out), ``runs_a``, ``runs_b`` (run dirs),
    ``model_a``, ``model_b`` (specs), ``resamples``, ``seed``. Raises :class:`LeaderboardError` for a run on both sides, a side mixing
    models, an unknown or run-level metric, or ``by`` not a grouping.
    """
    if by is not None and by not in BY_COLUMN:
        raise LeaderboardError(f"--by must be challenge or length, not {by!r}")
    sides = dict.fromkeys(_side_runs(a, "a"), "a")
    for run in _side_runs(b, "b"):
        if run in sides:
            raise LeaderboardError(f"{run} is on both sides; compare a run with a copy of it")
        sides[run] = "b"
    runs = load_runs(list(sides), allow_mixed=allow_mixed)
    specs = _side_models(runs.records, sides)
    compared = case_values(runs, sides)
    values = compared.values()  # (2, cases, metrics): a then b
    both = (~np.isnan(values)).any(axis=1).all(axis=0)  # (metrics,): each side has a value
    measured = [m for m, has in zip(compared.metrics, both, strict=True) if has]
    names = list(metrics) if metrics else measured
    unknown = [m for m in names if m not in compared.metrics]
    if unknown:
        raise LeaderboardError(
            f"cannot compare {', '.join(unknown)}: not a per-case metric of these runs "
            f"(per-case metrics with values: {', '.join(measured)})"
        )
    columns = [compared.metrics.index(m) for m in names]
    higher = [bool(runs.metrics[m]["higher_is_better"]) for m in names]
    groups = (
        {None: np.ones(len(compared.cases), dtype=bool)}
        if by is None
        else {
            key: (compared.cases[BY_COLUMN[by]] == key).to_numpy()
            for key in sorted(set(compared.cases[BY_COLUMN[by]]))
        }
    )
    rows = []
    for group, keep in groups.items():
        side_a, side_b = values[0][keep][:, columns], values[1][keep][:, columns]
        cases = int(keep.sum())
        diffs = side_a - side_b
        found = stats.mean_intervals(diffs, stats.bootstrap_counts(cases, resamples, seed))
        p = stats.sign_flip_p(diffs, stats.sign_flips(cases, resamples, seed))
        for k, name in enumerate(names):
            if found.cases[k] == 0:
                continue
            rows.append(
                {
                    **({} if by is None else {"group": group}),
                    "metric": name,
                    "n": int(found.cases[k]),
                    "mean_a": float(np.nanmean(side_a[:, k])),
                    "mean_b": float(np.nanmean(side_b[:, k])),
                    "diff": float(found.mean[k]),
                    "diff_lo": float(found.lo[k]),
                    "diff_hi": float(found.hi[k]),
                    "p": float(p[k]),
                    "verdict": _verdict(found.mean[k], p[k], higher[k]),
                }
            )
    table = pd.DataFrame(rows, columns=[*([] if by is None else ["group"]), *COMPARE_COLUMNS])
    scored = scored_cases(runs, sides)
    table.attrs = {
        "only_a": len(scored["a"] - scored["b"]),
        "only_b": len(scored["b"] - scored["a"]),
        **{f"runs_{side}": [run for run, s in sides.items() if s == side] for side in SIDES},
        **{f"model_{side}": spec for side, spec in specs.items()},
        "resamples": resamples,
        "seed": seed,
    }
    return table
