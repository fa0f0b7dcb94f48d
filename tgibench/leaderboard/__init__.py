"""Leaderboards from run directories: DataFrames, tables (md, csv, LaTeX), plots and reports."""

from tgibench.leaderboard.board import leaderboard_tables
from tgibench.leaderboard.formats import (
    leaderboard_csv,
    leaderboard_latex,
    leaderboard_markdown,
    leaderboard_terminal,
)
from tgibench.leaderboard.paired import compare
from tgibench.leaderboard.reported import load_reported
from tgibench.leaderboard.runs import LeaderboardError, Runs, load_runs
from tgibench.leaderboard.summary import aggregate, pillar_ranks
from tgibench.leaderboard.tables import is_smoke_test, measured_metrics

__all__ = [
    "LeaderboardError",
    "Runs",
    "aggregate",
    "compare",
    "is_smoke_test",
    "leaderboard_csv",
    "leaderboard_latex",
    "leaderboard_markdown",
    "leaderboard_tables",
    "leaderboard_terminal",
    "load_reported",
    "load_runs",
    "measured_metrics",
    "pillar_ranks",
]
