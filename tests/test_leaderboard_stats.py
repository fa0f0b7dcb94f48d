"""The leaderboard's statistics (tgibench.leaderboard.stats) against references: explicit
resampling loops, scipy, exact enumerations and hand-computed cases. Small and seeded; the
coverage, false-positive rate and power are measured by benchmarks/leaderboard_stats.py."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from tgibench.leaderboard import stats


def test_bootstrap_counts_draw_each_case_with_replacement_reproducibly():
    counts = stats.bootstrap_counts(7, resamples=500, seed=3)
    assert counts.shape == (500, 7) and (counts.sum(axis=1) == 7).all()
    assert (counts >= 0).all() and (counts == 0).any()  # some cases left out of a resample
    assert np.array_equal(counts, stats.bootstrap_counts(7, resamples=500, seed=3))
    assert not np.array_equal(counts, stats.bootstrap_counts(7, resamples=500, seed=4))
    # every case equally likely: each is drawn once per resample on average (sd 0.02)
    assert stats.bootstrap_counts(7).mean(axis=0) == pytest.approx(np.ones(7), abs=0.1)
    assert stats.bootstrap_counts(0, resamples=4).shape == (4, 0)


def test_sign_flips_enumerate_small_samples_and_draw_large_ones():
    exact = stats.sign_flips(10)
    assert exact.shape == (1024, 10) and stats.is_exact(exact)
    assert len({tuple(row) for row in exact}) == 1024  # every pattern once
    drawn = stats.sign_flips(46, resamples=300, seed=1)
    assert drawn.shape == (300, 46) and not stats.is_exact(drawn)
    assert set(np.unique(drawn)) == {-1.0, 1.0}
    assert np.array_equal(drawn, stats.sign_flips(46, resamples=300, seed=1))


def _loop_interval(column: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """The expanded percentile interval by an explicit loop over resamples."""
    values = column[~np.isnan(column)]
    kept = counts[:, ~np.isnan(column)]
    means = sorted(float(np.repeat(values, row.astype(int)).mean()) for row in kept)
    alpha = float(stats.expanded_alpha(np.array([len(values)]))[0])
    last = len(means) - 1
    return means[int(np.floor(alpha / 2 * last))], means[int(np.ceil((1 - alpha / 2) * last))]


def test_mean_intervals_match_an_explicit_loop_and_skip_missing_values():
    rng = np.random.default_rng(0)
    values = rng.beta(2, 8, size=(12, 3))
    values[[1, 5], 2] = np.nan  # a metric without a value on two cases
    counts = stats.bootstrap_counts(12, resamples=400, seed=0)
    found = stats.mean_intervals(values, counts)
    assert found.cases.tolist() == [12, 12, 10]
    assert found.mean == pytest.approx(np.nanmean(values, axis=0))
    for column in range(3):
        lo, hi = _loop_interval(values[:, column], counts)
        assert (found.lo[column], found.hi[column]) == pytest.approx((lo, hi))
    assert (found.lo < found.mean).all() and (found.mean < found.hi).all()


def test_mean_intervals_agree_with_scipys_percentile_bootstrap():
    """Our interval is scipy's percentile bootstrap at the expanded level (up to resampling
    noise: scipy draws its own resamples)."""
    values = np.random.default_rng(1).lognormal(0, 0.6, size=46)
    found = stats.mean_intervals(values[:, None], stats.bootstrap_counts(46, resamples=4000))
    level = 1 - float(stats.expanded_alpha(np.array([46]))[0])
    reference = scipy.stats.bootstrap(
        (values,), np.mean, confidence_level=level, method="percentile", n_resamples=4000, rng=0
    ).confidence_interval
    width = reference.high - reference.low
    assert found.lo[0] == pytest.approx(reference.low, abs=0.05 * width)
    assert found.hi[0] == pytest.approx(reference.high, abs=0.05 * width)


def test_mean_intervals_of_constant_or_too_few_values():
    values = np.array([[0.0, 3.0, np.nan], [0.0, np.nan, np.nan], [0.0, np.nan, np.nan]])
    found = stats.mean_intervals(values, stats.bootstrap_counts(3, resamples=200))
    assert found.lo[0] == found.hi[0] == 0.0  # a constant: an interval of width 0
    assert found.mean[1] == 3.0 and np.isnan(found.lo[1:]).all() and np.isnan(found.hi[1:]).all()
    assert np.isnan(found.mean[2])


def test_expanded_alpha_widens_small_samples_only():
    alpha = stats.expanded_alpha(np.array([2, 10, 46, 500, 100_000]))
    assert alpha[0] < 1e-10 and list(alpha) == sorted(alpha)
    assert alpha[-1] == pytest.approx(0.05, abs=1e-4)
    assert np.isnan(stats.expanded_alpha(np.array([1, 0]))).all()


def test_sign_flip_p_exact_by_hand_and_against_scipy():
    # |±1 ±2 ±3| over the 8 patterns: 6, 4, 2, 0, 0, 2, 4, 6: two reach the observed 6
    d = np.array([[1.0], [2.0], [3.0]])
    assert stats.sign_flip_p(d, stats.sign_flips(3)).tolist() == [0.25]
    assert stats.sign_flip_p(np.zeros((46, 1)), stats.sign_flips(46)).tolist() == [1.0]
    rng = np.random.default_rng(2)
    diffs = rng.normal(0.4, 1.0, size=(9, 5))
    found = stats.sign_flip_p(diffs, stats.sign_flips(9))
    for column, p in zip(diffs.T, found, strict=True):
        reference = scipy.stats.permutation_test(
            (column,), np.sum, permutation_type="samples", n_resamples=np.inf
        )
        assert p == pytest.approx(reference.pvalue)


def test_sign_flip_p_drawn_never_zero_and_ignores_missing():
    d = np.full((60, 1), 0.5)
    p = stats.sign_flip_p(d, stats.sign_flips(60, resamples=999))
    assert p.tolist() == [1 / 1000]  # (0 + 1) / (999 + 1)
    with_missing = np.vstack([d, [[np.nan]]])
    assert stats.sign_flip_p(with_missing, stats.sign_flips(61, resamples=999)).tolist() == [
        1 / 1000
    ]


def test_bootstrap_p_two_sided():
    all_above = np.full((999, 1), 1.0)
    assert stats.bootstrap_p(all_above).tolist() == [2 / 1000]
    symmetric = np.linspace(-1, 1, 1001)[:, None]
    assert stats.bootstrap_p(symmetric)[0] == pytest.approx(1.0)
    assert np.isnan(stats.bootstrap_p(np.full((5, 1), np.nan))).all()


def test_holm_by_hand():
    p = np.array([[0.01, np.nan, 0.04, 0.03], [0.5, 0.001, np.nan, np.nan]])
    adjusted = stats.holm(p)
    assert adjusted[0, [0, 2, 3]] == pytest.approx([0.03, 0.06, 0.06])
    assert adjusted[1, [0, 1]] == pytest.approx([0.5, 0.002])
    assert np.isnan(adjusted[0, 1]) and np.isnan(adjusted[1, 2:]).all()
    assert stats.holm(np.array([0.9, 0.8])).tolist() == [1.0, 1.0]  # capped at 1


def test_ranks_share_ties_and_skip_missing():
    means = np.array([[1.0, 2.0], [3.0, 2.0], [np.nan, 1.0]])
    found = stats.ranks(means, np.array([True, False]))
    assert found[:, 0].tolist()[:2] == [2.0, 1.0] and np.isnan(found[2, 0])
    assert found[:, 1].tolist() == [2.0, 2.0, 1.0]  # lower is better, a tie shares rank 2
    pillar = stats.pillar_mean(found, [0, 0], 1)
    assert pillar[:, 0].tolist() == [2.0, 1.5, 1.0]


def test_rank_interval_takes_ranks_that_occur():
    resampled = np.array([[1.0], [2.0], [1.0], [3.0]] * 25)
    lo, hi = stats.rank_interval(resampled, 0.05)
    assert (lo.tolist(), hi.tolist()) == ([1.0], [3.0])
