"""The metrics table of docs/metrics.md, generated from the registry (the only place a
metric's name, pillar, direction, range, inputs, weights, version and summary are written).

    tgibench metrics --markdown     # prints it; a test checks docs/metrics.md holds it
"""

from __future__ import annotations

import math

from tgibench.metrics.registry import MetricDef

#: The lines around the generated table in docs/metrics.md.
BEGIN, END = (
    "<!-- metrics-table: begin (tgibench metrics --markdown) -->",
    "<!-- metrics-table: end -->",
)


def _range(metric: MetricDef) -> str:
    low, high = (f"{v:g}" if math.isfinite(v) else "∞" for v in metric.value_range)
    return f"[{low}, {high}{']' if high != '∞' else ')'}"


def markdown_table(metrics: list[MetricDef]) -> str:
    """One markdown row per metric: name (opt-in marked), pillar, direction, range, inputs,
    backbones, version and the one-line summary; between the docs' markers."""
    lines = [
        BEGIN,
        "| metric | pillar | better | range | inputs | weights (backbones) | version | summary |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in metrics:
        name = f"`{m.name}`" + ("" if m.default else " (opt-in)")
        if m.run_level:
            name += " (run-level)"
        arrow = "↑" if m.higher_is_better else "↓"
        needs = ", ".join(m.needs) or "–"
        weights = ", ".join(f"`{b}`" for b in m.backbones) or "none"
        lines.append(
            f"| {name} | {m.pillar} | {arrow} | {_range(m)} | {needs} | {weights} | "
            f"{m.version} | {m.summary} |"
        )
    lines.append(END)
    return "\n".join(lines) + "\n"
