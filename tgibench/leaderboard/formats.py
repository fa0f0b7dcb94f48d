"""Rendering :class:`~tgibench.leaderboard.tables.Table` objects: markdown, LaTeX, HTML, CSV,
and the compact terminal table.

Every file format shows the same tables: each mean with its interval after it, the top
group of a column bold (``**x**``, ``\\textbf{x}``, ``<strong>``). CSV is the numbers in long
form for scripts instead, with the interval's bounds.
:func:`leaderboard_terminal` is the at-a-glance view ``tgibench leaderboard`` prints:
one row per model, pillar ranks and the measured metrics grouped by pillar.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from tgibench.leaderboard import stats
from tgibench.leaderboard.board import (
    coverage_note,
    leaderboard_tables,
    repeat_notes,
    run_level_notes,
)
from tgibench.leaderboard.confidence import GroupSummary
from tgibench.leaderboard.runs import Runs
from tgibench.leaderboard.summary import aggregate, failed_cases, summaries
from tgibench.leaderboard.tables import (
    GROUPINGS,
    MISSING,
    SMOKE_LABEL,
    Row,
    Table,
    arrow,
    format_rank_interval,
    measured_metrics,
    motion_note,
    pillars,
    smoke_tests,
    unavailable_notes,
    version_notes,
)

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "↑": r"$\uparrow$",
    "↓": r"$\downarrow$",
    "—": "---",
}


def _with_intervals(row: Row, bold: str, interval: str) -> list[str]:
    """A row's cells, the top group's wrapped by ``bold`` ("**{}**"), each followed by its
    interval wrapped by ``interval`` (" {}"); both patterns take the escaped text."""
    intervals = row.intervals or [""] * len(row.cells)
    return [
        (bold.format(cell) if best else cell) + (interval.format(extra) if extra else "")
        for cell, best, extra in zip(row.cells, row.best, intervals, strict=True)
    ]


def table_markdown(table: Table) -> str:
    """One table in GitHub markdown, with its title as a heading and notes as a list."""
    header = [*table.labels, *table.columns]
    lines = [f"### {table.title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table.rows:
        lines.append("| " + " | ".join(row.labels + _with_intervals(row, "**{}**", " {}")) + " |")
    if table.notes:
        lines += ["", *(f"- {note}" for note in table.notes)]
    return "\n".join(lines) + "\n"


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters (and the arrows and dash) escaped."""
    return "".join(_LATEX_SPECIAL.get(char, char) for char in text)


def table_latex(table: Table) -> str:
    """One table as a booktabs ``table`` environment (needs ``\\usepackage{booktabs}``)."""
    spec = "l" * len(table.labels) + "r" * len(table.columns)
    header = [latex_escape(h) for h in (*table.labels, *table.columns)]
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{latex_escape(table.title)}}}",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(header) + r" \\",
        r"\midrule",
    ]
    for row in table.rows:
        escaped = Row(
            row.labels,
            [latex_escape(c) for c in row.cells],
            row.best,
            [latex_escape(c) for c in row.intervals],
        )
        cells = _with_intervals(escaped, r"\textbf{{{}}}", r" {{\scriptsize {}}}")
        lines.append(" & ".join([latex_escape(x) for x in row.labels] + cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    lines += [rf"\par\footnotesize {latex_escape(note)}" for note in table.notes]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def table_html(table: Table, links: Mapping[str, str] | None = None) -> str:
    """One table as an HTML fragment: caption, header, rows, notes (all text escaped).

    ``links``: row label → URL; a row's first label cell links there (e.g. a challenge to
    its cases in the report).
    """
    esc = html.escape
    links = links or {}
    head = "".join(f"<th>{esc(h)}</th>" for h in (*table.labels, *table.columns))
    body = []
    for row in table.rows:
        labels = "".join(
            f'<th scope="row"><a href="{esc(links[x])}">{esc(x)}</a></th>'
            if i == 0 and x in links
            else f'<th scope="row">{esc(x)}</th>'
            for i, x in enumerate(row.labels)
        )
        escaped = Row(
            row.labels, list(map(esc, row.cells)), row.best, list(map(esc, row.intervals))
        )
        texts = _with_intervals(escaped, "<strong>{}</strong>", " <small>{}</small>")
        cells = "".join(
            f'<td class="best">{text}</td>' if best else f"<td>{text}</td>"
            for text, best in zip(texts, row.best, strict=True)
        )
        body.append(f"<tr>{labels}{cells}</tr>")
    notes = "".join(f"<li>{esc(note)}</li>" for note in table.notes)
    return (
        f"<table><caption>{esc(table.title)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
        + (f'<ul class="notes">{notes}</ul>' if notes else "")
    )


def leaderboard_markdown(runs: Runs, reported: pd.DataFrame | None = None) -> str:
    """Every leaderboard table in markdown (see :func:`leaderboard_tables`)."""
    return "\n".join(table_markdown(t) for t in leaderboard_tables(runs, reported))


def leaderboard_latex(runs: Runs, reported: pd.DataFrame | None = None) -> str:
    """Every leaderboard table as LaTeX (booktabs)."""
    return "\n".join(table_latex(t) for t in leaderboard_tables(runs, reported))


#: Columns of the long CSV.
CSV_COLUMNS = (
    "origin",
    "source",
    "grouping",
    "group",
    "model",
    "metric",
    "paper_metric",
    "value",
    "value_lo",
    "value_hi",
    "seed_sd",
    "cases",
    "failed",
    "runs",
    "resamples",
    "seed",
)


def leaderboard_csv(runs: Runs, reported: pd.DataFrame | None = None) -> str:
    """The numbers in long form, one row per (origin, grouping, group, model, metric).

    ``origin`` is "measured" (aggregated from the runs) or "reported" (copied from the
    paper; ``source`` says where, grouping "length"), so that the two can never be
    confused. A measured row has its ``value`` (the mean over the ``cases`` every model
    scored), its interval ``value_lo``, ``value_hi`` (empty for run-level metrics),
    ``seed_sd`` over the model's ``runs`` (empty for one run), ``failed`` cases, and the
    bootstrap's ``resamples`` and ``seed``. Measured rows of a smoke test (random weights,
    not results) have the source "runs (smoke test: random weights)". Metrics no run
    measured are left out.
    """
    smoke = smoke_tests(runs)
    frames = []
    for by in GROUPINGS:
        table = aggregate(runs, by).reset_index()
        table = table.assign(grouping=by, group=table[GROUPINGS[by][0]] if GROUPINGS[by] else "all")
        source = table["model"].map(lambda m: f"runs {SMOKE_LABEL}" if m in smoke else "runs")
        keys = table[["grouping", "group", "model", "cases", "failed", "runs"]]
        for name in measured_metrics(runs):
            frames.append(
                keys.assign(
                    origin="measured",
                    source=source,
                    metric=name,
                    paper_metric="",
                    value=table[name],
                    value_lo=table[f"{name}_lo"],
                    value_hi=table[f"{name}_hi"],
                    seed_sd=table[f"{name}_seed_sd"],
                    resamples=stats.RESAMPLES,
                    seed=stats.SEED,
                )
            )
    if reported is not None:
        frames.append(reported.assign(grouping="length", group=reported["num_frames"]))
    return (
        pd.concat(frames, ignore_index=True)
        .reindex(columns=list(CSV_COLUMNS))
        .to_csv(index=False, float_format="%.10g")
    )


#: Width the terminal table keeps to, in characters (wider tables wrap into blocks).
TERMINAL_WIDTH = 120
#: Significant digits of the terminal table's numbers (per column: the largest value).
SIGNIFICANT = 3
_BOLD, _PLAIN = "\033[1m", "\033[0m"


def column_decimals(
    values: list[float], significant: int = SIGNIFICANT, among: list[bool] | None = None
) -> int:
    """Decimals that give the largest magnitude of ``values`` ``significant`` digits
    (0.0123 → 4, 0.59 → 3, 20.4 → 1, 123 → 0; 3 when every value is 0 or missing).

    ``among``: which values set the precision (e.g. not the smoke tests' far-off values),
    when any of them has one; all by default.
    """
    chosen = [v for v, keep in zip(values, among or [], strict=False) if keep and not math.isnan(v)]
    finite = [abs(v) for v in (chosen or values) if not math.isnan(v)]
    largest = max(finite, default=0.0)
    if largest == 0:
        return significant
    return max(0, significant - 1 - math.floor(math.log10(largest)))


@dataclass
class _Column:
    """A terminal column: header lines, cells, which cells are best, alignment."""

    header: list[str]
    cells: list[str]
    best: list[bool]
    left: bool = False

    @property
    def width(self) -> int:
        return max(len(text) for text in (*self.header, *self.cells))

    def fit(self, text: str) -> str:
        return text.ljust(self.width) if self.left else text.rjust(self.width)


def _header(name: str, mark: str, room: int) -> list[str]:
    """``name`` split at underscores into lines of at most ``room`` characters (or its
    longest word), ``mark`` (the arrow) after the last word."""
    words = name.split("_")
    words[-1] += mark
    room = max(room, *map(len, words))
    lines = [words[0]]
    for word in words[1:]:
        if len(lines[-1]) + 1 + len(word) <= room:
            lines[-1] += "_" + word
        else:
            lines.append(word)
    return lines


def _numbers(
    name: str,
    mark: str,
    summary: GroupSummary,
    order: list[int],
    among: list[bool],
) -> _Column:
    """A metric's column: each mean "±" half its interval's width (and " s±" its seed
    spread), to the column's SIGNIFICANT digits; the top group flagged."""
    j = summary.metrics.index(name)
    values = [float(v) for v in summary.mean[order, j]]
    decimals = column_decimals(values, among=among)
    cells = []
    for k in order:
        mean, lo, hi, spread = (
            float(a[k, j]) for a in (summary.mean, summary.lo, summary.hi, summary.spread)
        )
        text = MISSING if math.isnan(mean) else f"{mean:.{decimals}f}"
        text += "" if math.isnan(lo) else f" ±{(hi - lo) / 2:.{decimals}f}"
        text += "" if math.isnan(spread) else f" s±{spread:.{decimals}f}"
        cells.append(text)
    width = max(map(len, cells))
    return _Column(_header(name, mark, width), cells, [bool(summary.top[k, j]) for k in order])


def _ranks(summary: GroupSummary, pillar: str, order: list[int]) -> _Column:
    """A pillar's rank column: each mean rank and its interval ("1.33 [1-2]")."""
    j = summary.pillars.index(pillar)
    cells = [
        MISSING
        if math.isnan(summary.rank[k, j])
        else f"{summary.rank[k, j]:.2f} "
        + format_rank_interval(summary.rank_lo[k, j], summary.rank_hi[k, j], "-")
        for k in order
    ]
    return _Column(["rank↓"], cells, [bool(summary.rank_top[k, j]) for k in order])


_GAP, _GROUP_GAP = "  ", "   "


def _block_width(groups: list[tuple[str, list[_Column]]]) -> int:
    """Characters a block of column groups takes."""
    inside = [sum(c.width for c in cols) + len(_GAP) * (len(cols) - 1) for _, cols in groups]
    return sum(inside) + len(_GROUP_GAP) * (len(groups) - 1)


def _split_wide(
    groups: list[tuple[str, list[_Column]]], fixed: list[_Column], width: int
) -> list[tuple[str, list[_Column]]]:
    """``groups`` with each pillar that does not fit next to the ``fixed`` columns in
    ``width`` split into parts that do, the later ones titled "<pillar> (continued)"."""
    parts: list[tuple[str, list[_Column]]] = []
    for title, columns in groups:
        part: list[_Column] = []
        for column in columns:
            if part and _block_width([("", fixed), (title, [*part, column])]) > width:
                parts.append((title, part))
                title, part = f"{title.removesuffix(' (continued)')} (continued)", []
            part.append(column)
        parts.append((title, part))
    return parts


def _render_block(groups: list[tuple[str, list[_Column]]], color: bool) -> list[str]:
    """Lines of one block: a pillar line, the header lines, a rule, the rows."""
    gap, group_gap = _GAP, _GROUP_GAP
    spans = [
        (title, gap.join(" " * c.width for c in columns), columns) for title, columns in groups
    ]
    lines = [group_gap.join(title.ljust(len(blank)) for title, blank, _ in spans).rstrip()]
    depth = max(len(c.header) for _, cols in groups for c in cols)
    for level in range(depth):
        lines.append(
            group_gap.join(
                gap.join(c.fit(c.header[level] if level < len(c.header) else "") for c in cols)
                for _, _, cols in spans
            ).rstrip()
        )
    lines.append(group_gap.join("─" * len(blank) for _, blank, _ in spans))
    for index in range(len(groups[0][1][0].cells)):
        parts = []
        for _, _, cols in spans:
            cells = []
            for c in cols:
                text = c.fit(c.cells[index])
                cells.append(f"{_BOLD}{text}{_PLAIN}" if color and c.best[index] else text)
            parts.append(gap.join(cells))
        lines.append(group_gap.join(parts).rstrip())
    return lines


def leaderboard_terminal(runs: Runs, width: int = TERMINAL_WIDTH, color: bool = False) -> str:
    """The leaderboard at a glance: one row per model (smoke tests last); per pillar with
    a measured metric, the mean rank (``rank``, 1 = best) with its interval, and each
    measured metric's mean ± half its interval, numbers to SIGNIFICANT digits per column
    (set by the models that are not smoke tests). Columns wider than ``width`` in all wrap
    into blocks of whole pillars (a pillar too wide for one block continues in the next).
    ``color``: each column's top group in bold (ANSI), for a terminal.
    """
    smoke = smoke_tests(runs)
    summary = summaries(runs)["all"]
    order = sorted(
        range(len(summary.models)), key=lambda k: (summary.models[k] in smoke, summary.models[k])
    )
    models = [summary.models[k] for k in order]
    real = [m not in smoke for m in models]
    labels = [f"{m} (smoke test)" if m in smoke else m for m in models]
    fixed = [_Column(["model"], labels, [False] * len(models), left=True)]
    failed = failed_cases(runs, "overall")
    if failed.any():
        fixed.append(
            _Column(["failed"], [str(int(failed.get(m, 0))) for m in models], [False] * len(models))
        )
    groups: list[tuple[str, list[_Column]]] = []
    for pillar in pillars(runs, measured=True):
        columns = [_ranks(summary, pillar, order)]
        for name in measured_metrics(runs, pillar):
            higher = runs.metrics[name]["higher_is_better"]
            columns.append(_numbers(name, arrow(higher), summary, order, real))
        groups.append((pillar, columns))
    lines: list[str] = []
    block: list[tuple[str, list[_Column]]] = []
    for group in _split_wide(groups, fixed, width):
        trial = [("", fixed), *block, group]
        if block and _block_width(trial) > width:
            lines += [*_render_block([("", fixed), *block], color), ""]
            block = []
        block.append(group)
    lines += _render_block([("", fixed), *block], color)
    dropped = coverage_note(runs)
    notes = [
        "rank↓: mean rank among the models over the pillar's metrics (1 = best) [its "
        f"{stats.LEVEL:.0%} interval]; ↑/↓: higher/lower is better; means over the "
        f"{summary.cases} cases every model scored"
        + (", failed cases excluded" if failed.any() else "")
        + f", ± half the width of their {stats.LEVEL:.0%} interval (bootstrap over cases, "
        f"{stats.RESAMPLES} resamples, seed {stats.SEED})"
        + (
            "; bold: the top group (the best, or not significantly different from it)"
            if color
            else ""
        )
        + ".",
        *([dropped] if dropped else []),
        *version_notes(runs),
        *unavailable_notes(runs, brief=True),
        *run_level_notes(runs),
        *repeat_notes(runs),
        *motion_note(runs),
    ]
    if smoke & set(models):
        notes.append(
            "(smoke test): random weights (preset=tiny); checks the pipeline runs, not a "
            "result; not ranked, never best."
        )
    notes.append("All tables (per challenge, per length, reasons): add --full, or --out FILE.")
    lines.append("")
    for note in notes:
        lines += textwrap.wrap(note, width, subsequent_indent="  ")
    return "\n".join(lines) + "\n"
