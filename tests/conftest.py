"""Shared fixtures: a small benchmark in TGI-Bench layout, built per test session."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import settings
from PIL import Image

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# TGI-Bench's cache (converted weights, ground-truth features) in one temporary folder per
# test session, never the user's; tests that count computations use their own empty one.
os.environ["TGIBENCH_CACHE"] = tempfile.mkdtemp(prefix="tgibench-test-cache-")
# One thread per test process: `make test` runs two xdist workers on 2 cores, and torch's
# OpenMP threads slow down ~20x when more of them than cores compete.
torch.set_num_threads(1)
# Property tests draw fresh examples locally (where a failure is something to look into) and
# the same examples in CI (CI=true), so that main's CI verdict does not depend on a draw.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


def write_tgi_layout(
    root: Path, folders: dict[str, int], records: dict[int, list[dict]], size=(32, 48)
) -> Path:
    """Write ``folders`` (name → frame count) of moving-gradient JPEGs and caption files."""
    frames_dir = root / "TGI-Dataset"
    h, w = size
    rng = np.random.default_rng(0)
    base = (rng.random((h, w * 2, 3)) * 255).astype(np.uint8)
    for name, count in folders.items():
        (frames_dir / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            Image.fromarray(base[:, i : i + w]).save(frames_dir / name / f"{i:05d}.jpg", quality=95)
    for n, entries in records.items():
        (root / f"{n}_dataset_caption.json").write_text(json.dumps(entries))
    return root


def record(folder: str, challenge: str = "Large motion") -> dict:
    return {
        "folder": folder,
        "first_image_desc": f"first frame of {folder}",
        "last_image_desc": f"last frame of {folder}",
        "challenge": challenge,
        "caption": f"A camera pans over {folder}.",
    }


@pytest.fixture
def tgi_root(tmp_path: Path) -> Path:
    """A valid layout: three folders, lengths 25 and 33, four challenge spellings."""
    folders = {"aerobatics": 33, "bmx-trees": 33, "car-turn": 25}
    records = {
        25: [
            record("aerobatics"),
            record("bmx-trees", "linear motion"),
            record("car-turn", "Occlusion"),
        ],
        33: [record("aerobatics", "near static"), record("bmx-trees", "Dynamic")],
    }
    return write_tgi_layout(tmp_path / "bench", folders, records)


def natural_pan(num_frames: int = 9, shift_px: float = 12.0, size=(96, 128)) -> torch.Tensor:
    """A real photograph (scikit-image's astronaut) panned left by ``shift_px`` over the clip.

    Returns (num_frames, 3, H, W) float32 in [0, 1], on the 8-bit grid (k/255) as a decoded
    video is, so that scoring it as uint8 or as float gives the same values; the ground
    truth of a linear pan.
    """
    from skimage.data import astronaut

    image = torch.from_numpy(astronaut()).permute(2, 0, 1).float().div(255)
    image = torch.nn.functional.interpolate(image[None], scale_factor=0.5, mode="area")[
        0
    ]  # 256x256
    top, left = 30, 20
    frames = []
    for i in range(num_frames):
        x = left + shift_px * i / (num_frames - 1)
        x0 = int(np.floor(x))
        frac = x - x0
        left_crop = image[:, top : top + size[0], x0 : x0 + size[1]]
        right_crop = image[:, top : top + size[0], x0 + 1 : x0 + 1 + size[1]]
        frames.append((1 - frac) * left_crop + frac * right_crop)
    return torch.stack(frames).clamp(0, 1).mul(255).round().div(255)  # 8-bit, as videos are
