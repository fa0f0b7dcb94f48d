"""Rendering :class:`~tgibench.leaderboard.tables.Table` objects: markdown, LaTeX, HTML, CSV.

Every format shows the same tables; the best value of a column is bold (``**x**``,
``\\textbf{x}``, ``<strong>``). CSV is the numbers in long form for scripts instead.
"""

from __future__ import annotations

import html

import pandas as pd

from tgibench.leaderboard.runs import Runs
from tgibench.leaderboard.tables import GROUPINGS, Table, aggregate, leaderboard_tables

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


def table_markdown(table: Table) -> str:
    """One table in GitHub markdown, with its title as a heading and notes as a list."""
    header = [*table.labels, *table.columns]
    lines = [f"### {table.title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table.rows:
        cells = [f"**{c}**" if b else c for c, b in zip(row.cells, row.best, strict=True)]
        lines.append("| " + " | ".join(row.labels + cells) + " |")
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
        cells = [
            rf"\textbf{{{latex_escape(c)}}}" if b else latex_escape(c)
            for c, b in zip(row.cells, row.best, strict=True)
        ]
        lines.append(" & ".join([latex_escape(x) for x in row.labels] + cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    lines += [rf"\par\footnotesize {latex_escape(note)}" for note in table.notes]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def table_html(table: Table) -> str:
    """One table as an HTML fragment: caption, header, rows, notes (all text escaped)."""
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in (*table.labels, *table.columns))
    body = []
    for row in table.rows:
        labels = "".join(f'<th scope="row">{esc(x)}</th>' for x in row.labels)
        cells = "".join(
            f'<td class="best"><strong>{esc(c)}</strong></td>' if b else f"<td>{esc(c)}</td>"
            for c, b in zip(row.cells, row.best, strict=True)
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
    "cases",
    "failed",
)


def leaderboard_csv(runs: Runs, reported: pd.DataFrame | None = None) -> str:
    """The numbers in long form, one row per (origin, grouping, group, model, metric).

    ``origin`` is "measured" (aggregated from the runs; ``cases`` scored, ``failed``
    excluded) or "reported" (copied from the paper; ``source`` says where, grouping
    "length"), so that the two can never be confused.
    """
    frames = []
    for by in GROUPINGS:
        table = aggregate(runs, by).reset_index()
        group = table[GROUPINGS[by][0]] if GROUPINGS[by] else "all"
        long = table.assign(grouping=by, group=group).melt(
            id_vars=["grouping", "group", "model", "cases", "failed"],
            value_vars=list(runs.metrics),
            var_name="metric",
        )
        frames.append(long.assign(origin="measured", source="runs", paper_metric=""))
    if reported is not None:
        frames.append(
            reported.assign(grouping="length", group=reported["num_frames"], cases="", failed="")
        )
    return pd.concat(frames, ignore_index=True)[list(CSV_COLUMNS)].to_csv(
        index=False, float_format="%.10g"
    )
