"""Video decode throughput: decord against PyAV on the same lossless mp4 files."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from tgibench.video import read_video, write_video


def _time_reader(path: Path, backend: str, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        read_video(path, backend=backend)
        best = min(best, time.perf_counter() - start)
    return best


def measure_decode(quick: bool) -> dict[str, Any]:
    """Frames per second of each reader on synthetic lossless videos; ratio = decord / pyav time."""
    shapes = (
        [(33, 256, 256), (33, 480, 832)]
        if quick
        else [(25, 256, 256), (33, 480, 832), (81, 480, 832)]
    )
    repeats = 2 if quick else 4
    detail: dict[str, Any] = {}
    ratios = []
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
            seconds = {b: _time_reader(path, b, repeats) for b in ("decord", "pyav")}
            key = f"{frames}x{height}x{width}"
            detail[key] = {f"{b}_fps": round(frames / s, 1) for b, s in seconds.items()}
            ratios.append(seconds["decord"] / seconds["pyav"])
    faster = "pyav" if sum(ratios) / len(ratios) > 1 else "decord"
    detail["faster"] = faster
    return {
        "name": "decode_decord_vs_pyav",
        "ratio": round(sum(ratios) / len(ratios), 3),
        "goal": None,
        "detail": detail,
    }
