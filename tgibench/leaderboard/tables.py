"""Aggregate tables (overall, per challenge, per length), pillar ranks and reported numbers.

:func:`aggregate` and :func:`pillar_ranks` return DataFrames for scripting; the
``*_table`` builders turn them into :class:`Table` objects (formatted cells, best values
marked, footnotes) that :mod:`tgibench.leaderboard.formats` renders as md, LaTeX or HTML.

Tables show only the metrics that have a value for some model (:func:`measured_metrics`);
the others are named once, with the reason, in a note. Models run with random weights
(a ``preset=tiny`` spec: :func:`is_smoke_test`) are labelled as smoke tests, not ranked
and never marked best: their numbers check that the pipeline runs, nothing more.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field

import pandas as pd

from tgibench.leaderboard.runs import Runs, run_label
from tgibench.spec import SpecError, parse_spec

GROUPINGS = {"overall": [], "challenge": ["challenge"], "length": ["num_frames"]}
#: Shown for a value that does not exist (metric unavailable, or no scored case).
MISSING = "—"
#: Added to the label of a model run with random weights.
SMOKE_LABEL = "(smoke test: random weights)"
SMOKE_NOTE = (
    f"{SMOKE_LABEL}: a tiny random-init preset (preset=tiny) that checks the pipeline runs; "
    "its numbers are not results, and it is neither ranked nor marked best."
)
#: Where the docs say how to provide missing weights.
WEIGHTS_DOC = "`tgibench docs weights`"


def is_smoke_test(spec: str) -> bool:
    """Whether a model spec runs random weights (its ``preset`` option is ``tiny``)."""
    try:
        _, options = parse_spec(spec)
    except SpecError:
        return False
    return str(options.get("preset", "")).lower() == "tiny"


def smoke_tests(runs: Runs) -> set[str]:
    """The models of ``runs`` (as in the ``model`` column: run labels) that are smoke
    tests, judged by each run's model spec."""
    labels = {str(m) for m in runs.cases["model"].dropna() if is_smoke_test(str(m))}
    return labels | {
        run_label(record)
        for record in runs.records.values()
        if is_smoke_test(str(record.get("model", "")))
    }


def model_label(model: str, smoke: set[str]) -> str:
    """The model spec, with SMOKE_LABEL when it is a smoke test."""
    return f"{model} {SMOKE_LABEL}" if model in smoke else model


def measured_metrics(runs: Runs, pillar: str | None = None) -> list[str]:
    """The metrics (of ``pillar``, or all) that have a value for some case or run."""
    run_level = set(runs.run_values["metric"])
    return [
        name
        for name, info in runs.metrics.items()
        if (pillar is None or info["pillar"] == pillar)
        and (runs.cases[name].notna().any() or name in run_level)
    ]


def pillars(runs: Runs, measured: bool = False) -> list[str]:
    """The pillars in the order the runs list their metrics (only those with a measured
    metric when ``measured``)."""
    names = measured_metrics(runs) if measured else list(runs.metrics)
    return list(dict.fromkeys(runs.metrics[name]["pillar"] for name in names))


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


def _model_of(key: Hashable) -> str:
    """The model of an aggregate's index label (a model, or a (group, model) tuple)."""
    return str(key[-1]) if isinstance(key, tuple) else str(key)


def pillar_ranks(runs: Runs, by: str = "overall") -> pd.DataFrame:
    """Mean rank of each model over the metrics of each pillar (1 = best on all of them).

    Ranks are taken per metric over the models of :func:`aggregate` ``(runs, by)``, within
    each group when ``by`` is "challenge" or "length" (ties share the best rank; a model
    without a value is not ranked on that metric). Smoke tests (:func:`is_smoke_test`) are
    not ranked (NaN) and do not count. Index: as the aggregate's; columns: every pillar,
    in the order the runs list their metrics (NaN where no metric of it was measured).
    """
    table = aggregate(runs, by)
    smoke = smoke_tests(runs)
    ranked = table[[_model_of(key) not in smoke for key in table.index]]
    ranks = {}
    for pillar in pillars(runs):
        per_metric = []
        for name, info in runs.metrics.items():
            if info["pillar"] != pillar:
                continue
            values = ranked.groupby(level=0)[name] if by != "overall" else ranked[name]
            per_metric.append(values.rank(ascending=not info["higher_is_better"], method="min"))
        ranks[pillar] = pd.concat(per_metric, axis=1).mean(axis=1).reindex(table.index)
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


def best_of(column: pd.Series, higher_is_better: bool, smoke: set[str]) -> set[Hashable]:
    """Index labels holding the best value of ``column`` among the models that are not
    smoke tests (none if fewer than two such values)."""
    values = column[[_model_of(key) not in smoke for key in column.index]].dropna()
    if len(values) < 2:  # nothing to compare against
        return set()
    best = values.max() if higher_is_better else values.min()
    return set(values[values == best].index)


def _labels(key: Hashable, smoke: set[str]) -> list[str]:
    """Row labels of an aggregate's index label, the model's last (smoke tests marked)."""
    parts = [str(x) for x in key] if isinstance(key, tuple) else [str(key)]
    return [*parts[:-1], model_label(parts[-1], smoke)]


def _first_sentence(reason: str) -> str:
    return reason.split(". ", 1)[0].rstrip(".")


def unavailable_notes(runs: Runs, brief: bool = False) -> list[str]:
    """Notes on what is missing: one for the metrics no model has a value of ("not
    measured: a, b (<reason>); c (<reason>)"), and one per distinct reason for measured
    metrics that some runs could not compute ("a, b: unavailable: <reason>").

    Only the first sentence of a reason is kept (it names what is missing), or with
    ``brief`` the words before its first colon ("weights unavailable"); the full reason
    (how to provide the weights) stays in ``runs.unavailable`` and the HTML report.
    """
    measured = set(measured_metrics(runs))
    absent: dict[str, list[str]] = {}
    partial: dict[str, list[str]] = {}
    for name in runs.metrics:
        if name in measured and name not in runs.unavailable:
            continue
        reason = _first_sentence(runs.unavailable.get(name, "no value in any run"))
        reason = reason.split(":", 1)[0] if brief else reason
        (partial if name in measured else absent).setdefault(reason, []).append(name)
    notes = []
    if absent:
        listed = "; ".join(f"{', '.join(names)} ({reason})" for reason, names in absent.items())
        weights = any("weights" in reason for reason in absent)
        notes.append(f"not measured: {listed}" + (f"; see {WEIGHTS_DOC}" if weights else "") + ".")
    notes += [f"{', '.join(names)}: unavailable: {reason}" for reason, names in partial.items()]
    return notes


#: Metrics that a video which does not move wins, and the one to read them with.
STILL_FAVOURED = ("lpips_frames", "clipsim_frames", "warping_error", "flicker")
MOTION_COLUMN = "motion_reach"


def version_notes(runs: Runs) -> list[str]:
    """A warning per metric whose runs used different versions (``--allow-mixed``)."""
    return [
        f"{name}: runs scored with versions {', '.join(map(str, info['mixed_versions']))} "
        "(--allow-mixed): its values are not comparable across those runs"
        for name, info in runs.metrics.items()
        if info.get("mixed_versions")
    ]


def motion_note(runs: Runs) -> list[str]:
    """How to read the frame-consistency columns next to ``motion_reach`` (when both are
    measured): a still video is perfectly "consistent"."""
    measured = [m for m in STILL_FAVOURED if m in runs.metrics and runs.cases[m].notna().any()]
    if not measured or MOTION_COLUMN not in runs.metrics or runs.cases[MOTION_COLUMN].isna().all():
        return []
    return [
        f"{', '.join(measured)} reward a video that does not move (a still video scores "
        f"best); read them with {MOTION_COLUMN}, the share of the ground truth's motion a "
        "video performs (0 for a still video, low for a crossfade): good consistency counts only "
        "with a motion_reach near the ground truth's 1."
    ]


def _smoke_notes(rows: list[Row]) -> list[str]:
    """SMOKE_NOTE if a row is a smoke test."""
    return [SMOKE_NOTE] if any(row.labels[-1].endswith(SMOKE_LABEL) for row in rows) else []


def metric_table(runs: Runs, by: str, title: str, *, notes: bool = True) -> Table:
    """The aggregate of ``by`` as a Table over the measured metrics: best value per
    column (per group) marked. ``notes``: add what is missing (the first table's job)."""
    table = aggregate(runs, by)
    metrics = measured_metrics(runs)
    smoke = smoke_tests(runs)
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
            m: best_of(table.loc[members, m], runs.metrics[m]["higher_is_better"], smoke)
            for m in metrics
        }
        for key in members:
            row = table.loc[key]
            out.rows.append(
                Row(
                    _labels(key, smoke),
                    [str(int(row["cases"])), str(int(row["failed"]))]
                    + [format_value(row[m]) for m in metrics],
                    [False, False] + [key in best[m] for m in metrics],
                )
            )
    out.notes = (
        [*version_notes(runs), *unavailable_notes(runs), *motion_note(runs)] if notes else []
    )
    if by != "overall":
        out.notes.append("Best value per column within each group in bold.")
    out.notes += _smoke_notes(out.rows)
    return out


def rank_table(runs: Runs, by: str = "overall") -> Table:
    """Mean rank per pillar (lower is better) over the models (within each challenge or
    length for ``by``), the best per pillar marked; pillars without a measured metric
    are left out."""
    ranks = pillar_ranks(runs, by)
    measured = pillars(runs, measured=True)
    smoke = smoke_tests(runs)
    title = "Rank per pillar" + ("" if by == "overall" else f", per {by}")
    out = Table(
        title, labels=list(map(str, ranks.index.names)), columns=[f"{p} ↓" for p in measured]
    )
    groups = ranks.groupby(level=0, sort=False).groups if by != "overall" else {None: ranks.index}
    for members in groups.values():
        best = {p: best_of(ranks.loc[members, p], False, smoke) for p in measured}
        for key in members:
            row = ranks.loc[key]
            out.rows.append(
                Row(
                    _labels(key, smoke),
                    [MISSING if math.isnan(row[p]) else f"{row[p]:.2f}" for p in measured],
                    [key in best[p] for p in measured],
                )
            )
    for pillar in measured:
        names = measured_metrics(runs, pillar)
        out.notes.append(f"{pillar}: mean rank over {', '.join(names)}")
    if by != "overall":
        out.notes.append(f"Ranks among the models within each {by}.")
    out.notes += _smoke_notes(out.rows)
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
        best = {c: best_of(wide[c], bool(higher[c]), set()) for c in columns}
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
    """Every table of a leaderboard: overall, pillar ranks (overall and per challenge),
    per challenge, per length, and (given ``reported``) the paper's numbers, apart from
    the measured ones. What is not measured is noted once, under the overall table."""
    tables = [
        metric_table(runs, "overall", "Overall"),
        rank_table(runs),
        rank_table(runs, "challenge"),
        metric_table(runs, "challenge", "Per challenge", notes=False),
        metric_table(runs, "length", "Per length (frames)", notes=False),
    ]
    return tables + (reported_tables(reported) if reported is not None else [])
