"""What OpenCV's baseline kernels cost: the motion pass and SSIM with and without them.

    HF_HUB_OFFLINE=1 python benchmarks/opencv_baseline.py [--cases 6] [--rounds 3]

tgibench runs every OpenCV call at OpenCV's baseline kernels (tgibench/video/opencv_kernels.py:
the same values on every x86-64 CPU). This times, in one process and interleaved, the
OpenCV work of scoring a case (the motion statistics: two DIS flows per pair, warps,
resizes, gradients; and SSIM's blur) on the first mini-bench cases of 25 frames, once as
tgibench runs it and once with OpenCV's dispatched kernels, and prints the ratio
(baseline / dispatched, median over rounds; above 1: the baseline is slower).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2
import torch

import tgibench.video.opencv_kernels as kernels
from tgibench.data import load_benchmark
from tgibench.features.motion import motion_stats
from tgibench.metrics.functional import ssim


def _score(videos: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    start = time.perf_counter()
    for video, target in videos:
        motion_stats(video)
        ssim(video, target)
    return time.perf_counter() - start


def measure(cases: int, rounds: int) -> dict[str, object]:
    bench = load_benchmark("mini", lengths=[25])
    videos = []
    for case in list(bench)[:cases]:
        frames = case.load_frames(torch.uint8)
        assert frames is not None
        videos.append((frames.flip(0).contiguous(), frames))  # a video that moves back
    enter, leave = kernels._enter, kernels._leave
    baseline, dispatched = [], []
    for _ in range(rounds):
        baseline.append(_score(videos))
        kernels._enter = kernels._leave = lambda: None  # OpenCV chooses its kernels
        cv2.setUseOptimized(True)
        try:
            dispatched.append(_score(videos))
        finally:
            kernels._enter, kernels._leave = enter, leave
    ratios = [b / d for b, d in zip(baseline, dispatched, strict=True)]
    return {
        "name": "opencv_baseline_vs_dispatched",
        "ratio": round(statistics.median(ratios), 3),
        "per_repeat": [round(r, 3) for r in ratios],
        "detail": {
            "cases": len(videos),
            "baseline_s": [round(s, 2) for s in baseline],
            "dispatched_s": [round(s, 2) for s in dispatched],
            "cpu": cv2.getCPUFeaturesLine(),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(measure(args.cases, args.rounds)))


if __name__ == "__main__":
    main()
