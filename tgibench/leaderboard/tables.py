"""What every table shares: the :class:`Table` and :class:`Row` that formats render, how
values, intervals and labels are written, which metrics and pillars are measured, which
models are smoke tests, and the notes on what is missing.

:mod:`tgibench.leaderboard.summary` computes the numbers (DataFrames for scripting),
:mod:`tgibench.leaderboard.board` builds the tables from them, and
:mod:`tgibench.leaderboard.formats` renders the tables as md, LaTeX or HTML.

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
from tgibench.weights import WEIGHTS_DOCS

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
WEIGHTS_DOC = f"`{WEIGHTS_DOCS}`"


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


def _model_of(key: Hashable) -> str:
    """The model of an aggregate's index label (a model, or a (group, model) tuple)."""
    return str(key[-1]) if isinstance(key, tuple) else str(key)


@dataclass
class Row:
    """One table row: its labels (model, group) and formatted cells, the top group's
    flagged (``best``). ``intervals``: per cell, its interval ("[lo, hi]", a seed spread,
    a check) shown after it, "" for none; empty for a row without intervals."""

    labels: list[str]
    cells: list[str]
    best: list[bool]
    intervals: list[str] = field(default_factory=list)


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


def format_interval(lo: float, hi: float, spread: float = math.nan) -> str:
    """ "[lo, hi]" (as :func:`format_value`), then " s±spread" for a seed spread; "" when
    there is no interval."""
    text = "" if math.isnan(lo) else f"[{format_value(lo)}, {format_value(hi)}]"
    return text + ("" if math.isnan(spread) else f" s±{format_value(spread)}")


def format_rank_interval(lo: float, hi: float, between: str = ", ") -> str:
    """ "[lo, hi]" of a mean rank, each with up to two decimals and no trailing zeros
    ("[1, 2.33]"); ``between`` joins them; "" when there is no interval."""
    if math.isnan(lo):
        return ""
    lo_text, hi_text = (f"{v:.2f}".rstrip("0").rstrip(".") for v in (lo, hi))
    return f"[{lo_text}{between}{hi_text}]"


def best_of(column: pd.Series, higher_is_better: bool, smoke: set[str]) -> set[Hashable]:
    """Index labels holding the best value of ``column`` among the models that are not
    smoke tests (none if fewer than two such values)."""
    values = column[[_model_of(key) not in smoke for key in column.index]].dropna()
    if len(values) < 2:  # nothing to compare against
        return set()
    best = values.max() if higher_is_better else values.min()
    return set(values[values == best].index)


def labels_of(key: Hashable, smoke: set[str]) -> list[str]:
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


def smoke_notes(rows: list[Row]) -> list[str]:
    """SMOKE_NOTE if a row is a smoke test."""
    return [SMOKE_NOTE] if any(row.labels[-1].endswith(SMOKE_LABEL) for row in rows) else []
