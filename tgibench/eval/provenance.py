"""What a run records about where its numbers came from (written to run.json)."""

from __future__ import annotations

import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

PACKAGES = (
    "tgibench",
    "torch",
    "torchvision",
    "torchmetrics",
    "open_clip_torch",
    "lpips",
    "transformers",
    "diffusers",
    "datasets",
    "numpy",
    "opencv-python-headless",
    "av",
    "decord",
    "pillow",
)


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that can change a score (None if absent)."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_revision() -> str | None:
    """The tgibench source checkout's commit (with '-dirty' if modified), or None."""
    source = Path(__file__).resolve().parents[2]
    try:
        rev = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("-dirty" if dirty else "")


def environment(device: str) -> dict[str, Any]:
    """Python, platform, device, threads, package versions and git revision."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": device,
        "cuda_device": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
        "torch_threads": torch.get_num_threads(),
        "packages": package_versions(),
        "git_revision": git_revision(),
    }


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
