"""The per-case values that tables compare: every model on the same cases.

Means that are compared come from the same cases: the cases every model scored (no
``error`` in any of its runs). A model's runs that differ only by seed are repeats: on
each case their values are averaged, and the spread of their means is reported next to the
interval over cases. A case on which a metric has no value for some model (the metric
failed there) is left out of that metric for every model. Each run's coverage (scored,
failed, missing cases) says what was dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tgibench.leaderboard.runs import Runs, run_label

#: Columns of :func:`coverage`.
COVERAGE_COLUMNS = ("model", "scored", "failed", "missing", "compared")


def run_models(runs: Runs) -> dict[str, str]:
    """Run dir → the model (row label) its cases carry in ``runs.cases``, or its label
    (:func:`run_label`) when it has no row."""
    labels = runs.cases.drop_duplicates("run").set_index("run")["model"]
    return {run: str(labels.get(run, run_label(record))) for run, record in runs.records.items()}


def per_case_metrics(runs: Runs) -> list[str]:
    """The metrics with a value per case (not run-level ones such as FID), in run order."""
    return [name for name, info in runs.metrics.items() if not info.get("run_level")]


@dataclass(frozen=True)
class CaseValues:
    """Per-case values of runs on the cases every model scored.

    ``models``: row labels; ``runs``: run dirs, ``run_model[i]`` the index of run i's
    model (several runs of one model are its repeats); ``cases``: one row per common case
    (``case_id``, ``challenge``, ``num_frames``), sorted by case id; ``metrics``: column
    names; ``per_run``: (runs, cases, metrics) float64, NaN where a run has no value.
    """

    models: list[str]
    runs: list[str]
    run_model: np.ndarray
    cases: pd.DataFrame
    metrics: list[str]
    per_run: np.ndarray

    def subset(self, keep: np.ndarray) -> CaseValues:
        """The same runs on the cases where ``keep`` (cases,) is true (a challenge, a length)."""
        return CaseValues(
            self.models,
            self.runs,
            self.run_model,
            self.cases[keep].reset_index(drop=True),
            self.metrics,
            self.per_run[:, keep],
        )

    def values(self) -> np.ndarray:
        """(models, cases, metrics): each model's value per case, the mean of its repeats;
        NaN for every model on the cases where a model that measured the metric has none."""
        out = np.stack(
            [self.per_run[self.run_model == k].mean(axis=0) for k in range(len(self.models))]
        )
        measured = ~np.isnan(out).all(axis=1, keepdims=True)  # (models, 1, metrics)
        complete = (~np.isnan(out) | ~measured).all(axis=0)  # (cases, metrics)
        return np.where(complete, out, np.nan)

    def seed_spread(self) -> np.ndarray:
        """(models, metrics): standard deviation over a model's repeats of their means on
        these cases (the cases :meth:`values` keeps); NaN for a model with one run."""
        complete = ~np.isnan(self.values()).any(axis=0)
        spread = np.full((len(self.models), len(self.metrics)), np.nan)
        for k in range(len(self.models)):
            repeats = self.per_run[self.run_model == k]
            if len(repeats) < 2:
                continue
            with np.errstate(invalid="ignore", divide="ignore"):  # a metric without cases: NaN
                means = np.where(complete, repeats, 0.0).sum(axis=1) / complete.sum(axis=0)
            spread[k] = means.std(axis=0, ddof=1)
        return spread


def _scored(runs: Runs) -> pd.DataFrame:
    return runs.cases[runs.cases["error"].isna()]


def scored_cases(runs: Runs, models: dict[str, str]) -> dict[str, set[str]]:
    """Model → the case ids scored in every one of its runs (``models``: run dir → model)."""
    scored = _scored(runs)
    found: dict[str, set[str]] = {}
    for run, model in models.items():
        ids = set(scored.loc[scored["run"] == run, "case_id"])
        found[model] = found[model] & ids if model in found else ids
    return found


def case_values(runs: Runs, models: dict[str, str] | None = None) -> CaseValues:
    """The per-case values of ``runs`` on the cases every model scored in every one of its
    runs. ``models``: run dir → model (row label); by default :func:`run_models`."""
    models = models or run_models(runs)
    names = list(dict.fromkeys(models.values()))
    order = sorted(models, key=lambda run: names.index(models[run]))
    scored = _scored(runs)
    common = set.intersection(*scored_cases(runs, models).values()) if models else set()
    info = (
        scored[scored["case_id"].isin(common)]
        .drop_duplicates("case_id")
        .sort_values("case_id")[["case_id", "challenge", "num_frames"]]
        .reset_index(drop=True)
    )
    metrics = per_case_metrics(runs)
    per_run = (
        np.stack(
            [
                scored[scored["run"] == run]
                .set_index("case_id")
                .reindex(info["case_id"])[metrics]
                .to_numpy(dtype=np.float64)
                for run in order
            ]
        )
        if order
        else np.empty((0, 0, len(metrics)))
    )
    return CaseValues(
        models=names,
        runs=order,
        run_model=np.array([names.index(models[run]) for run in order], dtype=int),
        cases=info,
        metrics=metrics,
        per_run=per_run,
    )


def coverage(runs: Runs, compared: CaseValues | None = None) -> pd.DataFrame:
    """Each run's cases: ``scored``, ``failed`` (rows with ``error``), ``missing`` (cases
    of its benchmark, or of another run, without a row) and ``compared`` (the cases every
    model scored, which the tables use). Index: run dir; columns COVERAGE_COLUMNS."""
    compared = compared or case_values(runs)
    expected = set(runs.cases["case_id"])
    for record in runs.records.values():
        expected |= set(record.get("benchmark", {}).get("case_ids", []))
    models = run_models(runs)
    rows = {}
    for run in runs.records:
        own = runs.cases[runs.cases["run"] == run]
        failed = int(own["error"].notna().sum())
        rows[run] = {
            "model": models[run],
            "scored": len(own) - failed,
            "failed": failed,
            "missing": len(expected - set(own["case_id"])),
            "compared": len(compared.cases),
        }
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(COVERAGE_COLUMNS))
