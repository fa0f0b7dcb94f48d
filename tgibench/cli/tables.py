"""``tgibench leaderboard``: tables (terminal, markdown, csv, LaTeX) and the HTML report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tgibench.cli.app import AllowMixed, app, fail, split_values

#: Leaderboard formats, and the format an --out file's suffix implies.
LEADERBOARD_FORMATS = {".md": "md", ".csv": "csv", ".tex": "latex", ".html": "html"}


@app.command()
def leaderboard(
    runs: Annotated[
        list[Path], typer.Argument(help="Run directories, or folders of them (runs/demo).")
    ],
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="md, csv, latex or html (a full report); default: from --out's suffix, else "
            "a compact table on stdout.",
        ),
    ] = None,
    out: Annotated[
        list[Path] | None,
        typer.Option("--out", "-o", help="File(s) to write (repeatable); default: stdout."),
    ] = None,
    full: Annotated[
        bool, typer.Option(help="stdout: every table in markdown, not the compact one.")
    ] = False,
    reported: Annotated[
        bool,
        typer.Option(help="Add the paper's numbers (leaderboard/reported.csv) as separate tables."),
    ] = False,
    allow_mixed: AllowMixed = False,
    cases: Annotated[
        list[str] | None,
        typer.Option(
            help="html: case ids shown in the case browser and with pace curves "
            "(default: every case the size budget allows)."
        ),
    ] = None,
    bench: Annotated[
        str | None,
        typer.Option(help="html: ground-truth source (default: the one the runs recorded)."),
    ] = None,
) -> None:
    """Tables of mean metrics per model: overall, pillar ranks, per challenge and per length."""
    from tgibench.fileio import write_text_atomic
    from tgibench.leaderboard import (
        leaderboard_csv,
        leaderboard_latex,
        leaderboard_markdown,
        leaderboard_terminal,
        load_reported,
        load_runs,
    )

    compact = not (out or format or full or reported)
    targets: list[tuple[Path | None, str]] = (
        [(path, format or LEADERBOARD_FORMATS.get(path.suffix, "md")) for path in out]
        if out
        else [(None, format or "md")]
    )
    if any(chosen not in LEADERBOARD_FORMATS.values() for _, chosen in targets):
        raise fail(f"--format must be one of {', '.join(LEADERBOARD_FORMATS.values())}")
    try:
        loaded = load_runs(runs, allow_mixed=allow_mixed)
        paper = load_reported() if reported else None
    except ValueError as exc:  # LeaderboardError, or a malformed reported.csv
        raise fail(str(exc)) from None
    if compact:
        sys.stdout.write(leaderboard_terminal(loaded, color=sys.stdout.isatty()))
        return
    writers = {"md": leaderboard_markdown, "csv": leaderboard_csv, "latex": leaderboard_latex}
    for path, chosen in targets:
        if chosen == "html":
            from tgibench.leaderboard.report import render_report

            text = render_report(loaded, paper, cases=split_values(cases), bench=bench)
        else:
            text = writers[chosen](loaded, paper)
        if path is None:
            sys.stdout.write(text)
        else:
            write_text_atomic(path, text)
            typer.echo(f"wrote {path} ({_size(len(text.encode('utf-8')))})")


def _size(count: int) -> str:
    """A byte count for people: 812 B, 35.2 kB, 4.71 MB."""
    if count < 1000:
        return f"{count} B"
    return f"{count / 1e3:.1f} kB" if count < 1e6 else f"{count / 1e6:.2f} MB"
