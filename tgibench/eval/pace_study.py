"""Controlled study of pace stability: ground truth re-timed with known pacing.

A ground-truth clip of S frames (S odd) is re-timed to L = (S-1)/2 + 1 frames by reading
it at warped times: output frame k shows ground-truth time ``w(k / (L-1)) · (S-1)``,
linearly blending the two nearest ground-truth frames. ``w`` = identity reads every other
frame exactly (the ground truth at length L, "uniform"); the other warps come in families
whose members have a known order of severity (:func:`retimings`). A metric that measures
pace must score each family's members in that order, uniform best: the study reports
Kendall's tau between the known severity and each metric, per clip and family
(:func:`kendall_table`). ``benchmarks/pace_study.py`` runs it on the mini-bench.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import kendalltau

from tgibench.features.motion import MotionStats, motion_stats
from tgibench.metrics.functional.pace import pace_parts


@dataclass(frozen=True)
class Retiming:
    """A known pacing: ``times`` (L,) normalised ground-truth times in [0, 1] of each output
    frame; ``level`` its severity within ``family`` (0 = uniform, larger = worse)."""

    family: str
    level: float
    label: str
    times: np.ndarray


def _from_steps(steps: Iterable[float]) -> np.ndarray:
    cumulative = np.concatenate([[0.0], np.cumsum(np.asarray(list(steps), dtype=np.float64))])
    return cumulative / cumulative[-1]


def retimings(num_frames: int, seed: int = 0) -> list[Retiming]:
    """The study's pacings for ``num_frames`` output frames (n = num_frames - 1 steps).

    - ``uniform``: w(x) = x (level 0 of every family);
    - ``ease``: w(x) = x + a·((1 - cos πx)/2 - x), a = ½ (mild), 1 (sine ease-in-out);
    - ``stall``: k frames frozen mid-clip then one jump of k+1 steps, k ≈ n/16, n/8, n/4;
      then ``hold`` (first half on frame 0, second half on the last frame);
    - ``stutter``: steps alternate (1 - a), (1 + a), a = ¼, ½, 1 (1 = duplicated frames);
    - ``backforth``: w(x) = x + A·sin(4πx)/(4π), A = 1.5, 2.5, 4 (goes back when A > 1);
    - ``random``: steps ∝ exp(σ·z), z ~ N(0, 1), σ = 0.2, 0.4, 0.8, two draws each.
    """
    n = num_frames - 1
    x = np.linspace(0.0, 1.0, num_frames)
    out = [Retiming("uniform", 0, "uniform", x)]
    for level, a in enumerate((0.5, 1.0), 1):
        out.append(
            Retiming("ease", level, f"ease a={a}", x + a * ((1 - np.cos(np.pi * x)) / 2 - x))
        )
    stalls = sorted({max(1, round(n * f)) for f in (1 / 16, 1 / 8, 1 / 4)})
    for level, k in enumerate(stalls, 1):
        index = np.arange(num_frames)
        start = (n - k) // 2
        frozen = (index > start) & (index <= start + k)
        out.append(Retiming("stall", level, f"stall {k}", np.where(frozen, x[start], x)))
    out.append(Retiming("stall", len(stalls) + 1, "hold", (x >= 0.5).astype(np.float64)))
    for level, a in enumerate((0.25, 0.5, 1.0), 1):
        alternating = [1 - a if i % 2 == 0 else 1 + a for i in range(n)]
        out.append(Retiming("stutter", level, f"stutter a={a}", _from_steps(alternating)))
    for level, amp in enumerate((1.5, 2.5, 4.0), 1):
        wave = x + amp * np.sin(4 * np.pi * x) / (4 * np.pi)
        out.append(Retiming("backforth", level, f"backforth A={amp}", np.clip(wave, 0, 1)))
    rng = np.random.default_rng(seed)
    for level, sigma in enumerate((0.2, 0.4, 0.8), 1):
        for draw in range(2):
            random_steps = np.exp(sigma * rng.standard_normal(n))
            label = f"random σ={sigma} #{draw}"
            out.append(Retiming("random", level, label, _from_steps(random_steps)))
    return out


def retime(frames: torch.Tensor, times: np.ndarray) -> torch.Tensor:
    """Read a (S, 3, H, W) clip at normalised ``times`` (L,), blending neighbouring frames."""
    position = torch.from_numpy(times * (frames.shape[0] - 1)).float()
    lower = position.floor().long().clamp(0, frames.shape[0] - 1)
    upper = (lower + 1).clamp(max=frames.shape[0] - 1)
    weight = (position - lower).view(-1, 1, 1, 1)
    return ((1 - weight) * frames[lower] + weight * frames[upper]).clamp(0, 1)


#: A study score: a function of (video, its motion, the uniform target's motion) whose
#: larger values mean *worse* pace (so tau against severity should be +1).
Badness = Callable[[torch.Tensor, MotionStats, MotionStats], float]


def _flow_cv(motion: MotionStats) -> float:
    steps = motion.magnitude.double()
    return float(steps.std(unbiased=False) / steps.mean().clamp_min(1e-9))


#: Pace stability and its parts, with and without the target, plus flow-only baselines.
PACE_SCORES: dict[str, Badness] = {
    "pace_stability": lambda v, m, t: -pace_parts(m).score,
    "pace_stability+target": lambda v, m, t: -pace_parts(m, t).score,
    "unevenness": lambda v, m, t: pace_parts(m).unevenness,
    "jump": lambda v, m, t: pace_parts(m).jump,
    "backtrack": lambda v, m, t: pace_parts(m).backtrack,
    "progress_deviation": lambda v, m, t: pace_parts(m).progress_deviation,
    "flow_step_cv": lambda v, m, t: _flow_cv(m),
    "warping_error": lambda v, m, t: float(m.warp_error.mean()),
}


@dataclass(frozen=True)
class StudyRow:
    """One re-timed video of one clip and each score's badness (higher = worse pace)."""

    clip: str
    challenge: str
    retiming: Retiming
    badness: dict[str, float]


def study_clip(
    clip: str, challenge: str, frames: torch.Tensor, scores: dict[str, Badness], seed: int = 0
) -> list[StudyRow]:
    """Re-time one ground-truth clip (S frames, S odd) every way and score each copy."""
    if frames.shape[0] % 2 == 0 or frames.shape[0] < 5:
        raise ValueError(f"{clip}: needs an odd number of frames >= 5, got {frames.shape[0]}")
    num_out = (frames.shape[0] - 1) // 2 + 1
    plans = retimings(num_out, seed)
    target = retime(frames, plans[0].times)
    target_motion = motion_stats(target)
    rows = []
    for plan in plans:
        video = retime(frames, plan.times)
        motion = target_motion if plan.family == "uniform" else motion_stats(video)
        badness = {name: score(video, motion, target_motion) for name, score in scores.items()}
        rows.append(StudyRow(clip, challenge, plan, badness))
    return rows


def kendall_table(rows: list[StudyRow], score: str) -> dict[str, dict[str, float]]:
    """Mean Kendall tau-b of severity vs ``score`` over (clip, family), by family and challenge.

    Each (clip, family) group holds the uniform copy (level 0) and the family's members.
    Also ``below_uniform``: the share of non-uniform copies strictly worse than their
    clip's uniform copy. Keys: ``overall``, ``family:<name>``, ``challenge:<name>``.
    """
    by_clip: dict[str, list[StudyRow]] = defaultdict(list)
    for row in rows:
        by_clip[row.clip].append(row)
    taus: dict[str, list[float]] = defaultdict(list)
    worse: dict[str, list[bool]] = defaultdict(list)
    for clip_rows in by_clip.values():
        uniform = next(r for r in clip_rows if r.retiming.family == "uniform")
        families = {r.retiming.family for r in clip_rows} - {"uniform"}
        for family in sorted(families):
            group = [uniform] + [r for r in clip_rows if r.retiming.family == family]
            tau = kendalltau(
                [r.retiming.level for r in group], [r.badness[score] for r in group]
            ).statistic
            below = [r.badness[score] > uniform.badness[score] for r in group[1:]]
            for key in ("overall", f"family:{family}", f"challenge:{uniform.challenge}"):
                taus[key].append(0.0 if math.isnan(tau) else float(tau))
                worse[key].extend(below)
    return {
        key: {"tau": float(np.mean(taus[key])), "below_uniform": float(np.mean(worse[key]))}
        for key in taus
    }
