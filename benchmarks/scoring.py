"""Cost of scoring: shared features against metric-by-metric, the suite against its floor,
and peak memory against the size of the video.

The suite is every per-case default metric that runs offline: reconstruction (PSNR, SSIM,
LPIPS), consistency (LPIPS-frames, CLIPSIM-frames, warping error, flicker, keyframe
adherence), semantic (CLIP score, description trajectory) and pace stability. CLIP is
ViT-B-32 with random weights (``pretrained="random"``): the same computation as the real
weights, which are not reachable here. X-CLIP (8 frames, no offline weights) and the
run-level FID/FVD are left out.

Videos are realistic content (scikit-image's astronaut panned at two speeds, so flow has
real texture to track) saved as lossless mp4, and every timing starts from the files.
"""

from __future__ import annotations

import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from tgibench.eval.scoring import score_video
from tgibench.features.backbones import Backbones
from tgibench.features.motion import MAX_SIDE
from tgibench.features.store import ScoringInputs
from tgibench.metrics.registry import MetricDef, select_metrics
from tgibench.video import read_video, to_float, write_video
from tgibench.video.flow import dis_flow

#: Backbone options of the benchmark: CLIP at its real size with random weights.
BACKBONE_OPTIONS: dict[str, dict[str, Any]] = {"clip": {"pretrained": "random"}}
OFFLINE_BACKBONES = {"lpips-alex", "clip"}
#: Interleaved rounds of each timing, by ``quick``: a ratio is the median of its rounds'.
REPEATS = {True: 3, False: 2}
CAPTION = "The camera pans across an astronaut in a spacesuit."
FIRST_DESC, LAST_DESC = "An American flag beside an astronaut.", "A model space shuttle."


def suite_metrics() -> list[MetricDef]:
    """The per-case default metrics whose weights are available offline (module docstring)."""
    return [
        m for m in select_metrics() if not m.run_level and set(m.backbones) <= OFFLINE_BACKBONES
    ]


def _pan(frames: int, height: int, width: int, speed: float) -> torch.Tensor:
    """(frames, 3, H, W) float video: the astronaut photograph panned by ``speed`` px/frame."""
    from skimage import data

    photo = torch.from_numpy(data.astronaut()).permute(2, 0, 1).float()[None] / 255
    scale = max(height / 512, (width + speed * frames) / 512) * 1.05
    big = F.interpolate(photo, scale_factor=scale, mode="bilinear", antialias=True)[0]
    x0 = [round(speed * t) for t in range(frames)]
    return torch.stack([big[:, :height, x : x + width] for x in x0]).clamp(0, 1)


def make_videos(folder: Path, frames: int, height: int, width: int) -> tuple[Path, Path]:
    """Write a generated video and its ground truth (lossless mp4); return both paths."""
    video, target = folder / "video.mp4", folder / "target.mp4"
    write_video(video, _pan(frames, height, width, speed=3.0))
    write_video(target, _pan(frames, height, width, speed=2.5))
    return video, target


def _inputs(video_path: Path, target_path: Path | None) -> ScoringInputs:
    video = read_video(video_path, dtype=torch.uint8)
    target = read_video(target_path, dtype=torch.uint8) if target_path else None
    keyframes = target if target is not None else video
    return ScoringInputs(
        video=video,
        target=target,
        first=to_float(keyframes[0]),
        last=to_float(keyframes[-1]),
        caption=CAPTION,
        first_desc=FIRST_DESC,
        last_desc=LAST_DESC,
    )


def backbones() -> Backbones:
    """Backbones with the benchmark's options, every network loaded (warm)."""
    nets = Backbones("cpu", BACKBONE_OPTIONS)
    for name in sorted(OFFLINE_BACKBONES):
        nets.get(name)
    return nets


def time_suite(paths: tuple[Path, Path], nets: Backbones, metrics: list[MetricDef]) -> float:
    """Seconds to decode both files once and score every metric through one feature store."""
    start = time.perf_counter()
    scores = score_video(_inputs(*paths), metrics, nets)
    elapsed = time.perf_counter() - start
    missing = {k: v for k, v in scores.unavailable.items() if k in {m.name for m in metrics}}
    if missing:
        raise RuntimeError(f"benchmark suite incomplete: {missing}")
    return elapsed


def time_suite_cold(paths: tuple[Path, Path], nets: Backbones, metrics: list[MetricDef]) -> float:
    """:func:`time_suite` with an empty feature cache: the ground truth's motion computed
    too, as for the first model scored on a benchmark."""
    previous = os.environ.get("TGIBENCH_CACHE")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["TGIBENCH_CACHE"] = cache
        try:
            return time_suite(paths, nets, metrics)
        finally:
            if previous is None:
                del os.environ["TGIBENCH_CACHE"]
            else:
                os.environ["TGIBENCH_CACHE"] = previous


def time_separately(paths: tuple[Path, Path], nets: Backbones, metrics: list[MetricDef]) -> float:
    """Seconds to score each metric on its own: decoding and computing its features itself."""
    start = time.perf_counter()
    for metric in metrics:
        score_video(_inputs(*paths), [metric], nets)
    return time.perf_counter() - start


def time_floor(paths: tuple[Path, Path], nets: Backbones) -> float:
    """Seconds of the unavoidable work: decode both files once, one forward pass of each
    distinct backbone over the frames it must see (LPIPS: video, ground truth and the two
    keyframes; CLIP: video frames and three texts), one optical flow per adjacent pair."""
    start = time.perf_counter()
    floor_passes(_inputs(*paths), nets, [CAPTION, FIRST_DESC, LAST_DESC])
    return time.perf_counter() - start


@torch.no_grad()
def floor_passes(inputs: ScoringInputs, nets: Backbones, texts: list[str] | None) -> None:
    """The floor's computations on decoded inputs: LPIPS features of the video, the ground
    truth and the two keyframes; CLIP embeddings of the video's frames and of ``texts``
    (None: no CLIP); one DIS flow per adjacent pair of the video's frames, in luma at most
    :data:`~tgibench.features.motion.MAX_SIDE` pixels on the long side, as the metrics
    measure motion."""
    lpips_net = nets.get("lpips-alex")
    for frames in (inputs.video, inputs.target):
        assert frames is not None
        for chunk in frames.split(8):
            lpips_net.features(to_float(chunk))
    assert inputs.first is not None and inputs.last is not None
    lpips_net.features(torch.stack([inputs.first, inputs.last]))
    if texts is not None:
        clip_net = nets.get("clip")
        clip_net.encode_images(inputs.video)
        clip_net.encode_texts(texts)
    height, width = inputs.video.shape[-2:]
    scale = min(1.0, MAX_SIDE / max(height, width))
    size = (round(width * scale), round(height * scale))
    gray = [_gray(frame, size) for frame in inputs.video]
    for a, b in itertools.pairwise(gray):
        dis_flow(a, b)


def _gray(frame: torch.Tensor, size: tuple[int, int]) -> Any:
    import cv2

    rgb = frame.permute(1, 2, 0).numpy()
    if size != (rgb.shape[1], rgb.shape[0]):
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def interleaved(runs: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Seconds of each callable in each of ``repeats`` rounds, the callables alternating
    within a round (so that a ratio of two of them is taken under the same load).

    Each starts with the disk's pending writes flushed (``os.sync``): otherwise the videos
    and caches that the previous one wrote are written back during the next one's time.
    (evaluate_vs_floor at --quick, four runs without the flush: the first timed
    ``tgibench evaluate``, just after the untimed run, 8.2-10.9 s, the later rounds
    7.6-9.0 s; three runs with it: 7.3-7.9 s and 7.4-8.7 s.)"""
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            if hasattr(os, "sync"):  # not on Windows
                os.sync()
            seconds[name].append(run())
    return seconds


def ratios(numerator: list[float], denominator: list[float]) -> list[float]:
    """Round-by-round ratios of two :func:`interleaved` series, rounded to 0.001."""
    return [round(n / d, 3) for n, d in zip(numerator, denominator, strict=True)]


def measure_scoring(quick: bool) -> list[dict[str, Any]]:
    """shared_features_speedup and suite_vs_floor on one or more video shapes.

    The ratios are the steady state of a benchmark run: the ground truth's motion is in the
    feature cache (it is computed once per case, for the first model); ``suite_cold``
    in the detail is the first model's cost. Each shape is measured in :data:`REPEATS`
    interleaved rounds; a ratio is the median of its rounds' ratios (``per_repeat``: the
    largest over the shapes, whose rounds are listed).
    """
    shapes = [(25, 256, 256)] if quick else [(25, 256, 256), (81, 256, 256), (81, 480, 832)]
    repeats = REPEATS[quick]
    metrics = suite_metrics()
    nets = backbones()
    seconds, speedups, floors, cold_floors = {}, {}, {}, {}
    user_cache = os.environ.get("TGIBENCH_CACHE")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TGIBENCH_CACHE"] = str(Path(tmp) / "cache")  # leave the user's alone
        for frames, height, width in shapes:
            folder = Path(tmp) / f"{frames}x{height}x{width}"
            folder.mkdir()
            paths = make_videos(folder, frames, height, width)
            time_suite(paths, nets, metrics)  # warm caches (first-call allocations)
            timed = interleaved(
                {
                    "suite": lambda p=paths: time_suite(p, nets, metrics),
                    "suite_cold": lambda p=paths: time_suite_cold(p, nets, metrics),
                    "separately": lambda p=paths: time_separately(p, nets, metrics),
                    "floor": lambda p=paths: time_floor(p, nets),
                },
                repeats,
            )
            key = f"{frames}x{height}x{width}"
            seconds[key] = {k: [round(v, 2) for v in vs] for k, vs in timed.items()}
            speedups[key] = ratios(timed["separately"], timed["suite"])
            floors[key] = ratios(timed["suite"], timed["floor"])
            cold_floors[key] = ratios(timed["suite_cold"], timed["floor"])
    if user_cache is None:
        os.environ.pop("TGIBENCH_CACHE")
    else:
        os.environ["TGIBENCH_CACHE"] = user_cache
    worst_speedup = min(speedups, key=lambda k: statistics.median(speedups[k]))
    worst_floor = max(floors, key=lambda k: statistics.median(floors[k]))
    median = {k: statistics.median(v) for k, v in floors.items()}
    return [
        {
            "name": "shared_features_speedup",
            "ratio": statistics.median(speedups[worst_speedup]),
            "goal": 2.0,
            "per_repeat": speedups[worst_speedup],
            "detail": {
                "metrics": [m.name for m in metrics],
                "by_shape": {k: statistics.median(v) for k, v in speedups.items()},
                "seconds": seconds,
            },
        },
        {
            "name": "suite_vs_floor",
            "ratio": median[worst_floor],
            "goal": 1.2,
            "per_repeat": floors[worst_floor],
            "detail": {
                "by_shape": median,
                "per_repeat_by_shape": floors,
                "by_shape_first_model": {k: statistics.median(v) for k, v in cold_floors.items()},
            },
        },
    ]


# ---------------------------------------------------------------------------- peak memory


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def peak_memory_child(video_path: str, target_path: str, height: int, width: int) -> None:
    """Run in a fresh process: load the backbones and score a 5-frame video of the same
    size (steady state: the convolution buffers and allocator pools of that size exist, as
    after a run's first case), reset the peak RSS, score the files (``target_path`` "" for
    none), print the extra peak bytes (peak RSS minus RSS before reading the files)."""
    metrics = suite_metrics()
    nets = backbones()
    with tempfile.TemporaryDirectory() as tmp:
        time_suite(make_videos(Path(tmp), 5, height, width), nets, metrics)
    if not target_path:
        metrics = [m for m in metrics if "target" not in m.needs]
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = _status_kib("VmRSS")
    inputs = _inputs(Path(video_path), Path(target_path) if target_path else None)
    score_video(inputs, metrics, nets)
    print((_status_kib("VmHWM") - before) * 1024)


#: glibc allocator settings of the children that measure peak memory. Freed memory stays
#: in glibc's arenas and the threshold above which blocks are mapped apart (and returned at
#: once) moves with what was freed before, so resident memory measured the allocator's
#: history as much as the scoring (repeats of one child varied from 332 to 940 MiB). Two
#: arenas and a fixed 1 MiB threshold make it measure what the scoring holds at its peak.
ALLOCATOR_ENV = {"MALLOC_ARENA_MAX": "2", "MALLOC_MMAP_THRESHOLD_": str(1 << 20)}
#: Fresh children per measurement, by ``quick``: the ratio is their median.
MEMORY_REPEATS = {True: 3, False: 3}


def _peak_extra_bytes(video: Path, target: Path | None, height: int, width: int) -> int:
    code = (
        "import benchmarks.scoring as s; "
        f"s.peak_memory_child({str(video)!r}, {str(target or '')!r}, {height}, {width})"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
        env={
            **os.environ,
            **ALLOCATOR_ENV,
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2"),
            "TGIBENCH_CACHE": str(video.parent / "cache"),
        },
    )
    return int(out.stdout.strip().splitlines()[-1])


def measure_peak_memory(quick: bool) -> dict[str, Any]:
    """Peak memory beyond the loaded weights while scoring an 81x480x832 video with its
    ground truth (the ratio) and without it, over the size of that video as uint8: the
    median of :data:`MEMORY_REPEATS` fresh children (:data:`ALLOCATOR_ENV`)."""
    frames, height, width = (25, 256, 448) if quick else (81, 480, 832)
    video_bytes = frames * 3 * height * width
    repeats = MEMORY_REPEATS[quick]
    with tempfile.TemporaryDirectory() as tmp:
        video, target = make_videos(Path(tmp), frames, height, width)
        with_target = [_peak_extra_bytes(video, target, height, width) for _ in range(repeats)]
        without_target = None if quick else _peak_extra_bytes(video, None, height, width)
    per_repeat = [round(b / video_bytes, 3) for b in with_target]
    return {
        "name": "peak_memory_vs_video",
        "ratio": statistics.median(per_repeat),
        "goal": 3.0,
        "per_repeat": per_repeat,
        "detail": {
            "video": f"{frames}x{height}x{width} uint8, {video_bytes / 2**20:.0f} MiB",
            "peak_extra_mib_with_ground_truth": [round(b / 2**20) for b in with_target],
            "ratio_without_ground_truth": (
                None if without_target is None else round(without_target / video_bytes, 2)
            ),
            "allocator": ALLOCATOR_ENV,
            "includes": "the decoded uint8 video (and ground truth) and every feature pass",
        },
    }
