"""The ``tgibench`` command: one verb per job.

evaluate · score · leaderboard · compare · data (build-mini, verify, info, manifest) · models · metrics.
Heavy imports stay inside the command that needs them, so ``tgibench --help`` is instant.
"""

import importlib

from tgibench.cli.app import app, main

# Each module registers its commands on `app`, in the order `tgibench --help` lists them.
for _module in ("run", "tables", "compare", "listing", "data"):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["app", "main"]
