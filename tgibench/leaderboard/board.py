"""Every table of a leaderboard as :class:`~tgibench.leaderboard.tables.Table` objects:
overall, coverage, pillar ranks, per challenge, per length and the paper's numbers.

Each mean is followed by its interval and each pillar rank by its rank interval; bold marks
a column's top group (:mod:`tgibench.leaderboard.confidence`). Notes say what the numbers
are: which cases they are over, what was dropped, what is not measured and why.
:mod:`tgibench.leaderboard.formats` renders the tables as md, LaTeX or HTML.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

import pandas as pd

from tgibench.leaderboard import stats
from tgibench.leaderboard.cases import coverage, run_models
from tgibench.leaderboard.confidence import GroupSummary
from tgibench.leaderboard.reported import reported_method
from tgibench.leaderboard.runs import Runs
from tgibench.leaderboard.summary import failed_cases, index_label, summaries
from tgibench.leaderboard.tables import (
    GROUPINGS,
    MISSING,
    Row,
    Table,
    arrow,
    format_interval,
    format_rank_interval,
    format_value,
    labels_of,
    measured_metrics,
    motion_note,
    pillars,
    smoke_notes,
    smoke_tests,
    unavailable_notes,
    version_notes,
)


def interval_notes(runs: Runs, groups: dict[Hashable, GroupSummary]) -> list[str]:
    """What the intervals and marks of a metric table are, what was left out, and which
    models' rows average repeated runs."""
    cases = sorted({summary.cases for summary in groups.values()})
    notes = [
        f"Means over the cases every model scored ({'/'.join(map(str, cases))}), each with "
        f"its {stats.LEVEL:.0%} interval in brackets: expanded percentile bootstrap over the cases "
        f"({stats.RESAMPLES} resamples, seed {stats.SEED}).",
        "Bold: each column's top group, the best mean and every model not significantly "
        "different from it (paired sign-flip test on the per-case differences, Holm's "
        f"correction, {1 - stats.LEVEL:.0%}); a lone bold value is significantly better than "
        "every other.",
    ]
    dropped = coverage_note(runs)
    notes += [dropped] if dropped else []
    notes += metric_case_notes(groups) + run_level_notes(runs) + repeat_notes(runs)
    return notes


def coverage_note(runs: Runs) -> str | None:
    """A note when cases were dropped to compare every model on the same cases, with each
    run's scored/failed/missing cases."""
    found = coverage(runs)
    if not (found["scored"] > found["compared"]).any():
        return None
    listing = ", ".join(
        f"{run} ({row.model}) {row.scored}/{row.failed}/{row.missing}"
        for run, row in found.iterrows()
    )
    return (
        f"Cases dropped so that every model is compared on the same "
        f"{int(found['compared'].iloc[0])} cases; scored/failed/missing cases per run: {listing}."
    )


def metric_case_notes(groups: dict[Hashable, GroupSummary]) -> list[str]:
    """A note per metric that has fewer cases than its group in some group."""
    notes = []
    for summary in groups.values():
        for name, n in zip(summary.metrics, summary.metric_cases, strict=True):
            if 0 < n < summary.cases:
                notes.append(
                    f"{name}: {n} of the {summary.cases} cases (a model has no value on the others)"
                )
    return list(dict.fromkeys(notes))


def run_level_notes(runs: Runs) -> list[str]:
    """Why run-level metrics (FID, FVD) have no interval, when one is measured."""
    names = [m for m in measured_metrics(runs) if runs.metrics[m].get("run_level")]
    if not names:
        return []
    return [
        f"{', '.join(names)}: a distance between a run's whole generated and ground-truth "
        "sets, over the run's own scored cases (run_metrics.json), not a mean over cases: no "
        "interval and no top group (see docs/leaderboard.md)."
    ]


def repeat_notes(runs: Runs) -> list[str]:
    """One note per model with several runs (its repeats, e.g. seeds)."""
    by_model: dict[str, list[str]] = {}
    for run, model in run_models(runs).items():
        by_model.setdefault(model, []).append(str(runs.records[run].get("seed", "?")))
    return [
        f"{model}: {len(seeds)} runs (seeds {', '.join(seeds)}) averaged per case; s± is the "
        "standard deviation of their means."
        for model, seeds in by_model.items()
        if len(seeds) > 1
    ]


def _group_label(by: str) -> list[str]:
    return [*GROUPINGS[by], "model"]


def _ordered(groups: dict[Hashable, GroupSummary]) -> list[tuple[Hashable, GroupSummary, int]]:
    """(group, summary, model index) of every row, models in name order within a group."""
    return [
        (group, summary, k)
        for group, summary in groups.items()
        for k in sorted(range(len(summary.models)), key=lambda k: summary.models[k])
    ]


def metric_table(runs: Runs, by: str, title: str, *, notes: bool = True) -> Table:
    """The means of ``by`` as a Table over the measured metrics, each with its interval;
    each column's top group (per group) marked. ``notes``: add what is missing and what
    the intervals are (the first table's job)."""
    groups = summaries(runs, by)
    metrics = measured_metrics(runs)
    smoke = smoke_tests(runs)
    failed = failed_cases(runs, by)
    out = Table(
        title,
        labels=_group_label(by),
        columns=[
            "cases",
            "failed",
            *(f"{m} {arrow(runs.metrics[m]['higher_is_better'])}" for m in metrics),
        ],
    )
    for group, summary, k in _ordered(groups):
        key = index_label(by, group, summary.models[k])
        columns = [summary.metrics.index(m) for m in metrics]
        out.rows.append(
            Row(
                labels_of(key, smoke),
                [str(summary.cases), str(int(failed.get(key, 0)))]
                + [format_value(summary.mean[k, j]) for j in columns],
                [False, False] + [bool(summary.top[k, j]) for j in columns],
                ["", ""]
                + [
                    format_interval(summary.lo[k, j], summary.hi[k, j], summary.spread[k, j])
                    for j in columns
                ],
            )
        )
    out.notes = (
        [
            *version_notes(runs),
            *unavailable_notes(runs),
            *motion_note(runs),
            *interval_notes(runs, groups),
        ]
        if notes
        else []
    )
    if by != "overall":
        out.notes.append(
            f"Means over the cases of each {by} that every model scored; top groups within "
            "each group in bold."
        )
    out.notes += smoke_notes(out.rows)
    return out


def rank_table(runs: Runs, by: str = "overall") -> Table:
    """Mean rank per pillar (lower is better) over the models (within each challenge or
    length for ``by``), with its interval, the top group per pillar marked; pillars
    without a measured metric are left out."""
    groups = summaries(runs, by)
    measured = pillars(runs, measured=True)
    smoke = smoke_tests(runs)
    title = "Rank per pillar" + ("" if by == "overall" else f", per {by}")
    out = Table(title, labels=_group_label(by), columns=[f"{p} ↓" for p in measured])
    for group, summary, k in _ordered(groups):
        columns = [summary.pillars.index(p) for p in measured]
        out.rows.append(
            Row(
                labels_of(index_label(by, group, summary.models[k]), smoke),
                [
                    MISSING if math.isnan(summary.rank[k, j]) else f"{summary.rank[k, j]:.2f}"
                    for j in columns
                ],
                [bool(summary.rank_top[k, j]) for j in columns],
                [
                    format_rank_interval(summary.rank_lo[k, j], summary.rank_hi[k, j])
                    for j in columns
                ],
            )
        )
    for pillar in measured:
        names = measured_metrics(runs, pillar)
        out.notes.append(f"{pillar}: mean rank over {', '.join(names)}")
    out.notes.append(
        f"In brackets: the {stats.LEVEL:.0%} interval of the mean rank, the range it takes over "
        "the bootstrap resamples of the cases (widened for few cases as the means' intervals "
        "are). Bold: the top group, the best mean rank and every model whose rank difference "
        "from it is not significant (the same resamples, Holm's correction)."
    )
    if by != "overall":
        out.notes.append(f"Ranks among the models within each {by}.")
    out.notes += smoke_notes(out.rows)
    return out


def coverage_table(runs: Runs) -> Table:
    """Each run's cases: scored, failed, missing, and compared (those every model scored,
    which every table uses)."""
    found = coverage(runs)
    out = Table(
        "Coverage", labels=["run", "model"], columns=["scored", "failed", "missing", "compared"]
    )
    for run, row in found.iterrows():
        cells = [str(int(row[c])) for c in ("scored", "failed", "missing", "compared")]
        out.rows.append(Row([str(run), str(row["model"])], cells, [False] * 4))
    out.notes.append(
        "missing: cases of the run's benchmark, or of another run, that it has no row for; "
        "compared: the cases every model scored, on which every table compares them."
    )
    return out


def reported_checks(runs: Runs, reported: pd.DataFrame) -> dict[tuple[str, str, int], str]:
    """(paper model, metric, num_frames) → "in [lo, hi]" or "out [lo, hi]": whether the
    paper's value lies inside the interval of a run of the same method
    (:func:`~tgibench.leaderboard.reported.reported_method`) at that length."""
    methods = list(dict.fromkeys(reported["model"]))
    matched = {model: reported_method(model, methods) for model in run_models(runs).values()}
    if not any(matched.values()):
        return {}
    checks = {}
    for length, summary in summaries(runs, "length").items():
        for k, model in enumerate(summary.models):
            method = matched.get(model)
            rows = reported[(reported["model"] == method) & (reported["num_frames"] == length)]
            for row in rows.itertuples():
                if row.metric not in summary.metrics:
                    continue
                j = summary.metrics.index(row.metric)
                lo, hi = summary.lo[k, j], summary.hi[k, j]
                if math.isnan(lo):
                    continue
                inside = "in" if lo <= row.value <= hi else "out"
                checks[(str(method), str(row.metric), int(row.num_frames))] = (
                    f"{inside} {model} {format_interval(lo, hi)}"
                )
    return checks


def reported_tables(reported: pd.DataFrame, runs: Runs | None = None) -> list[Table]:
    """One table per source of the reported numbers (paper Table 1, Table 2, ...), cells
    exactly as the paper printed them, unmarked (the paper gives no per-case values to
    test a difference with). Given ``runs``, a cell whose method has a run here says
    whether the paper's value lies inside that run's interval (:func:`reported_checks`)."""
    checks = reported_checks(runs, reported) if runs is not None else {}
    tables = []
    for source, rows in reported.groupby("source", sort=False):
        columns = list(dict.fromkeys(zip(rows["paper_metric"], rows["num_frames"], strict=True)))
        text = rows.set_index(["model", "paper_metric", "num_frames"])["text"]
        higher = rows.groupby(["paper_metric", "num_frames"])["direction"].first() == "higher"
        ours = dict(zip(rows["paper_metric"], rows["metric"], strict=True))
        out = Table(
            f"Reported: {source} (copied from the paper, not measured here)",
            labels=["model"],
            columns=[f"{name} {arrow(bool(higher[(name, n)]))} ({n} fr.)" for name, n in columns],
        )
        for model in dict.fromkeys(rows["model"]):
            out.rows.append(
                Row(
                    [model],
                    [text.get((model, *c), MISSING) for c in columns],
                    [False] * len(columns),
                    [checks.get((model, ours[name], n), "") for name, n in columns],
                )
            )
        out.notes.append(
            "Our metric names: " + ", ".join(f"{p} = {m}" for p, m in ours.items()) + "."
        )
        out.notes.append(
            "No best marks: the paper gives neither intervals nor per-case values, so whether "
            "a difference is more than noise cannot be told."
        )
        if any(out_row.intervals and any(out_row.intervals) for out_row in out.rows):
            out.notes.append(
                f"in/out [lo, hi]: the paper's value lies inside/outside the {stats.LEVEL:.0%} "
                "interval of our run of the same method at that length; on other data (the "
                "mini-bench) the values need not agree."
            )
        tables.append(out)
    return tables


def leaderboard_tables(runs: Runs, reported: pd.DataFrame | None = None) -> list[Table]:
    """Every table of a leaderboard: overall, coverage, pillar ranks (overall and per
    challenge), per challenge, per length, and (given ``reported``) the paper's numbers,
    apart from the measured ones. What is not measured is noted once, under the overall
    table."""
    tables = [
        metric_table(runs, "overall", "Overall"),
        coverage_table(runs),
        rank_table(runs),
        rank_table(runs, "challenge"),
        metric_table(runs, "challenge", "Per challenge", notes=False),
        metric_table(runs, "length", "Per length (frames)", notes=False),
    ]
    return tables + (reported_tables(reported, runs) if reported is not None else [])
