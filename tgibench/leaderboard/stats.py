"""The statistics behind every leaderboard number: bootstrap intervals of means over cases,
paired sign-flip tests, Holm's correction and rank intervals. Pure NumPy, vectorised over
resamples (one matrix product per quantity, no Python loop per resample).

Conventions: ``values`` is a (cases, columns) float array, NaN where a column has no value
for a case; a column is one model's metric, or one pair's per-case differences. Resamples
are the rows of a (resamples, cases) matrix: bootstrap counts (how often each case is
drawn, :func:`bootstrap_counts`) or signs (±1, :func:`sign_flips`). The same seed gives the
same resamples on every machine (NumPy's PCG64), and sums are taken in float64, so results
differ between CPUs by float rounding only.

docs/leaderboard.md ("How sure is a number") justifies each choice; the simulation in
``benchmarks/leaderboard_stats.py`` measures the coverage, false-positive rate and power.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Resamples of every bootstrap and sign-flip test, and their seed (recorded in the tables).
RESAMPLES = 2000
SEED = 0
#: Confidence level of the intervals; tests reject at 1 - LEVEL.
LEVEL = 0.95
#: Relative tolerance under which two sums of the same numbers count as equal (float rounding).
_ROUNDING = 1e-9


def bootstrap_counts(cases: int, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """(resamples, cases) float64: how often each case is drawn, with replacement, in each
    bootstrap resample (each row sums to ``cases``).

    >>> bootstrap_counts(4, resamples=3, seed=0).sum(axis=1)
    array([4., 4., 4.])
    """
    if cases == 0:
        return np.zeros((resamples, 0))
    draws = np.random.default_rng((seed, 0)).integers(0, cases, size=(resamples, cases))
    flat = (draws + cases * np.arange(resamples)[:, None]).ravel()
    counts = np.bincount(flat, minlength=resamples * cases)
    return counts.reshape(resamples, cases).astype(np.float64)


def sign_flips(cases: int, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """(resamples, cases) signs ±1 for a sign-flip test: every one of the 2**cases patterns
    when there are at most ``resamples`` of them (an exact test), else ``resamples`` random
    patterns.

    >>> sign_flips(2).tolist()
    [[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]]
    """
    if 2**cases <= resamples:
        bits = (np.arange(2**cases)[:, None] >> np.arange(cases)) & 1
        return 1.0 - 2.0 * bits
    rng = np.random.default_rng((seed, 1))
    return 1.0 - 2.0 * rng.integers(0, 2, size=(resamples, cases)).astype(np.float64)


def is_exact(flips: np.ndarray) -> bool:
    """Whether ``flips`` holds every sign pattern of its cases (an exact test)."""
    return bool(flips.shape[0] == 2 ** flips.shape[1])


@dataclass(frozen=True)
class Intervals:
    """Means of columns and their intervals.

    ``mean``, ``lo``, ``hi``, ``cases`` (the cases with a value): shape (columns,);
    ``resampled``: (resamples, columns), each resample's mean (the bootstrap distribution,
    from which rank intervals are taken). ``lo`` and ``hi`` are NaN for a column with
    fewer than two cases.
    """

    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    cases: np.ndarray
    resampled: np.ndarray


def expanded_alpha(cases: np.ndarray, level: float = LEVEL) -> np.ndarray:
    """The tail probability of the expanded percentile interval (Hesterberg 2015) for
    ``cases`` values: ``2 * Phi(-sqrt(n / (n - 1)) * t(n - 1, 1 - a / 2))`` with
    ``a = 1 - level``. It widens the percentile interval by the two ways it is too narrow
    for few cases: the bootstrap's variance is (n - 1) / n of the sample's, and Student's
    t is wider than the normal. NaN below two cases.

    >>> expanded_alpha(np.array([10, 46, 500])).round(4).tolist()
    [0.0171, 0.0417, 0.0492]
    """
    from scipy.special import ndtr, stdtrit

    n = np.asarray(cases, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stdtrit(n - 1, 1 - (1 - level) / 2)
        alpha = 2 * ndtr(-np.sqrt(n / (n - 1)) * t)
    return np.where(n >= 2, alpha, np.nan)


def mean_intervals(values: np.ndarray, counts: np.ndarray, level: float = LEVEL) -> Intervals:
    """Expanded percentile bootstrap intervals of the mean of each column of ``values``
    (cases, columns), from the resamples ``counts`` (resamples, cases).

    A resample's mean is over the cases of the column that have a value. The interval's
    ends are the resampled means at the tail probability :func:`expanded_alpha` (the
    nearest resample outwards), so it lies within the values' range.
    """
    valid = ~np.isnan(values)
    n = valid.sum(axis=0)
    filled = np.where(valid, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=0) / n
        resampled = (counts @ filled) / (counts @ valid.astype(np.float64))
    alpha = expanded_alpha(n, level)
    lo = order_statistic(resampled, alpha / 2, "lower")
    hi = order_statistic(resampled, 1 - alpha / 2, "higher")
    few = n < 2
    lo[few] = hi[few] = np.nan
    return Intervals(mean, lo, hi, n, resampled)


def order_statistic(samples: np.ndarray, q: float | np.ndarray, side: str = "lower") -> np.ndarray:
    """The ``q`` quantile (a number, or one per column) of each column of ``samples``
    (resamples, columns), NaN ignored, as one of the samples: the nearest one below
    (``side="lower"``) or above ("higher"). NaN for an all-NaN column or a NaN ``q``.
    """
    ordered = np.sort(samples, axis=0)  # NaN last
    count = (~np.isnan(ordered)).sum(axis=0)
    position = np.asarray(q) * (count - 1)
    index = np.floor(position) if side == "lower" else np.ceil(position)
    has = (count > 0) & ~np.isnan(index)
    out = np.full(samples.shape[1], np.nan)
    out[has] = ordered[index[has].astype(int), np.flatnonzero(has)]
    return out


def sign_flip_p(differences: np.ndarray, flips: np.ndarray) -> np.ndarray:
    """Two-sided p-value per column of ``differences`` (cases, columns) of the paired
    sign-flip test of "both are the same on every case" (the per-case difference is
    symmetric around 0), statistic: the sum of differences. NaN differences count as 0.

    Exact when ``flips`` holds every pattern (p = share of patterns at least as extreme);
    otherwise (1 + count) / (1 + resamples), never 0. Range (0, 1]; 1 when every difference
    is 0. Sums equal to the observed one up to float rounding count as at least as extreme.
    """
    d = np.nan_to_num(differences)
    observed = np.abs(d.sum(axis=0))
    null = np.abs(flips @ d)
    at_least = (null >= observed - _ROUNDING * np.abs(d).sum(axis=0)).sum(axis=0)
    if is_exact(flips):
        return np.asarray(at_least / flips.shape[0], dtype=np.float64)
    return np.asarray((at_least + 1) / (flips.shape[0] + 1), dtype=np.float64)


def bootstrap_p(resampled: np.ndarray) -> np.ndarray:
    """Two-sided bootstrap p-value per column of ``resampled`` (resamples, columns), the
    bootstrap distribution of a difference: twice the smaller share of resamples on either
    side of 0 (with +1 in numerator and denominator), at most 1; NaN for an all-NaN column.
    Rejecting at ``a`` is the same as 0 lying outside the percentile interval at 1 - a
    (so, to match :func:`mean_intervals`, reject at :func:`expanded_alpha`).
    """
    total = (~np.isnan(resampled)).sum(axis=0)
    below = (resampled <= 0).sum(axis=0)
    above = (resampled >= 0).sum(axis=0)
    with np.errstate(invalid="ignore"):
        p = 2 * (np.minimum(below, above) + 1) / (total + 1)
    return np.where(total > 0, np.minimum(p, 1.0), np.nan)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values along the last axis (NaN entries are not
    hypotheses and stay NaN); reject where the adjusted p is below the level.

    >>> holm(np.array([0.01, 0.04, 0.03])).round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p, dtype=np.float64)
    tested = ~np.isnan(p)
    m = tested.sum(axis=-1, keepdims=True)
    order = np.argsort(np.where(tested, p, np.inf), axis=-1)
    ordered = np.take_along_axis(p, order, axis=-1)
    factor = m - np.arange(p.shape[-1])
    stepped = np.fmax.accumulate(np.where(np.isnan(ordered), np.nan, ordered * factor), axis=-1)
    adjusted = np.empty_like(p)
    np.put_along_axis(adjusted, order, np.minimum(stepped, 1.0), axis=-1)
    return np.where(tested, adjusted, np.nan)


def ranks(means: np.ndarray, higher_is_better: np.ndarray) -> np.ndarray:
    """Rank of each model per metric: ``means`` (..., models, metrics) → the same shape,
    1 = best, ties share the better rank, NaN where a model has no value.
    ``higher_is_better``: (metrics,) booleans."""
    lower_better = np.where(higher_is_better, -means, means)
    beaten = lower_better[..., None, :, :] < lower_better[..., :, None, :]
    out = 1.0 + beaten.sum(axis=-2)
    return np.where(np.isnan(means), np.nan, out)


def pillar_mean(per_metric: np.ndarray, pillar_of: list[int], pillars: int) -> np.ndarray:
    """Mean over each pillar's metrics, ignoring NaN: (..., models, metrics) →
    (..., models, pillars); ``pillar_of[m]`` is metric m's pillar. NaN for a pillar
    without a value."""
    index = np.asarray(pillar_of)
    columns = []
    for pillar in range(pillars):
        chosen = per_metric[..., index == pillar]
        has = (~np.isnan(chosen)).sum(axis=-1)
        with np.errstate(invalid="ignore"):
            columns.append(np.where(has > 0, np.nansum(chosen, axis=-1) / has, np.nan))
    return np.stack(columns, axis=-1) if columns else np.empty((*per_metric.shape[:-1], 0))


def rank_interval(resampled: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """The central 1 - ``alpha`` range of resampled ranks (resamples, ...) → (lo, hi) of
    shape (...), each a value some resample took (so a rank of one metric stays whole).
    ``alpha``: the tail probability, :func:`expanded_alpha` of the cases resampled (NaN:
    no interval)."""
    flat = resampled.reshape(resampled.shape[0], -1)
    lo = order_statistic(flat, alpha / 2, "lower")
    hi = order_statistic(flat, 1 - alpha / 2, "higher")
    return lo.reshape(resampled.shape[1:]), hi.reshape(resampled.shape[1:])
