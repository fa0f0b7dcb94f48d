"""A leaderboard's numbers as DataFrames: the mean of each metric per model (overall, per
challenge, per length) with its interval, and pillar ranks with theirs.

Means that are compared come from the same cases: every number of a group is over the
cases every model scored (:mod:`tgibench.leaderboard.cases`); the intervals, top groups and
rank intervals come from one set of bootstrap resamples per group
(:mod:`tgibench.leaderboard.confidence`). :func:`summaries` holds them as arrays for the
tables; :func:`aggregate` and :func:`pillar_ranks` as DataFrames for scripts.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from tgibench.leaderboard.cases import case_values, run_models
from tgibench.leaderboard.confidence import GroupSummary, summarise
from tgibench.leaderboard.runs import Runs
from tgibench.leaderboard.tables import GROUPINGS, smoke_tests


def summaries(runs: Runs, by: str = "overall") -> dict[Hashable, GroupSummary]:
    """One :class:`~tgibench.leaderboard.confidence.GroupSummary` per group of ``by`` (key
    "all" for "overall"; else each challenge or length some run scored, in order): means
    over the cases every model scored (:func:`~tgibench.leaderboard.cases.case_values`),
    intervals, top groups and pillar ranks with their intervals."""
    compared = case_values(runs)
    smoke = smoke_tests(runs)
    ranked = [model not in smoke for model in compared.models]
    if by == "overall":
        groups: dict[Hashable, np.ndarray] = {"all": np.ones(len(compared.cases), dtype=bool)}
    else:
        column = GROUPINGS[by][0]
        keys = sorted(set(runs.cases.loc[runs.cases["error"].isna(), column]))
        groups = {key: (compared.cases[column] == key).to_numpy() for key in keys}
    models = run_models(runs)
    return {
        key: summarise(
            compared.subset(keep),
            runs.metrics,
            ranked,
            _run_level_values(runs, by, key, compared.models, models),
        )
        for key, keep in groups.items()
    }


def _run_level_values(
    runs: Runs, by: str, group: Hashable, order: list[str], models: dict[str, str]
) -> dict[str, np.ndarray]:
    """Run-level metric → (models,) values for one group (mean over a model's repeats)."""
    values = runs.run_values[
        (runs.run_values["grouping"] == by) & (runs.run_values["group"] == group)
    ]
    found = values.assign(label=values["run"].map(models)).groupby(["metric", "label"])["value"]
    means = found.mean()
    return {
        name: means.loc[name].reindex(order).to_numpy(dtype=np.float64)
        for name in dict.fromkeys(values["metric"])
        if name in runs.metrics
    }


def index_label(by: str, group: Hashable, model: str) -> Hashable:
    """An aggregate's index label: the model, or (group, model)."""
    return model if by == "overall" else (group, model)


def _frame(rows: dict[Hashable, dict[str, float]], by: str) -> pd.DataFrame:
    """A DataFrame of rows keyed by :func:`index_label`, its index named and sorted."""
    table = pd.DataFrame.from_dict(rows, orient="index")
    if by != "overall":
        table.index = pd.MultiIndex.from_tuples(table.index)
    table.index.names = [*GROUPINGS[by], "model"]
    return table.sort_index()


def failed_cases(runs: Runs, by: str) -> pd.Series:
    """Cases of each (group,) model that failed in some run of the model."""
    failed = runs.cases[runs.cases["error"].notna()]
    failed = failed.assign(model=failed["run"].map(run_models(runs)))
    return failed.groupby([*GROUPINGS[by], "model"])["case_id"].nunique()


def aggregate(runs: Runs, by: str = "overall") -> pd.DataFrame:
    """Mean of each metric over the cases every model scored, per model (and group), with
    its interval.

    Columns: ``cases`` (the cases the means are over, the same for every model of a
    group), ``failed`` (cases of the group that failed in some run of the model), ``runs``
    (the model's runs: repeats that differ by seed are averaged per case), then for each
    metric ``M``: ``M`` (the mean), ``M_lo``, ``M_hi`` (its stats.LEVEL interval,
    expanded percentile bootstrap over cases; NaN with fewer than two cases) and ``M_seed_sd``
    (standard deviation over the repeats' means; NaN for one run). Run-level metrics (FID,
    FVD) are not means: their value for the run or the group comes from run_metrics.json,
    over the run's own cases, without interval. Index: model (plus the grouping column
    first for "challenge" or "length").
    """
    failed = failed_cases(runs, by)
    repeats = pd.Series(run_models(runs)).value_counts()
    rows = {}
    for group, summary in summaries(runs, by).items():
        for k, model in enumerate(summary.models):
            key = index_label(by, group, model)
            row: dict[str, float] = {
                "cases": summary.cases,
                "failed": int(failed.get(key, 0)),
                "runs": int(repeats[model]),
            }
            for j, name in enumerate(summary.metrics):
                row[name] = summary.mean[k, j]
                row[f"{name}_lo"] = summary.lo[k, j]
                row[f"{name}_hi"] = summary.hi[k, j]
                row[f"{name}_seed_sd"] = summary.spread[k, j]
            rows[key] = row
    table = _frame(rows, by)
    table[["cases", "failed", "runs"]] = table[["cases", "failed", "runs"]].astype(int)
    return table


def pillar_ranks(runs: Runs, by: str = "overall") -> pd.DataFrame:
    """Mean rank of each model over the metrics of each pillar (1 = best on all of them),
    and its interval.

    Ranks are taken per metric over the models' means of :func:`aggregate` ``(runs,
    by)``, within each group when ``by`` is "challenge" or "length" (ties share the best
    rank; a model without a value is not ranked on that metric). Smoke tests
    (:func:`is_smoke_test`) are not ranked (NaN) and do not count. Columns: every pillar,
    in the order the runs list their metrics (NaN where no metric of it was measured),
    then ``P_lo``, ``P_hi`` for each pillar ``P``: its stats.LEVEL interval, the range the
    mean rank takes over the bootstrap resamples of the cases (at the expanded level of
    the means' intervals; NaN with fewer than two cases). Index: as the aggregate's.
    """
    rows = {}
    for group, summary in summaries(runs, by).items():
        for k, model in enumerate(summary.models):
            row = dict(zip(summary.pillars, summary.rank[k], strict=True))
            for j, pillar in enumerate(summary.pillars):
                row[f"{pillar}_lo"] = summary.rank_lo[k, j]
                row[f"{pillar}_hi"] = summary.rank_hi[k, j]
            rows[index_label(by, group, model)] = row
    return _frame(rows, by)
