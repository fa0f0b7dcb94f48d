"""Controlled pace study on a benchmark's ground truth, and the cost of the motion feature.

    python benchmarks/pace_study.py [--bench mini] [--max-clips N] [--threads N] [--cost]

For every folder of the benchmark, its longest ground-truth clip is re-timed with known
pacings (``tgibench.eval.pace_study``) and scored by pace stability (with and without the
target), its parts and simpler baselines; Kendall's tau against the known severity is
printed as markdown tables (docs/metrics.md holds the numbers).
"""

from __future__ import annotations

import argparse
import time

import torch

from tgibench.data import Case, load_benchmark
from tgibench.eval.pace_study import PACE_SCORES, Badness, StudyRow, kendall_table, study_clip
from tgibench.features.lpips_net import LPIPSNet, lpips_distances
from tgibench.features.motion import motion_stats
from tgibench.models.classical import Flow


def motion_smoothness(video: torch.Tensor, interpolator: Flow) -> float:
    """VBench's motion smoothness protocol with Farneback interpolation in place of AMT-S.

    Each odd frame is predicted from its two neighbours; the score is 1 - mean abs error
    (VBench's ``(255 - MAE) / 255``), higher is smoother.
    """
    errors = [
        float((interpolator.generate(video[k - 1], video[k + 1], "", 3)[1] - video[k]).abs().mean())
        for k in range(1, video.shape[0] - 1, 2)
    ]
    return 1.0 - sum(errors) / len(errors)


def baseline_scores(net: LPIPSNet) -> dict[str, Badness]:
    """Simpler scores to compare with, as badness (higher = worse pace)."""
    interpolator = Flow()
    last: list[tuple[torch.Tensor, torch.Tensor]] = []  # one LPIPS pass per video

    def lpips_steps(video: torch.Tensor) -> torch.Tensor:
        if not last or last[0][0] is not video:
            last[:] = [(video, lpips_distances(net, video).adjacent.double())]
        return last[0][1]

    return {
        "lpips_frames": lambda v, m, t: float(lpips_steps(v).mean()),
        "lpips_step_cv": lambda v, m, t: float(
            lpips_steps(v).std(unbiased=False) / lpips_steps(v).mean().clamp_min(1e-9)
        ),
        "motion_smoothness (VBench proxy)": lambda v, m, t: -motion_smoothness(v, interpolator),
    }


def run_study(bench: str, max_clips: int | None) -> list[StudyRow]:
    """Study every folder's longest ground-truth clip (at most ``max_clips`` clips)."""
    longest: dict[str, Case] = {}
    for case in load_benchmark(bench):
        if not case.frame_paths or case.defect is not None:
            continue
        if case.folder not in longest or case.num_frames > longest[case.folder].num_frames:
            longest[case.folder] = case
    scores = {**PACE_SCORES, **baseline_scores(LPIPSNet("alex"))}
    rows: list[StudyRow] = []
    for i, case in enumerate(list(longest.values())[:max_clips]):
        start = time.perf_counter()
        frames = case.frames
        assert frames is not None
        rows.extend(study_clip(case.folder, case.challenge, frames, scores, seed=i))
        print(f"{case.folder}: {case.num_frames} frames, {time.perf_counter() - start:.1f} s")
    return rows


def print_tables(rows: list[StudyRow]) -> None:
    """Markdown: mean tau and share below uniform per score, overall/family/challenge."""
    scores = list(rows[0].badness)
    tables = {score: kendall_table(rows, score) for score in scores}
    keys = sorted(tables[scores[0]])
    for column in ("tau", "below_uniform"):
        print(f"\n{column}\n\n| score | {' | '.join(keys)} |")
        print("|---" * (len(keys) + 1) + "|")
        for score in scores:
            cells = " | ".join(f"{tables[score][k][column]:.3f}" for k in keys)
            print(f"| {score} | {cells} |")
    print("\n| clip | challenge | pace_stability of the ground truth, no target |\n|---|---|---|")
    for row in rows:
        if row.retiming.family == "uniform":
            print(f"| {row.clip} | {row.challenge} | {-row.badness['pace_stability']:.3f} |")


def measure_cost() -> None:
    """Seconds of one motion pass on a textured pan: 33x160x288 and 81x480x832 frames."""
    for frames, height, width in ((33, 160, 288), (81, 480, 832)):
        gen = torch.Generator().manual_seed(0)
        texture = torch.nn.functional.interpolate(
            torch.rand(1, 3, height // 8, (width + 2 * frames) // 8, generator=gen),
            size=(height, width + 2 * frames),
            mode="bicubic",
        ).clamp(0, 1)[0]
        video = torch.stack([texture[:, :, 2 * t : 2 * t + width] for t in range(frames)])
        motion_stats(video[:3])  # warm-up
        start = time.perf_counter()
        motion_stats(video)
        seconds = time.perf_counter() - start
        print(
            f"motion {frames}x{height}x{width}: {seconds:.2f} s "
            f"({1000 * seconds / (frames - 1):.0f} ms per pair, two flows each)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default="mini")
    parser.add_argument("--max-clips", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--cost", action="store_true", help="only time the motion feature")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.cost:
        measure_cost()
        return
    print_tables(run_study(args.bench, args.max_clips))


if __name__ == "__main__":
    main()
