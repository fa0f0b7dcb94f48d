"""Reading run directories into pandas DataFrames (the API behind every table and plot).

The leaderboard reads only what runs wrote (``run.json``, ``results.jsonl``); it never
imports models or metrics, so any finished run can be tabulated anywhere.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tgibench.eval.results import RESULTS_FILE, read_rows
from tgibench.eval.rundir import RUN_FILE

#: Columns of the per-case frame that are not metrics.
CASE_COLUMNS = ("run", "model", "case_id", "folder", "challenge", "num_frames", "error")


class LeaderboardError(ValueError):
    """Runs cannot be tabulated together (missing files, different benchmarks)."""


@dataclass
class Runs:
    """Per-case results of several runs, and what their metrics mean.

    ``cases``: one row per (run, case) with the columns CASE_COLUMNS plus one per metric
    (NaN where unavailable or failed). ``metrics``: name → info from run.json
    (pillar, higher_is_better, range, ...). ``unavailable``: name → reason.
    """

    cases: pd.DataFrame
    metrics: dict[str, dict[str, Any]]
    unavailable: dict[str, str] = field(default_factory=dict)
    benchmarks: dict[str, str] = field(default_factory=dict)


def _load_one(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    run_file = run_dir / RUN_FILE
    if not run_file.is_file():
        raise LeaderboardError(
            f"{run_dir}: no {RUN_FILE}; is it a run directory of `tgibench evaluate`?"
        )
    return json.loads(run_file.read_text(encoding="utf-8")), read_rows(run_dir / RESULTS_FILE)


def load_runs(run_dirs: Iterable[str | os.PathLike[str]], allow_mixed: bool = False) -> Runs:
    """Load runs; refuse runs on different benchmark data unless ``allow_mixed``.

    The last row of a case wins if a case appears twice in one run.
    """
    frames: list[pd.DataFrame] = []
    metrics: dict[str, dict[str, Any]] = {}
    unavailable: dict[str, str] = {}
    benchmarks: dict[str, str] = {}
    for run_path in run_dirs:
        run_dir = Path(run_path)
        record, rows = _load_one(run_dir)
        benchmarks[str(run_dir)] = record["benchmark"]["fingerprint"]
        for name, info in record["metrics"].items():
            metrics.setdefault(name, info)
        for row in rows:
            for name, reason in row.get("unavailable", {}).items():
                unavailable.setdefault(name, reason)
        frame = pd.DataFrame(rows)
        if frame.empty:
            continue
        frame = frame.drop_duplicates("case_id", keep="last")
        frame.insert(0, "run", str(run_dir))
        frames.append(frame)
    if len(set(benchmarks.values())) > 1 and not allow_mixed:
        listing = "; ".join(f"{run}: {fp[:12]}" for run, fp in benchmarks.items())
        raise LeaderboardError(
            f"runs are on different benchmark data ({listing}); pass --allow-mixed to compare anyway"
        )
    cases = (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(CASE_COLUMNS))
    )
    if "error" not in cases:
        cases["error"] = None
    for name in metrics:
        cases[name] = pd.to_numeric(cases[name], errors="coerce") if name in cases else float("nan")
    keep = [c for c in CASE_COLUMNS if c in cases] + list(metrics)
    return Runs(cases=cases[keep], metrics=metrics, unavailable=unavailable, benchmarks=benchmarks)
