"""A complete generation script for TGI-Bench cases, in its own environment (no tgibench).

It reads a cases.jsonl (from `tgibench data export`, or the one a `batch:` model passes),
makes each case's video and writes it to the case's `video` path. Replace `inbetween`
with your model; load the model once, before the loop.

    python batch_crossfade.py --cases EXPORT_DIR/cases.jsonl
    tgibench evaluate --model 'batch:cmd="python batch_crossfade.py --cases {cases}"' ...

Needs numpy, Pillow and PyAV (pip install numpy pillow av).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import av
import numpy as np
from PIL import Image


def inbetween(first: np.ndarray, last: np.ndarray, prompt: str, num_frames: int) -> np.ndarray:
    """The model: (num_frames, H, W, 3) uint8 from two (H, W, 3) uint8 keyframes.
    Here a crossfade: frame k is (1 - t) * first + t * last with t = k / (num_frames - 1)."""
    t = np.linspace(0.0, 1.0, num_frames, dtype=np.float32)[:, None, None, None]
    a, b = first.astype(np.float32) / 255, last.astype(np.float32) / 255
    video = (1 - t) * a + t * b
    return np.round(np.clip(video, 0, 1) * 255).astype(np.uint8)


def write_mp4(path: Path, frames: np.ndarray, fps: int = 8) -> None:
    """Write (T, H, W, 3) uint8 frames as a lossless mp4, under a temporary name first and
    renamed when complete (tgibench reads a video once it has its final name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with av.open(str(partial), "w", format="mp4") as container:
        stream = container.add_stream("libx264rgb", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "rgb24"
        stream.options = {"crf": "0"}  # lossless
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    os.replace(partial, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=Path, required=True, help="a cases.jsonl")
    args = parser.parse_args()
    root = args.cases.parent  # paths in an export are relative to its folder
    for line in args.cases.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        first = np.asarray(Image.open(root / case["first"]).convert("RGB"))
        last = np.asarray(Image.open(root / case["last"]).convert("RGB"))
        video = inbetween(first, last, case["caption"], case["num_frames"])
        write_mp4(root / case["video"], video)
        print(f"{case['case_id']}: {video.shape[0]} frames", flush=True)


if __name__ == "__main__":
    main()
