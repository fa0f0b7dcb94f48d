"""The leaderboard's statistics validated by simulation, where the truth is known.

    python benchmarks/leaderboard_stats.py [--runs 10000] [--seed 0]

Prints markdown tables (docs/leaderboard.md, "How sure is a number", records them):

- coverage: the share of simulated runs whose 95% interval of the mean
  (:func:`tgibench.leaderboard.stats.mean_intervals`) contains the true mean, at 10, 46
  and 500 cases, for two kinds of metric shaped like ours on the mini-bench:
  ``lpips-like``, bounded and skewed: Beta(1.4, 4.3) (mean 0.246, sd 0.166, skewness 0.79;
  the mini runs' LPIPS: mean 0.21-0.24, sd 0.14-0.17, skewness 0.3-0.4);
  ``psnr-like with failures``, heavy-tailed: 95% of cases 8 + 13 exp(N(0, 0.4^2)) dB
  (mean 22.1, sd 5.9, skewness 1.3; the mini runs' PSNR: mean 20-22, skewness 0.9-1.1),
  5% failed cases (a broken video) at U(4, 8) dB; and, beyond the targets, where the
  intervals weaken: ``very skewed``, Beta(0.5, 5) (skewness 1.9);
- false-positive rate: the share of pairs of runs drawn from one distribution that the
  paired sign-flip test (:func:`tgibench.leaderboard.stats.sign_flip_p`) calls different
  at 5%, and the share of three such models where the table marks a lone best
  (:func:`tgibench.leaderboard.confidence.top_groups`);
- power: the share of pairs where run A is shifted by a stated amount that the test calls
  different.

A run of the psnr-like kind on a case is the case's difficulty (psnr-like, shared by both
runs) plus the run's own noise (sd 1 dB), or a failure (5%, U(4, 8) dB). Each simulated
run is resampled with its own seed, as a leaderboard of its own would be.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tgibench.leaderboard import stats
from tgibench.leaderboard.confidence import top_groups

CASES = (10, 46, 500)
#: Runs simulated together with one set of resamples (each batch its own seed).
BATCH = 100
BETA = (1.4, 4.3)
VERY_SKEWED = (0.5, 5.0)
FAILURE_RATE = 0.05
FAILED_DB = (4.0, 8.0)
NOISE_DB = 1.0
SHIFTS_DB = (0.5, 1.0)

Draw = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]


def lpips_like(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.beta(*BETA, size=shape)


def very_skewed(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.beta(*VERY_SKEWED, size=shape)


def _psnr_body(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return 8.0 + 13.0 * np.exp(rng.normal(0.0, 0.4, size=shape))


def _with_failures(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    failed = rng.random(values.shape) < FAILURE_RATE
    return np.where(failed, rng.uniform(*FAILED_DB, size=values.shape), values)


def psnr_like(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return _with_failures(rng, _psnr_body(rng, shape))


#: Kind → (how a case is drawn, its true mean).
KINDS: dict[str, tuple[Draw, float]] = {
    "lpips-like (bounded, skewed)": (lpips_like, BETA[0] / sum(BETA)),
    "psnr-like with 5% failed cases (heavy-tailed)": (
        psnr_like,
        (1 - FAILURE_RATE) * (8.0 + 13.0 * np.exp(0.4**2 / 2)) + FAILURE_RATE * np.mean(FAILED_DB),
    ),
    "very skewed, Beta(0.5, 5) (beyond the targets)": (
        very_skewed,
        VERY_SKEWED[0] / sum(VERY_SKEWED),
    ),
}


def coverage(draw: Draw, truth: float, cases: int, runs: int, seed: int) -> float:
    """Share of ``runs`` simulated runs of ``cases`` cases whose interval holds ``truth``."""
    rng = np.random.default_rng((seed, cases))
    covered = 0
    for batch in range(runs // BATCH):
        values = draw(rng, (cases, BATCH))
        found = stats.mean_intervals(values, stats.bootstrap_counts(cases, seed=seed + batch))
        covered += int(((found.lo <= truth) & (truth <= found.hi)).sum())
    return covered / (runs // BATCH * BATCH)


def _paired_runs(rng: np.random.Generator, cases: int, models: int, shift: float) -> np.ndarray:
    """(models, cases, BATCH) psnr-like values of models on shared cases; model 0 shifted."""
    difficulty = _psnr_body(rng, (1, cases, BATCH))
    values = _with_failures(rng, difficulty + rng.normal(0, NOISE_DB, (models, cases, BATCH)))
    values[0] += shift
    return values


def rejection_rate(cases: int, runs: int, seed: int, shift: float) -> float:
    """Share of pairs of runs (A shifted by ``shift`` dB) the sign-flip test rejects at 5%."""
    rng = np.random.default_rng((seed, cases, 1))
    rejected = 0
    for batch in range(runs // BATCH):
        a, b = _paired_runs(rng, cases, 2, shift)
        p = stats.sign_flip_p(a - b, stats.sign_flips(cases, seed=seed + batch))
        rejected += int((p < 1 - stats.LEVEL).sum())
    return rejected / (runs // BATCH * BATCH)


def lone_best_rate(cases: int, runs: int, seed: int) -> float:
    """Share of tables of three models from one distribution where one is marked alone."""
    rng = np.random.default_rng((seed, cases, 2))
    lone = 0
    for batch in range(runs // BATCH):
        values = _paired_runs(rng, cases, 3, 0.0)  # (3, cases, BATCH): BATCH tables
        found = top_groups(
            values,
            values.mean(axis=1),
            np.ones(BATCH, dtype=bool),
            np.ones(3, dtype=bool),
            stats.sign_flips(cases, seed=seed + batch),
        )
        lone += int((found.sum(axis=0) == 1).sum())
    return lone / (runs // BATCH * BATCH)


def monte_carlo_error(share: float, runs: int) -> float:
    """Standard error of a share estimated from ``runs`` independent runs."""
    return float(np.sqrt(share * (1 - share) / runs))


def exact_size(resamples: int, alpha: float = 1 - stats.LEVEL) -> float:
    """The sign-flip test's false-positive rate with random flips and no ties: the
    observed statistic's rank among resamples + 1 is uniform, p = (k + 1) / (resamples + 1)
    and p < alpha for k + 1 < alpha * (resamples + 1)."""
    return float(np.ceil(alpha * (resamples + 1)) - 1) / (resamples + 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10000, help="simulated runs per figure")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    runs = max(BATCH, args.runs // BATCH * BATCH)
    print(f"Coverage of the 95% intervals ({runs} simulated runs each; target 93-97%):\n")
    print("| metric | " + " | ".join(f"{n} cases" for n in CASES) + " |")
    print("|---|" + "---|" * len(CASES))
    for name, (draw, truth) in KINDS.items():
        found = [coverage(draw, truth, n, runs, args.seed) for n in CASES]
        print(f"| {name} | " + " | ".join(f"{c:.1%}" for c in found) + " |")
    print(f"\nPaired sign-flip test, psnr-like runs ({runs} simulated pairs each):\n")
    print("| | " + " | ".join(f"{n} cases" for n in CASES) + " |")
    print("|---|" + "---|" * len(CASES))
    rows = {"false-positive rate (one distribution; target <= 5%)": 0.0}
    rows |= {f"power, A {shift:+g} dB": shift for shift in SHIFTS_DB}
    for label, shift in rows.items():
        found = [rejection_rate(n, runs, args.seed, shift) for n in CASES]
        print(f"| {label} | " + " | ".join(f"{r:.1%}" for r in found) + " |")
    found = [lone_best_rate(n, runs, args.seed) for n in CASES]
    print(
        "| lone best marked among 3 models from one distribution | "
        + " | ".join(f"{r:.1%}" for r in found)
        + " |"
    )
    sd = np.sqrt(2) * NOISE_DB
    print(
        f"\nPer-case noise of each run: sd {NOISE_DB} dB (of a difference: {sd:.2f} dB), "
        f"plus {FAILURE_RATE:.0%} failed cases per run; "
        f"{stats.RESAMPLES} resamples per interval and test. Monte Carlo standard error of "
        f"a share near 95% or 5%: {monte_carlo_error(0.05, runs):.2%}; the test's exact size "
        f"is {exact_size(stats.RESAMPLES):.3%} (at most 5%) for a continuous null."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
