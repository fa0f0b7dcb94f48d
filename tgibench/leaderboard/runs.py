"""Reading run directories into pandas DataFrames (the API behind every table and plot).

The leaderboard reads only what runs wrote (``run.json``, ``results.jsonl``,
``run_metrics.json``, ``videos/``); it never imports models or metrics, so any finished run
can be tabulated anywhere.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tgibench.rundir import (
    RESULTS_FILE,
    RUN_FILE,
    RUN_METRICS_FILE,
    metric_version,
    read_rows,
    video_path,
)
from tgibench.spec import SpecError, parse_spec

#: Columns of the per-case frame that are not metrics.
CASE_COLUMNS = ("run", "model", "case_id", "folder", "challenge", "num_frames", "error")
#: Columns of :attr:`Runs.run_values`.
RUN_VALUE_COLUMNS = ("run", "model", "grouping", "group", "metric", "value")
#: run_metrics.json's keys for the groupings of a run-level metric.
RUN_METRIC_GROUPINGS = {"challenge": "challenge", "num_frames": "length"}


class LeaderboardError(ValueError):
    """Runs cannot be tabulated together (missing files, different benchmarks, different
    versions of a metric)."""


def _mixed_versions(
    versions: dict[str, dict[str, int]], records: dict[str, dict[str, Any]]
) -> str | None:
    """A message naming every metric scored with different versions by the runs, and the
    runs to re-score; None when every metric has one version."""
    problems = []
    for name, by_run in versions.items():
        newest = max(by_run.values())
        if len(set(by_run.values())) < 2:
            continue
        older = sorted(run for run, version in by_run.items() if version < newest)
        listing = ", ".join(f"{run} (v{by_run[run]})" for run in older)
        problems.append(f"{name}: v{newest} in the newest runs, older in {listing}")
    if not problems:
        return None
    bench = next(iter(records.values()))["benchmark"].get("source", "...")
    return (
        "runs were scored with different versions of a metric, whose values are not "
        "comparable: " + "; ".join(problems) + ". Re-score the older runs' videos with "
        f"`tgibench score --videos RUN/videos --bench {bench} --out NEW_RUN`, or pass "
        "--allow-mixed to show them anyway (the column is then marked mixed)."
    )


@dataclass
class Runs:
    """Per-case results of several runs, and what their metrics mean.

    ``cases``: one row per (run, case) with the columns CASE_COLUMNS plus one per metric
    (NaN where unavailable or failed). ``metrics``: name → info from run.json
    (pillar, higher_is_better, range, run_level, ...). ``unavailable``: name → reason.
    ``run_values``: values of run-level metrics (FID, FVD) from run_metrics.json, long form
    (RUN_VALUE_COLUMNS; grouping "overall", "challenge" or "length"). ``records``: run dir →
    its run.json (provenance). ``benchmarks``: run dir → benchmark fingerprint.
    ``curves``: (run dir, case id) → the pace curves the runner stored in the row
    (``progress`` of the video, ``target_progress`` of its ground truth, from 0 to 1).
    """

    cases: pd.DataFrame
    metrics: dict[str, dict[str, Any]]
    unavailable: dict[str, str] = field(default_factory=dict)
    benchmarks: dict[str, str] = field(default_factory=dict)
    run_values: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(RUN_VALUE_COLUMNS))
    )
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    curves: dict[tuple[str, str], dict[str, list[float]]] = field(default_factory=dict)

    def video_path(self, run: str, case_id: str) -> Path | None:
        """The video a run saved for a case (``videos/<case_id>.*``), or None."""
        return video_path(Path(run), case_id)


def _load_one(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    record = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    return record, read_rows(run_dir / RESULTS_FILE)


#: Longest label made from a spec; a longer one is cut with "…".
LABEL_WIDTH = 40


def run_label(record: dict[str, Any]) -> str:
    """What every table calls a run: its ``--name``; else its model spec, with videos made
    elsewhere shown by where they come from: ``folder:<folder name>`` and ``batch:`` or
    ``command:`` with the program's file name (never a whole path or command line)."""
    name = record.get("config", {}).get("name")
    if name:
        return str(name)
    spec = str(record.get("model", ""))
    try:
        kind, options = parse_spec(spec)
    except SpecError:
        return spec
    if kind == "folder" and "path" in options:
        return f"folder:{Path(str(options['path'])).name}"
    if kind in ("batch", "command") and "cmd" in options:
        try:
            argv = shlex.split(str(options["cmd"]))  # as the batch and command models split it
        except ValueError:
            argv = str(options["cmd"]).split()
        words = [w for w in argv if not w.startswith(("-", "{"))]
        scripts = [w for w in words if Path(w).suffix in (".py", ".sh")] or words[:1]
        return f"{kind}:{Path(scripts[0]).name}" if scripts else kind
    return spec if len(spec) <= LABEL_WIDTH else spec[: LABEL_WIDTH - 1] + "…"


def _run_level_values(
    run: str, model: str, report: dict[str, Any], unavailable: dict[str, str]
) -> list[dict[str, Any]]:
    """Long-form rows of one run's run_metrics.json; unavailable ones go to ``unavailable``."""
    rows: list[dict[str, Any]] = []
    for metric, entry in report.items():
        if "unavailable" in entry:
            unavailable.setdefault(metric, entry["unavailable"])
            continue
        base = {"run": run, "model": model, "metric": metric}
        rows.append({**base, "grouping": "overall", "group": "all", "value": entry["overall"]})
        for key, grouping in RUN_METRIC_GROUPINGS.items():
            for group, value in entry.get(key, {}).items():
                label = int(group) if grouping == "length" else group
                rows.append({**base, "grouping": grouping, "group": label, "value": value})
    return rows


def expand_run_dirs(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The run directories that ``paths`` name: a run directory (it holds ``run.json``)
    itself, a folder of runs (``runs/demo``) each run directly inside it, in name order;
    each run once. Raises :class:`LeaderboardError` for a path that is neither."""
    found: dict[Path, None] = {}
    for path in map(Path, paths):
        if (path / RUN_FILE).is_file():
            found[path] = None
            continue
        inside = sorted(p.parent for p in path.glob(f"*/{RUN_FILE}"))
        if not inside:
            raise LeaderboardError(
                f"{path}: no {RUN_FILE}, nor a run directory inside it; is it a run directory "
                "of `tgibench evaluate`?"
            )
        found.update(dict.fromkeys(inside))
    return list(found)


def load_runs(run_dirs: Iterable[str | os.PathLike[str]], allow_mixed: bool = False) -> Runs:
    """Load runs (run directories, or folders of them: :func:`expand_run_dirs`); refuse
    runs on different benchmark data unless ``allow_mixed``.

    The last row of a case wins if a case appears twice in one run.
    """
    frames: list[pd.DataFrame] = []
    metrics: dict[str, dict[str, Any]] = {}
    unavailable: dict[str, str] = {}
    benchmarks: dict[str, str] = {}
    records: dict[str, dict[str, Any]] = {}
    run_values: list[dict[str, Any]] = []
    versions: dict[str, dict[str, int]] = {}
    curves: dict[tuple[str, str], dict[str, list[float]]] = {}
    for run_dir in expand_run_dirs(run_dirs):
        record, rows = _load_one(run_dir)
        records[str(run_dir)] = record
        benchmarks[str(run_dir)] = record["benchmark"]["fingerprint"]
        for name, info in record["metrics"].items():
            metrics.setdefault(name, dict(info))
            versions.setdefault(name, {})[str(run_dir)] = metric_version(info)
        for row in rows:
            for name, reason in row.get("unavailable", {}).items():
                unavailable.setdefault(name, reason)
            if "curves" in row:
                curves[(str(run_dir), row["case_id"])] = row["curves"]
        run_metrics = run_dir / RUN_METRICS_FILE
        if run_metrics.is_file():
            report = json.loads(run_metrics.read_text(encoding="utf-8"))
            run_values += _run_level_values(str(run_dir), run_label(record), report, unavailable)
        frame = pd.DataFrame(rows)
        if frame.empty:
            continue
        frame = frame.drop_duplicates("case_id", keep="last")
        frame["model"] = run_label(record)
        frame.insert(0, "run", str(run_dir))
        frames.append(frame)
    if len(set(benchmarks.values())) > 1 and not allow_mixed:
        listing = "; ".join(f"{run}: {fp[:12]}" for run, fp in benchmarks.items())
        raise LeaderboardError(
            f"runs are on different benchmark data ({listing}); pass --allow-mixed to compare anyway"
        )
    mixed = _mixed_versions(versions, records)
    if mixed and not allow_mixed:
        raise LeaderboardError(mixed)
    for name, by_run in versions.items():
        metrics[name]["version"] = max(by_run.values())
        if len(set(by_run.values())) > 1:
            metrics[name]["mixed_versions"] = sorted(set(by_run.values()))
    cases = (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(CASE_COLUMNS))
    )
    if "error" not in cases:
        cases["error"] = None
    for name in metrics:
        cases[name] = pd.to_numeric(cases[name], errors="coerce") if name in cases else float("nan")
    keep = [c for c in CASE_COLUMNS if c in cases] + list(metrics)
    return Runs(
        cases=cases[keep],
        metrics=metrics,
        unavailable=unavailable,
        benchmarks=benchmarks,
        run_values=pd.DataFrame(run_values, columns=list(RUN_VALUE_COLUMNS)),
        records=records,
        curves=curves,
    )
