"""``tgibench compare``: two runs (or two sets of seed repeats) compared case by case."""

from __future__ import annotations

import json
import math
import sys
import textwrap
from typing import TYPE_CHECKING, Annotated

import typer

from tgibench.cli.app import AllowMixed, app, fail, split_values

if TYPE_CHECKING:
    import pandas as pd

COMPARE_FORMATS = ("table", "json")


def _number(value: float) -> str:
    """Four significant digits; "—" for NaN."""
    return "—" if math.isnan(value) else f"{value:.4g}"


def _text(table: pd.DataFrame) -> str:
    """The comparison as an aligned text table with what it is over."""
    attrs = table.attrs
    header = [*([] if "group" not in table else ["group"]), "metric", "n", "mean_a", "mean_b"]
    header += ["diff", "diff 95% interval", "p", "verdict"]
    rows = [
        [
            *([] if "group" not in table else [str(row.group)]),
            str(row.metric),
            str(row.n),
            _number(row.mean_a),
            _number(row.mean_b),
            _number(row.diff),
            "—" if math.isnan(row.diff_lo) else f"[{_number(row.diff_lo)}, {_number(row.diff_hi)}]",
            f"{row.p:.2g}",
            str(row.verdict),
        ]
        for row in table.itertuples()
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    left = {"group", "metric", "verdict"}
    lines = [
        "  ".join(
            cell.ljust(width) if name in left else cell.rjust(width)
            for name, cell, width in zip(header, cells, widths, strict=True)
        ).rstrip()
        for cells in [header, *rows]
    ]
    sides = [
        f"{side}: {attrs[f'model_{side}']} ({', '.join(attrs[f'runs_{side}'])})" for side in "ab"
    ]
    note = (
        f"{_cases_note(attrs)} diff = a - b; its 95% interval: expanded percentile bootstrap "
        f"over the cases; p: paired sign-flip test ({attrs['resamples']} resamples, seed "
        f"{attrs['seed']}); verdict: the better side when p < 0.05, else tied."
    )
    return "\n".join([*sides, *lines, *textwrap.wrap(note, 100, subsequent_indent="  ")]) + "\n"


def _cases_note(attrs: dict[str, object]) -> str:
    return (
        f"Cases scored by one run only, left out: {attrs['only_a']} only in a, "
        f"{attrs['only_b']} only in b."
    )


@app.command()
def compare(
    run_a: Annotated[
        str,
        typer.Argument(
            help="Run A: a run directory, a folder of runs, or several joined by commas "
            "(repeats of one model that differ by --seed)."
        ),
    ],
    run_b: Annotated[str, typer.Argument(help="Run B, the same way.")],
    metrics: Annotated[
        list[str] | None,
        typer.Option(
            help="Metrics to compare (repeatable or comma-separated); default: every per-case "
            "metric both measured."
        ),
    ] = None,
    by: Annotated[
        str | None, typer.Option(help="challenge or length: one comparison per group.")
    ] = None,
    format: Annotated[
        str,
        typer.Option("--format", "-f", help="table, or json: one JSON object per line."),
    ] = "table",
    allow_mixed: AllowMixed = False,
) -> None:
    """Compare two runs case by case: means, their difference with its 95% interval, the
    paired sign-flip test's p and a verdict per metric, on the cases both scored."""
    from tgibench.leaderboard.paired import COMPARE_COLUMNS
    from tgibench.leaderboard.paired import compare as compare_runs

    if format not in COMPARE_FORMATS:
        raise fail(f"--format must be one of {', '.join(COMPARE_FORMATS)}")
    try:
        table = compare_runs(
            split_values([run_a]) or [],
            split_values([run_b]) or [],
            metrics=split_values(metrics),
            by=by,
            allow_mixed=allow_mixed,
        )
    except ValueError as exc:  # LeaderboardError
        raise fail(str(exc)) from None
    if format == "table":
        sys.stdout.write(_text(table))
        return
    keys = [*(["group"] if by else []), *COMPARE_COLUMNS]
    for row in table.to_dict("records"):
        cleaned = {
            k: None if isinstance(row[k], float) and math.isnan(row[k]) else row[k] for k in keys
        }
        sys.stdout.write(json.dumps(cleaned, allow_nan=False) + "\n")
    typer.echo(_cases_note(table.attrs), err=True)
