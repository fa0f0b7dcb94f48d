"""Leaderboards from run directories: DataFrames, tables (md, csv) and reports."""

from tgibench.leaderboard.runs import LeaderboardError, Runs, load_runs
from tgibench.leaderboard.tables import aggregate, leaderboard_csv, leaderboard_markdown

__all__ = [
    "LeaderboardError",
    "Runs",
    "aggregate",
    "leaderboard_csv",
    "leaderboard_markdown",
    "load_runs",
]
