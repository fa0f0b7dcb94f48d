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


def _best(scores: np.ndarray) -> np.ndarray:
    """(columns,) the row of the lowest score of each column of ``scores`` (rows,
    columns); NaN is never lowest."""
    return np.argmin(np.where(np.isnan(scores), np.inf, scores), axis=0)


def _top_group(scores: np.ndarray, best: np.ndarray, p: np.ndarray, alpha: float) -> np.ndarray:
    """(rows, columns) booleans: the ``best`` of each column and every candidate (a row
    with a score) whose ``p`` against it, Holm-adjusted over the column, is not below
    ``alpha`` (a NaN ``alpha``: none is). No top group in a column of fewer than two
    candidates."""
    candidate = ~np.isnan(scores)
    is_best = np.arange(len(scores))[:, None] == best[None]
    adjusted = stats.holm(np.where(candidate & ~is_best, p, np.nan).T).T
    significant = adjusted < alpha
    return (candidate.sum(axis=0) >= 2) & candidate & (is_best | ~significant)


def top_groups(
    values: np.ndarray, mean: np.ndarray, higher: np.ndarray, ranked: np.ndarray, flips: np.ndarray
) -> np.ndarray:
    """(models, metrics) booleans: the top group of each metric among the ``ranked``
    models, from ``values`` (models, cases, metrics) and their ``mean`` (models, metrics):
    the best mean and the models whose paired sign-flip test against it (``flips``) is
    not significant at 1 - LEVEL after Holm's correction."""
    scores = np.where(ranked[:, None], np.where(higher, -mean, mean), np.nan)
    best = _best(scores)
    differences = values - values[best, :, np.arange(values.shape[2])].T[None]
    flat = differences.transpose(1, 0, 2).reshape(values.shape[1], mean.size)
    p = stats.sign_flip_p(flat, flips).reshape(mean.shape)
    return _top_group(scores, best, p, 1.0 - stats.LEVEL)


def rank_top_group(rank: np.ndarray, resampled: np.ndarray, alpha: float) -> np.ndarray:
    """(models, pillars) booleans: the best-ranked model of each pillar and those whose
    resampled rank difference from it is not significant at ``alpha`` (bootstrap test,
    Holm). ``rank``: (models, pillars), NaN for models not ranked; ``resampled``:
    (resamples, models, pillars)."""
    best = _best(rank)
    differences = resampled - resampled[:, best, np.arange(rank.shape[1])][:, None, :]
    p = stats.bootstrap_p(differences.reshape(len(resampled), rank.size)).reshape(rank.shape)
    return _top_group(rank, best, p, alpha)


def summarise(
    compared: CaseValues,
    infos: dict[str, dict[str, Any]],
    ranked: list[bool],
    run_level: dict[str, np.ndarray] | None = None,
    resamples: int = stats.RESAMPLES,
    seed: int = stats.SEED,
) -> GroupSummary:
    """The summary of one group: ``compared`` holds its cases; ``infos`` every metric's
    run.json facts (pillar, higher_is_better, run_level), in table order; ``ranked``: per
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
    rank, rank_lo, rank_hi, rank_top = _pillar_ranks(
        mean,
        resampled,
        higher,
        is_ranked,
        [pillars.index(i["pillar"]) for i in infos.values()],
        cases,
    )
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
        rank_lo=rank_lo,
        rank_hi=rank_hi,
        rank_top=rank_top,
    )


def _pillar_ranks(
    mean: np.ndarray,
    resampled: np.ndarray,
    higher: np.ndarray,
    ranked: np.ndarray,
    pillar_of: list[int],
    cases: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pillar ranks (models, pillars) of the ``ranked`` models from their ``mean`` (models,
    metrics), and from the ``resampled`` means (resamples, models, metrics) their interval
    and top group at the expanded level for ``cases`` cases: (rank, lo, hi, top)."""
    pillars = max(pillar_of, default=-1) + 1
    unranked = np.where(ranked[:, None], 0.0, np.nan)
    rank = stats.pillar_mean(stats.ranks(mean + unranked, higher), pillar_of, pillars)
    resampled_rank = stats.pillar_mean(
        stats.ranks(resampled + unranked, higher), pillar_of, pillars
    )
    alpha = float(stats.expanded_alpha(np.array([cases]))[0])
    lo, hi = stats.rank_interval(resampled_rank, alpha)
    missing = np.isnan(rank)
    return (
        rank,
        np.where(missing, np.nan, lo),
        np.where(missing, np.nan, hi),
        rank_top_group(rank, resampled_rank, alpha),
    )
