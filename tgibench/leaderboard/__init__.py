"""Leaderboards from run directories: DataFrames, tables (md, csv, LaTeX), plots and reports."""

from tgibench.leaderboard.formats import (
    leaderboard_csv,
    leaderboard_latex,
    leaderboard_markdown,
)
from tgibench.leaderboard.reported import load_reported
from tgibench.leaderboard.runs import LeaderboardError, Runs, load_runs
from tgibench.leaderboard.tables import aggregate, leaderboard_tables, pillar_ranks

__all__ = [
    "LeaderboardError",
    "Runs",
    "aggregate",
    "leaderboard_csv",
    "leaderboard_latex",
    "leaderboard_markdown",
    "leaderboard_tables",
    "load_reported",
    "load_runs",
    "pillar_ranks",
]
