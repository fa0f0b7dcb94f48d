"""Video decode throughput: decord against PyAV on the same lossless mp4 files."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from tgibench.video import read_video, write_video


def _time_reader(path: Path, backend: str) -> float:
    start = time.perf_counter()
    read_video(path, backend=backend)
    return time.perf_counter() - start


def measure_decode(quick: bool) -> dict[str, Any]:
    """Frames per second of each reader on synthetic lossless videos; ratio = decord / pyav
    time (per repeat: the mean over the shapes of one round of both readers, alternating;
    the ratio is the median of the repeats; frames per second are the best round's)."""
    shapes = (
        [(33, 256, 256), (33, 480, 832)]
        if quick
        else [(25, 256, 256), (33, 480, 832), (81, 480, 832)]
    )
    repeats = 2 if quick else 4
    detail: dict[str, Any] = {}
    ratios: list[list[float]] = []  # per shape, per repeat
    with tempfile.TemporaryDirectory() as tmp:
        for frames, height, width in shapes:
            gen = torch.Generator().manual_seed(0)
            smooth = torch.nn.functional.interpolate(
                torch.rand(frames, 3, height // 8, width // 8, generator=gen),
                size=(height, width),
                mode="bilinear",
            )
            path = Path(tmp) / f"{frames}x{height}x{width}.mp4"
            write_video(path, smooth)
            rounds = [
                {b: _time_reader(path, b) for b in ("decord", "pyav")} for _ in range(repeats)
            ]
            key = f"{frames}x{height}x{width}"
            detail[key] = {
                f"{b}_fps": round(frames / min(r[b] for r in rounds), 1) for b in rounds[0]
            }
            ratios.append([r["decord"] / r["pyav"] for r in rounds])
    per_repeat = [round(sum(shape) / len(shape), 3) for shape in zip(*ratios, strict=True)]
    ratio = statistics.median(per_repeat)
    detail["faster"] = "pyav" if ratio > 1 else "decord"
    return {
        "name": "decode_decord_vs_pyav",
        "ratio": ratio,
        "goal": None,
        "per_repeat": per_repeat,
        "detail": detail,
    }
