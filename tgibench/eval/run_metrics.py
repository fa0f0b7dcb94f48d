"""Run-level metrics (FID, FVD): per-case feature files, and values over sets of cases.

Each scored case keeps its feature arrays in ``features/<metric>/<case_id>.safetensors``
(written atomically before the case's row), so a resumed run loses nothing. When every
case has a row, each run-level metric is computed over all scored cases, per challenge
and per length, and written to ``run_metrics.json``::

    {"fid": {"higher_is_better": false, "overall": 81.2, "challenge": {...},
             "num_frames": {"25": ...}, "cases": 40}}

or ``{"fid": {"unavailable": "<reason>"}}`` when the overall value cannot be computed. A
group that cannot (e.g. a challenge with a single video: FVD needs two per set) is left
out of its grouping and named in ``"unavailable_groups": {"challenge:occlusion": "<reason>"}``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import torch

from tgibench.fileio import atomic_path, write_json_atomic
from tgibench.metrics.registry import MetricDef
from tgibench.rundir import RUN_METRICS_FILE

FEATURES_DIR = "features"


def feature_path(run_dir: Path, metric: str, case_id: str) -> Path:
    return run_dir / FEATURES_DIR / metric / f"{case_id}.safetensors"


def save_case_features(
    run_dir: Path, metric: str, case_id: str, arrays: dict[str, torch.Tensor]
) -> None:
    """Keep one case's feature arrays for a run-level metric (atomic write)."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().cpu().contiguous() for k, v in arrays.items()}
    with atomic_path(feature_path(run_dir, metric, case_id)) as tmp:
        save_file(tensors, tmp)


def _load(run_dir: Path, metric: str, case_ids: list[str]) -> list[dict[str, Any]]:
    from safetensors.torch import load_file

    paths = [feature_path(run_dir, metric, c) for c in case_ids]
    return [load_file(str(p)) for p in paths if p.is_file()]


def _value(run_dir: Path, metric: MetricDef, case_ids: list[str]) -> float:
    assert metric.finalize is not None
    return metric.finalize(_load(run_dir, metric.name, case_ids))


def finalize_run_metrics(
    run_dir: Path, metrics: list[MetricDef], rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """Compute every run-level metric over the scored cases; write and return run_metrics.json."""
    scored = [r for r in rows if "error" not in r]
    report: dict[str, Any] = {}
    for metric in (m for m in metrics if m.run_level):
        reasons = [
            r["unavailable"][metric.name] for r in scored if metric.name in r.get("unavailable", {})
        ]
        if reasons or not scored:
            report[metric.name] = {"unavailable": reasons[0] if reasons else "no scored cases"}
            continue
        groups: dict[str, dict[str, list[str]]] = {
            "challenge": defaultdict(list),
            "num_frames": defaultdict(list),
        }
        for row in scored:
            for key, members in groups.items():
                members[str(row[key])].append(row["case_id"])
        try:
            entry: dict[str, Any] = {
                "higher_is_better": metric.higher_is_better,
                "cases": len(scored),
                "overall": _value(run_dir, metric, [r["case_id"] for r in scored]),
            }
        except (ValueError, RuntimeError) as exc:
            report[metric.name] = {"unavailable": f"{type(exc).__name__}: {exc}"}
            continue
        skipped: dict[str, str] = {}
        for key, members in groups.items():
            entry[key] = {}
            for group, ids in sorted(members.items()):
                try:
                    entry[key][group] = _value(run_dir, metric, ids)
                except (ValueError, RuntimeError) as exc:
                    skipped[f"{key}:{group}"] = f"{type(exc).__name__}: {exc}"
        if skipped:
            entry["unavailable_groups"] = skipped
        report[metric.name] = entry
    if report:
        write_json_atomic(run_dir / RUN_METRICS_FILE, report)
    return report
