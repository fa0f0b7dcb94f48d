"""Consistency, motion and pace metrics on degenerate videos next to the ground truth.

    HF_HUB_OFFLINE=1 python benchmarks/degenerate_videos.py

For three 33-frame mini-bench cases (a pan, an occluding pass, real footage) it scores the
ground truth, a still video (the first keyframe throughout), a crossfade of the keyframes,
a freeze on the first keyframe then a jump to the last at mid-video, and random noise
between the keyframes, and prints the means over the cases as a markdown table
(docs/metrics.md, frame consistency). Pace is judged against the ground truth.
"""

from __future__ import annotations

import torch

from tgibench.data import load_benchmark
from tgibench.eval.scoring import score_video
from tgibench.features.backbones import Backbones
from tgibench.features.store import ScoringInputs
from tgibench.metrics.registry import select_metrics
from tgibench.video import to_float

METRICS = ["warping_error", "flicker", "lpips_frames", "motion_reach", "pace_stability"]
CASES = ["coffee_pan_right-33", "astronaut_logo_pass-33", "bigbuckbunny_wakes-33"]


def degenerate_videos(truth: torch.Tensor, seed: int = 0) -> dict[str, torch.Tensor]:
    """The ground truth (T, 3, H, W) in [0, 1] and its degenerate copies, by name; every
    copy but the still video starts and ends on the keyframes."""
    n, half = truth.shape[0], truth.shape[0] // 2
    first, last = truth[:1], truth[-1:]
    weight = torch.linspace(0, 1, n)[:, None, None, None]
    noise = torch.rand(n - 2, *truth.shape[1:], generator=torch.Generator().manual_seed(seed))
    return {
        "ground truth": truth,
        "still": first.expand(n, -1, -1, -1),
        "crossfade": (1 - weight) * first + weight * last,
        "freeze then jump": torch.cat(
            [first.expand(half, -1, -1, -1), last.expand(n - half, -1, -1, -1)]
        ),
        "noise": torch.cat([first, noise, last]),
    }


def main() -> None:
    metrics, nets, bench = select_metrics(METRICS), Backbones("cpu"), load_benchmark("mini")
    values: dict[str, dict[str, list[float]]] = {}
    for case_id in CASES:
        truth = to_float(bench.get(case_id).load_frames(torch.uint8))
        for name, video in degenerate_videos(truth).items():
            inputs = ScoringInputs(video=video, target=truth, first=truth[0], last=truth[-1])
            scores = score_video(inputs, metrics, nets).values
            for metric in METRICS:
                values.setdefault(name, {}).setdefault(metric, []).append(float(scores[metric]))
    print("| video | " + " | ".join(METRICS) + " |")
    print("|---" * (len(METRICS) + 1) + "|")
    for name, by_metric in values.items():
        means = (sum(v) / len(v) for v in by_metric.values())
        print(f"| {name} | " + " | ".join(f"{m:.4f}" for m in means) + " |")


if __name__ == "__main__":
    main()
