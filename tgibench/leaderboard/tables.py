"""Aggregate tables (overall, per challenge, per length) and their text formats."""

from __future__ import annotations

import math

import pandas as pd

from tgibench.leaderboard.runs import Runs

GROUPINGS = {"overall": [], "challenge": ["challenge"], "length": ["num_frames"]}


def aggregate(runs: Runs, by: str = "overall") -> pd.DataFrame:
    """Mean of each metric over the scored cases of each model (and group).

    Failed cases are excluded from the means and counted in ``failed``; ``cases`` counts
    the scored ones. Index: model (plus the grouping column).
    """
    keys = ["model", *GROUPINGS[by]]
    cases = runs.cases
    ok = cases[cases["error"].isna()]
    means = ok.groupby(keys, sort=True)[list(runs.metrics)].mean()
    counts = ok.groupby(keys, sort=True).size().rename("cases")
    failed = cases[cases["error"].notna()].groupby(keys).size().rename("failed")
    table = pd.concat([counts, failed, means], axis=1)
    table[["cases", "failed"]] = table[["cases", "failed"]].fillna(0).astype(int)
    if by != "overall":
        table = table.reorder_levels([*GROUPINGS[by], "model"]).sort_index()
    return table


def _arrow(runs: Runs, name: str) -> str:
    return "↑" if runs.metrics[name]["higher_is_better"] else "↓"


def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.2f}" if abs(value) >= 10 else f"{value:.4f}"


def _best(table: pd.DataFrame, runs: Runs, name: str, group: pd.Index) -> set:
    column = table.loc[group, name].dropna()
    if len(column) < 2:  # nothing to compare against
        return set()
    best = column.max() if runs.metrics[name]["higher_is_better"] else column.min()
    return set(column[column == best].index)


def to_markdown(runs: Runs, table: pd.DataFrame, title: str) -> str:
    """A markdown table: direction arrows, best value per column (per group) in bold,
    unavailable metrics as "—" with the reason in a footnote."""
    metrics = list(runs.metrics)
    index_names = list(table.index.names)
    header = [*index_names, "cases", "failed", *(f"{m} {_arrow(runs, m)}" for m in metrics)]
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    groups = (
        table.groupby(level=0, sort=False).groups if len(index_names) > 1 else {None: table.index}
    )
    for _, members in groups.items():
        best = {m: _best(table, runs, m, members) for m in metrics}
        for key in members:
            row = table.loc[key]
            labels = list(key) if isinstance(key, tuple) else [key]
            cells = [str(x) for x in labels] + [str(int(row["cases"])), str(int(row["failed"]))]
            for m in metrics:
                text = _fmt(row[m])
                cells.append(f"**{text}**" if key in best[m] else text)
            lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- {m}: unavailable: {runs.unavailable[m]}" for m in metrics if m in runs.unavailable]
    if notes:
        lines += ["", "— unavailable for some or all cases:", *notes]
    return "\n".join(lines) + "\n"


def leaderboard_markdown(runs: Runs) -> str:
    """Overall, per-challenge and per-length tables in markdown."""
    parts = [
        to_markdown(runs, aggregate(runs, "overall"), "Overall"),
        to_markdown(runs, aggregate(runs, "challenge"), "Per challenge"),
        to_markdown(runs, aggregate(runs, "length"), "Per length (frames)"),
    ]
    return "\n".join(parts)


def leaderboard_csv(runs: Runs) -> str:
    """All groupings in one long CSV: grouping, group, model, cases, failed, metrics."""
    frames = []
    for by in GROUPINGS:
        table = aggregate(runs, by).reset_index()
        table.insert(0, "grouping", by)
        if by != "overall":
            table = table.rename(columns={GROUPINGS[by][0]: "group"})
        else:
            table.insert(1, "group", "all")
        frames.append(table)
    return pd.concat(frames, ignore_index=True).to_csv(index=False)
