"""TGI-Bench: an evaluation suite for text-conditioned generative inbetweening.

The flow of data, one module per stage (see docs/design.md):
``data`` (cases) → ``models`` (videos) → ``features`` (computed once per video)
→ ``metrics`` → ``eval`` (run directories) → ``leaderboard`` (tables, plots, reports).
"""

__version__ = "0.1.0"
