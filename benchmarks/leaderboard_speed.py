"""How long the leaderboard's statistics take for a large table, in one process.

    python benchmarks/leaderboard_speed.py [--runs 10] [--cases 2000] [--metrics 30]

Times one :func:`tgibench.leaderboard.confidence.summarise` of random per-case values:
the bootstrap intervals of every mean, the paired sign-flip tests of every model against
the best per metric with Holm's correction, and pillar ranks with their rank intervals
(RESAMPLES resamples each). It prints the wall time of that one call (the goal: under 3 s
for 10 runs x 2000 cases x 30 metrics on 2 cores), the threads NumPy's BLAS may use and
the machine's load, so that a figure can be read against the conditions it was taken in.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tgibench.leaderboard import stats
from tgibench.leaderboard.cases import CaseValues
from tgibench.leaderboard.confidence import GroupSummary, summarise

#: Pillars the synthetic metrics are spread over, as the real ones are.
PILLARS = ("consistency", "semantic", "pace", "reconstruction", "distribution")


def synthetic_table(runs: int, cases: int, metrics: int, seed: int = 0) -> CaseValues:
    """``runs`` models (one run each) on ``cases`` cases with ``metrics`` metrics: a shared
    case effect plus per-model noise, so that tests and ranks have real work to do."""
    rng = np.random.default_rng(seed)
    case_effect = rng.normal(size=(1, cases, metrics))
    per_run = case_effect + rng.normal(0.05, 1.0, size=(runs, cases, metrics))
    return CaseValues(
        models=[f"model{k}" for k in range(runs)],
        runs=[f"runs/model{k}" for k in range(runs)],
        run_model=np.arange(runs),
        cases=pd.DataFrame({"case_id": [f"c{k:05d}" for k in range(cases)]}),
        metrics=[f"metric{k}" for k in range(metrics)],
        per_run=per_run,
    )


def time_summary(runs: int, cases: int, metrics: int) -> tuple[float, GroupSummary]:
    """Seconds one summarise() call takes on the synthetic table, and its result."""
    table = synthetic_table(runs, cases, metrics)
    infos = {
        name: {"pillar": PILLARS[k % len(PILLARS)], "higher_is_better": bool(k % 2)}
        for k, name in enumerate(table.metrics)
    }
    start = time.perf_counter()
    summary = summarise(table, infos, [True] * runs)
    return time.perf_counter() - start, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--metrics", type=int, default=30)
    args = parser.parse_args(argv)
    seconds, summary = time_summary(args.runs, args.cases, args.metrics)
    print(
        f"intervals, tests and rank intervals for {args.runs} runs x {args.cases} cases x "
        f"{args.metrics} metrics ({stats.RESAMPLES} resamples): {seconds:.2f} s"
    )
    print(
        f"checks: {int(summary.top.sum())} top-group cells, rank intervals of "
        f"{int((summary.rank_hi >= summary.rank_lo).sum())} cells; "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
        f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
