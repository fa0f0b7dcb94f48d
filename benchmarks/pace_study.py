"""The pace study: does pace stability rank known pacings, and can degenerate videos win it?

    python benchmarks/pace_study.py [--lengths 25,33,65,81] [--half] [--baselines]
        [--clips mini|extra] [--max-clips N] [--workers 2] [--cache DIR] [--json out.json]

For every clip of ``benchmarks/pace_clips.py`` (the mini-bench's camera paths rendered
densely, and real footage) at each length, the true video, its re-timed copies (six
families, three severities each) and its failure copies (still, crossfade,
freeze-then-fade, hold, cut, noise, stopping short) are scored by pace stability without
a target and with the true video as target, and, with ``--baselines``, by two simple
scores: the coefficient of variation of adjacent-frame LPIPS, and how far the
LPIPS-to-keyframes progress strays from a straight line. It prints, per challenge:

- ``tau``: Kendall's tau between the known severity and the score's badness within each
  (clip, family) group (the true video is level 0), averaged; +1 is a perfect ordering;
- ``below truth``: per failure type, the share of clips where it scores below the true
  video (without a target);
- ``mild outranked``: with the target, the share of (clip, family) pairs where the still
  video or the crossfade scores above the family's mildest re-timing;
- with ``--half``: the largest change of the true video's score at half resolution.

Scoring uses only ``motion_stats`` and ``pace_parts(motion, reference)``, which versions 1
and 2 of the metric share, so the same script measures both (run it from a checkout of
the older version for the "before" figures).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from pace_clips import FAILURES, Clip, clip_names, copies, load_clip
from safetensors.torch import load_file, save_file
from scipy.stats import kendalltau

from tgibench.features.motion import MOTION_VERSION, MotionStats, motion_stats
from tgibench.metrics.functional.pace import pace_parts

#: Failure types that must score below the true video (issue 11's list).
MUST_LOSE = ("still", "crossfade", "freeze_fade", "hold", "cut")


@dataclass
class Scored:
    """One copy's scores (higher = better pace) under every scoring."""

    clip: str
    challenge: str
    length: int
    family: str
    level: int
    label: str
    scale: float = 1.0
    scores: dict[str, float] = field(default_factory=dict)


def _tensor(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)


class _Baselines:
    """LPIPS step CV and LPIPS-anchor progress, from one LPIPS pass per copy."""

    def __init__(self) -> None:
        from tgibench.features.lpips_net import LPIPSNet

        self.net = LPIPSNet("alex")

    def __call__(self, video: torch.Tensor) -> dict[str, float]:
        from tgibench.features.lpips_net import lpips_distances

        ends = (video[0].float() / 255, video[-1].float() / 255)
        distances = lpips_distances(self.net, video, keyframes=None)
        steps = distances.adjacent.double()
        cv = float(steps.std(unbiased=False) / steps.mean().clamp_min(1e-9))
        to_first = lpips_distances(self.net, video, target=ends[0].expand_as(video)).to_target
        to_last = lpips_distances(self.net, video, target=ends[1].expand_as(video)).to_target
        assert to_first is not None and to_last is not None
        along = to_first.double() / (to_first + to_last).double().clamp_min(1e-9)
        straight = torch.linspace(0, 1, along.numel(), dtype=torch.float64)
        return {
            "lpips_step_cv": -cv,
            "lpips_anchor_progress": -float((along - straight).abs().mean()),
        }


def _motion(video: torch.Tensor, cache: Path | None, key: str) -> MotionStats:
    """motion_stats of a copy, kept in ``cache`` (a folder) when given, so that the study
    can be re-scored after a change of the scoring alone."""
    if cache is None:
        return motion_stats(video)
    path = cache / f"{key}-v{MOTION_VERSION}.safetensors"
    if path.is_file():
        return MotionStats(**load_file(path))
    stats = motion_stats(video)
    cache.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in asdict(stats).items()}, path)
    return stats


def score_clip(
    clip: Clip, baselines: bool, cache: Path | None = None, scale: float = 1.0
) -> list[Scored]:
    """Score every copy of one clip (the true video's motion is the target)."""
    torch.set_num_threads(1)
    prefix = f"{clip.name}-{clip.truth.shape[0]}-{clip.truth.shape[1]}"
    items = copies(clip)
    target = _motion(_tensor(clip.truth), cache, f"{prefix}-uniform")
    extra = _Baselines() if baselines else None
    rows = []
    for item in items:
        video = _tensor(item.frames)
        key = f"{prefix}-{item.label}".replace(" ", "_").replace("=", "")
        motion = target if item.family == "uniform" else _motion(video, cache, key)
        row = Scored(
            clip.name, clip.challenge, video.shape[0], item.family, item.level, item.label, scale
        )
        row.scores["pace"] = pace_parts(motion).score
        row.scores["pace+target"] = pace_parts(motion, target).score
        if extra is not None:
            row.scores.update(extra(video))
        rows.append(row)
    return rows


def _score_job(
    job: tuple[str, int, float, bool, Path | None, bool],
) -> tuple[float, list[Scored]]:
    name, length, scale, baselines, cache, extra = job
    return scale, score_clip(load_clip(name, length, scale, extra), baselines, cache, scale)


def _groups(rows: list[Scored]) -> dict[tuple[str, int], list[Scored]]:
    groups: dict[tuple[str, int], list[Scored]] = defaultdict(list)
    for row in rows:
        groups[(row.clip, row.length)].append(row)
    return groups


def summarize(rows: list[Scored], score: str) -> dict[str, dict[str, float]]:
    """Per key (``overall``, ``challenge:<c>``, ``family:<f>``): tau (no target: ``score``;
    with target: ``score+target`` if present), below-truth shares and mild-outranked."""
    taus: dict[str, list[float]] = defaultdict(list)
    below: dict[str, list[bool]] = defaultdict(list)
    outranked: dict[str, list[bool]] = defaultdict(list)
    with_target = f"{score}+target"
    for group in _groups(rows).values():
        truth = next(r for r in group if r.family == "uniform")
        keys = ("overall", f"challenge:{truth.challenge}")
        for row in group:
            if row.family == "failure":
                for key in keys:
                    below[f"{key}|{row.label}"].append(row.scores[score] < truth.scores[score])
        families = sorted({r.family for r in group} - {"uniform", "failure"})
        fails = {r.label: r for r in group if r.family == "failure"}
        for family in families:
            members = sorted((r for r in group if r.family == family), key=lambda r: r.level)
            ranked = [truth, *members]
            for name, suffix in ((score, ""), (with_target, "+target")):
                if name not in truth.scores:
                    continue
                tau = kendalltau([r.level for r in ranked], [-r.scores[name] for r in ranked])
                value = 0.0 if math.isnan(tau.statistic) else float(tau.statistic)
                for key in (*keys, f"family:{family}"):
                    taus[f"{key}|tau{suffix}"].append(value)
            if with_target in truth.scores:
                mild = members[0].scores[with_target]
                for failure in ("still", "crossfade"):
                    beaten = fails[failure].scores[with_target] > mild
                    for key in keys:
                        outranked[f"{key}|mild_outranked+target"].append(beaten)
    table: dict[str, dict[str, float]] = defaultdict(dict)
    for collection in (taus, below, outranked):
        for compound, values in collection.items():
            key, column = compound.split("|")
            table[key][column] = float(np.mean(values))
    return dict(table)


def resolution_drift(full: list[Scored], half: list[Scored], score: str) -> dict[str, float]:
    """Largest and median |score(true video) - score(true video at half resolution)|."""
    truth = {(r.clip, r.length): r.scores[score] for r in full if r.family == "uniform"}
    gaps = [
        abs(truth[(r.clip, r.length)] - r.scores[score])
        for r in half
        if r.family == "uniform" and (r.clip, r.length) in truth
    ]
    return {"max": float(np.max(gaps)), "median": float(np.median(gaps)), "clips": len(gaps)}


def print_table(title: str, table: dict[str, dict[str, float]]) -> None:
    """One markdown table: rows = overall and challenges, columns = the figures."""
    keys = ["overall", *sorted(k for k in table if k.startswith("challenge:"))]
    columns = ["tau", "tau+target", *[f for f in FAILURES], "mild_outranked+target"]
    columns = [c for c in columns if any(c in table[k] for k in keys)]
    print(f"\n{title}\n\n| | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for key in keys:
        cells = " | ".join(f"{table[key][c]:.3f}" if c in table[key] else "" for c in columns)
        print(f"| {key.replace('challenge:', '')} | {cells} |")
    families = sorted(k for k in table if k.startswith("family:"))
    if families:
        print("\n| family | " + " | ".join(k.replace("family:", "") for k in families) + " |")
        print("|---" * (len(families) + 1) + "|")
        for column in ("tau", "tau+target"):
            if all(column in table[k] for k in families):
                cells = " | ".join(f"{table[k][column]:.3f}" for k in families)
                print(f"| {column} | {cells} |")


def run(
    lengths: list[int],
    half: bool,
    baselines: bool,
    max_clips: int | None,
    workers: int,
    cache: Path | None = None,
    extra: bool = False,
) -> tuple[list[Scored], list[Scored]]:
    """Score every clip at every length (and at half resolution with ``half``)."""
    jobs = []
    for length in lengths:
        for name in clip_names(length, extra)[:max_clips]:
            jobs.append((name, length, 1.0, baselines, cache, extra))
            if half:
                jobs.append((name, length, 0.5, False, cache, extra))
    full: list[Scored] = []
    halved: list[Scored] = []
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for done, (scale, rows) in enumerate(pool.map(_score_job, jobs), 1):
            (full if scale == 1.0 else halved).extend(rows)
            print(
                f"[{done}/{len(jobs)}] {rows[0].clip} {rows[0].length} frames"
                f"{' (half)' if scale != 1.0 else ''}: {time.perf_counter() - start:.0f} s",
                flush=True,
            )
    return full, halved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="25,33,65,81")
    parser.add_argument("--half", action="store_true", help="also score at half resolution")
    parser.add_argument("--baselines", action="store_true", help="LPIPS baselines (slower)")
    parser.add_argument("--max-clips", type=int, default=None, help="clips per length")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--json", default=None, help="write every copy's scores here")
    parser.add_argument("--cache", type=Path, default=None, help="keep motion stats here")
    parser.add_argument(
        "--clips",
        choices=("mini", "extra"),
        default="mini",
        help="the mini-bench's clips, or clips never used to design the metric",
    )
    args = parser.parse_args()
    lengths = [int(n) for n in args.lengths.split(",")]
    full, halved = run(
        lengths,
        args.half,
        args.baselines,
        args.max_clips,
        args.workers,
        args.cache,
        extra=args.clips == "extra",
    )
    scorings: list[str] = [s for s in full[0].scores if not s.endswith("+target")]
    for score in scorings:
        print_table(f"### {score}", summarize(full, score))
    if halved:
        drift = resolution_drift(full, halved, "pace")
        print(f"\nhalf resolution, true videos: {json.dumps(drift)}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([row.__dict__ for row in full + halved], handle)


if __name__ == "__main__":
    main()
