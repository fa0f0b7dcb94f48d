"""Aggregate tables (overall, per challenge, per length), pillar ranks and reported numbers.

:func:`aggregate` and :func:`pillar_ranks` return DataFrames for scripting; the
``*_table`` builders turn them into :class:`Table` objects (formatted cells, best values
marked, footnotes) that :mod:`tgibench.leaderboard.formats` renders as md, LaTeX or HTML.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field

import pandas as pd

from tgibench.leaderboard.runs import Runs

GROUPINGS = {"overall": [], "challenge": ["challenge"], "length": ["num_frames"]}
#: Shown for a value that does not exist (metric unavailable, or no scored case).
MISSING = "—"


def aggregate(runs: Runs, by: str = "overall") -> pd.DataFrame:
    """Mean of each metric over the scored cases of each model (and group).

    Failed cases are excluded from the means and counted in ``failed``; ``cases`` counts
    the scored ones. Run-level metrics (FID, FVD) are not means: their value for the run
    or the group comes from run_metrics.json. Index: model (plus the grouping column).
    """
    keys = ["model", *GROUPINGS[by]]
    cases = runs.cases
    ok = cases[cases["error"].isna()]
    means = ok.groupby(keys, sort=True)[list(runs.metrics)].mean()
    counts = ok.groupby(keys, sort=True).size().rename("cases")
    failed = cases[cases["error"].notna()].groupby(keys).size().rename("failed")
    table = pd.concat([counts, failed, means], axis=1)
    table[["cases", "failed"]] = table[["cases", "failed"]].fillna(0).astype(int)
    values = runs.run_values[runs.run_values["grouping"] == by]
    value_keys = ["model", "group"] if GROUPINGS[by] else ["model"]
    for name in set(values["metric"]) & set(runs.metrics):
        found = values[values["metric"] == name].groupby(value_keys)["value"].mean()
        found.index.names = keys
        table[name] = found.reindex(table.index)
    if by != "overall":
        table = table.reorder_levels([*GROUPINGS[by], "model"]).sort_index()
    return table


def pillar_ranks(runs: Runs, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean rank of each model over the metrics of each pillar (1 = best on all of them).

    Ranks are taken per metric over the models of the overall table (ties share the best
    rank; a model without a value is not ranked on that metric). Index: model; columns:
    pillars in the order the runs list their metrics.
    """
    table = aggregate(runs) if table is None else table
    pillars = list(dict.fromkeys(info["pillar"] for info in runs.metrics.values()))
    ranks = {}
    for pillar in pillars:
        per_metric = [
            table[name].rank(ascending=not info["higher_is_better"], method="min")
            for name, info in runs.metrics.items()
            if info["pillar"] == pillar
        ]
        ranks[pillar] = pd.concat(per_metric, axis=1).mean(axis=1)
    return pd.DataFrame(ranks, index=table.index)


@dataclass
class Row:
    """One table row: its labels (model, group) and formatted cells, best ones flagged."""

    labels: list[str]
    cells: list[str]
    best: list[bool]


@dataclass
class Table:
    """A formatted table: ``labels`` and ``columns`` are the headers of the label and
    value columns; ``notes`` are footnotes (reasons for "—", what the numbers are)."""

    title: str
    labels: list[str]
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def arrow(higher_is_better: bool) -> str:
    """↑ when higher is better, ↓ when lower is."""
    return "↑" if higher_is_better else "↓"


def format_value(value: float | None) -> str:
    """Two decimals from 10 up, four below; "—" for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return f"{value:.2f}" if abs(value) >= 10 else f"{value:.4f}"


def _best(column: pd.Series, higher_is_better: bool) -> set[Hashable]:
    """Index labels holding the best value of ``column`` (none if fewer than two values)."""
    values = column.dropna()
    if len(values) < 2:  # nothing to compare against
        return set()
    best = values.max() if higher_is_better else values.min()
    return set(values[values == best].index)


def _labels(key: Hashable) -> list[str]:
    return [str(x) for x in key] if isinstance(key, tuple) else [str(key)]


def unavailable_notes(runs: Runs) -> list[str]:
    """One note per distinct reason: "a, b: unavailable: <its first sentence>".

    The first sentence names what is missing; the full reason (how to provide the weights)
    stays in ``runs.unavailable`` and in the HTML report.
    """
    by_reason: dict[str, list[str]] = {}
    for name in runs.metrics:
        if name in runs.unavailable:
            short = runs.unavailable[name].split(". ", 1)[0].rstrip(".")
            by_reason.setdefault(short, []).append(name)
    return [f"{', '.join(names)}: unavailable: {reason}" for reason, names in by_reason.items()]


def metric_table(runs: Runs, by: str, title: str) -> Table:
    """The aggregate of ``by`` as a Table: best value per column (per group) marked,
    unavailable metrics noted."""
    table = aggregate(runs, by)
    metrics = list(runs.metrics)
    out = Table(
        title,
        labels=list(map(str, table.index.names)),
        columns=[
            "cases",
            "failed",
            *(f"{m} {arrow(runs.metrics[m]['higher_is_better'])}" for m in metrics),
        ],
    )
    groups = table.groupby(level=0, sort=False).groups if by != "overall" else {None: table.index}
    for members in groups.values():
        best = {
            m: _best(table.loc[members, m], runs.metrics[m]["higher_is_better"]) for m in metrics
        }
        for key in members:
            row = table.loc[key]
            out.rows.append(
                Row(
                    _labels(key),
                    [str(int(row["cases"])), str(int(row["failed"]))]
                    + [format_value(row[m]) for m in metrics],
                    [False, False] + [key in best[m] for m in metrics],
                )
            )
    out.notes = unavailable_notes(runs)
    if by != "overall":
        out.notes.append("Best value per column within each group in bold.")
    return out


def rank_table(runs: Runs) -> Table:
    """Mean rank per pillar (lower is better), the best model per pillar marked."""
    ranks = pillar_ranks(runs)
    out = Table("Rank per pillar", labels=["model"], columns=[f"{p} ↓" for p in ranks])
    best = {p: _best(ranks[p], higher_is_better=False) for p in ranks}
    for model, row in ranks.iterrows():
        out.rows.append(
            Row(
                _labels(model),
                [MISSING if math.isnan(v) else f"{v:.2f}" for v in row],
                [model in best[p] for p in ranks],
            )
        )
    for pillar in ranks:
        names = [m for m, info in runs.metrics.items() if info["pillar"] == pillar]
        out.notes.append(f"{pillar}: mean rank over {', '.join(names)}")
    return out


def reported_tables(reported: pd.DataFrame) -> list[Table]:
    """One table per source of the reported numbers (paper Table 1, Table 2, ...), cells
    exactly as the paper printed them; best per column marked."""
    tables = []
    for source, rows in reported.groupby("source", sort=False):
        columns = list(dict.fromkeys(zip(rows["paper_metric"], rows["num_frames"], strict=True)))
        wide = rows.pivot_table(
            index="model", columns=["paper_metric", "num_frames"], values="value", sort=False
        )
        text = rows.set_index(["model", "paper_metric", "num_frames"])["text"]
        higher = rows.groupby(["paper_metric", "num_frames"])["direction"].first() == "higher"
        out = Table(
            f"Reported: {source} (copied from the paper, not measured here)",
            labels=["model"],
            columns=[f"{name} {arrow(bool(higher[(name, n)]))} ({n} fr.)" for name, n in columns],
        )
        best = {c: _best(wide[c], bool(higher[c])) for c in columns}
        for model in dict.fromkeys(rows["model"]):
            out.rows.append(
                Row(
                    [model],
                    [text.get((model, *c), MISSING) for c in columns],
                    [model in best[c] for c in columns],
                )
            )
        names = dict(zip(rows["paper_metric"], rows["metric"], strict=True))
        out.notes.append(
            "Our metric names: " + ", ".join(f"{p} = {m}" for p, m in names.items()) + "."
        )
        tables.append(out)
    return tables


def leaderboard_tables(runs: Runs, reported: pd.DataFrame | None = None) -> list[Table]:
    """Every table of a leaderboard: overall, pillar ranks, per challenge, per length, and
    (given ``reported``) the paper's numbers, apart from the measured ones."""
    tables = [
        metric_table(runs, "overall", "Overall"),
        rank_table(runs),
        metric_table(runs, "challenge", "Per challenge"),
        metric_table(runs, "length", "Per length (frames)"),
    ]
    return tables + (reported_tables(reported) if reported is not None else [])
