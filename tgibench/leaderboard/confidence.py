"""How sure each number of a table is: means with intervals, the top group of each column,
pillar ranks with rank intervals. One :class:`GroupSummary` per group of a table (overall,
a challenge, a length), computed from one set of bootstrap resamples of its cases.

- Interval of a mean: expanded percentile bootstrap over the cases
  (:func:`stats.mean_intervals`).
- Top group of a column: the model with the best mean, and every model whose per-case
  differences from it are not significant (paired sign-flip test, Holm's correction over
  the models compared with the best, at 1 - LEVEL). A top group of one model is a model
  significantly better than every other.
- Pillar rank: the mean over the pillar's metrics of the model's rank among the models; its
  interval is the central range of the same ranks taken in every resample, at the
  expanded level of the intervals of means (:func:`stats.expanded_alpha`); its top group
  uses the bootstrap test of the rank difference at that level, Holm-corrected likewise.
- Run-level metrics (FID, FVD) are set distances over a run's cases, recorded in
  run_metrics.json: they have no interval and no top group, and count in the ranks with
  the same rank in every resample.
- Smoke tests (random weights) get intervals but are never ranked nor in a top group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tgibench.leaderboard import stats
from tgibench.leaderboard.cases import CaseValues


@dataclass(frozen=True)
class GroupSummary:
    """One group of a table. Arrays are indexed (models, metrics) or (models, pillars).

    ``mean``, ``lo``, ``hi``: means over the group's cases and their LEVEL interval (NaN
    where there is none); ``spread``: standard deviation over a model's repeats (seeds) of
    their means, NaN for one run; ``top``: in the column's top group; ``cases``: the group's
    common cases; ``metric_cases``: (metrics,) cases with a value of each metric (fewer when
    the metric failed on some); ``rank``, ``rank_lo``, ``rank_hi``, ``rank_top``: pillar
    ranks (1 = best; NaN for models not ranked), their interval and top group.
    """

    models: list[str]
    metrics: list[str]
    pillars: list[str]
    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    spread: np.ndarray
    top: np.ndarray
    cases: int
    metric_cases: np.ndarray
    rank: np.ndarray
    rank_lo: np.ndarray
    rank_hi: np.ndarray
    rank_top: np.ndarray


def top_groups(
    values: np.ndarray, mean: np.ndarray, higher: np.ndarray, ranked: np.ndarray, flips: np.ndarray
) -> np.ndarray:
    """(models, metrics) booleans: the top group of each metric among the ``ranked``
    models, from ``values`` (models, cases, metrics) and their ``mean`` (models, metrics).
    No column has a top group with fewer than two ranked models with a value."""
    candidates = np.where(ranked[:, None], np.where(higher, -mean, mean), np.nan)
    testable = (~np.isnan(candidates)).sum(axis=0) >= 2
    best = np.argmin(np.where(np.isnan(candidates), np.inf, candidates), axis=0)  # (metrics,)
    columns = np.arange(values.shape[2])
    differences = values - values[best, :, columns].T[None]  # (models, cases, metrics)
    flat = differences.transpose(1, 0, 2).reshape(values.shape[1], mean.size)
    p = stats.sign_flip_p(flat, flips).reshape(mean.shape)
    is_best = np.arange(len(mean))[:, None] == best[None]
    p = np.where(np.isnan(candidates) | is_best, np.nan, p)
    tied = stats.holm(p.T).T >= 1.0 - stats.LEVEL
    return testable & ~np.isnan(candidates) & (is_best | tied)


def rank_top_group(rank: np.ndarray, resampled: np.ndarray, alpha: float) -> np.ndarray:
    """(models, pillars) booleans: the best-ranked model of each pillar and those whose
    resampled rank difference from it is not significant at ``alpha`` (bootstrap test,
    Holm; NaN ``alpha``: none is). ``rank``: (models, pillars), NaN for models not ranked;
    ``resampled``: (resamples, models, pillars). Only pillars with at least two ranked
    models have a top group."""
    testable = (~np.isnan(rank)).sum(axis=0) >= 2
    best = np.argmin(np.where(np.isnan(rank), np.inf, rank), axis=0)
    pillars = np.arange(rank.shape[1])
    differences = resampled - resampled[:, best, pillars][:, None, :]
    p = stats.bootstrap_p(differences.reshape(len(resampled), rank.size)).reshape(rank.shape)
    is_best = np.arange(len(rank))[:, None] == best[None]
    p = np.where(np.isnan(rank) | is_best, np.nan, p)
    adjusted = stats.holm(p.T).T
    significant = adjusted < alpha  # never with a NaN alpha (too few cases)
    return testable & ~np.isnan(rank) & (is_best | ~significant)


def summarise(
    compared: CaseValues,
    infos: dict[str, dict[str, Any]],
    ranked: list[bool],
    run_level: dict[str, np.ndarray] | None = None,
    resamples: int = stats.RESAMPLES,
    seed: int = stats.SEED,
) -> GroupSummary:
    """The summary of one group: ``compared`` holds its cases; ``infos`` every metric's
    run.json facts (pillar, higher_is_better, range), in table order; ``ranked``: per
    model, whether it is ranked (not a smoke test); ``run_level``: metric → (models,)
    values of run-level metrics (NaN where a model has none)."""
    run_level = run_level or {}
    names = list(infos)
    models = len(compared.models)
    per_case = [i for i, name in enumerate(names) if name in compared.metrics]
    pick = [compared.metrics.index(names[i]) for i in per_case]
    values = compared.values()[:, :, pick]
    cases = values.shape[1]
    counts = stats.bootstrap_counts(cases, resamples, seed)
    columns = values.transpose(1, 0, 2).reshape(cases, models * len(pick))
    found = stats.mean_intervals(columns, counts)
    shape = (models, len(names))
    mean, lo, hi = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    spread = np.full(shape, np.nan)
    mean[:, per_case] = found.mean.reshape(models, len(pick))
    lo[:, per_case] = found.lo.reshape(models, len(pick))
    hi[:, per_case] = found.hi.reshape(models, len(pick))
    spread[:, per_case] = compared.seed_spread()[:, pick]
    resampled = np.full((resamples, *shape), np.nan)
    resampled[:, :, per_case] = found.resampled.reshape(resamples, models, len(pick))
    for name, run_values in run_level.items():
        mean[:, names.index(name)] = run_values
        resampled[:, :, names.index(name)] = run_values
    higher = np.array([bool(infos[n]["higher_is_better"]) for n in names])
    is_ranked = np.asarray(ranked, dtype=bool)
    top = np.zeros(shape, dtype=bool)
    top[:, per_case] = top_groups(
        values,
        mean[:, per_case],
        higher[per_case],
        is_ranked,
        stats.sign_flips(cases, resamples, seed),
    )
    metric_cases = np.zeros(len(names), dtype=int)
    metric_cases[per_case] = found.cases.reshape(models, len(pick)).max(axis=0, initial=0)
    pillars = list(dict.fromkeys(info["pillar"] for info in infos.values()))
    pillar_of = [pillars.index(info["pillar"]) for info in infos.values()]
    unranked = np.where(is_ranked[:, None], 0.0, np.nan)
    rank = stats.pillar_mean(stats.ranks(mean + unranked, higher), pillar_of, len(pillars))
    resampled_rank = stats.pillar_mean(
        stats.ranks(resampled + unranked, higher), pillar_of, len(pillars)
    )
    alpha = float(stats.expanded_alpha(np.array([cases]))[0])
    rank_lo, rank_hi = stats.rank_interval(resampled_rank, alpha)
    return GroupSummary(
        models=list(compared.models),
        metrics=names,
        pillars=pillars,
        mean=mean,
        lo=lo,
        hi=hi,
        spread=spread,
        top=top,
        cases=cases,
        metric_cases=metric_cases,
        rank=rank,
        rank_lo=np.where(np.isnan(rank), np.nan, rank_lo),
        rank_hi=np.where(np.isnan(rank), np.nan, rank_hi),
        rank_top=rank_top_group(rank, resampled_rank, alpha),
    )
