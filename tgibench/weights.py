"""Where model weights come from, and the one error raised when they are absent.

Every backbone (LPIPS nets, CLIP, X-CLIP, Inception, I3D, Wan) is loaded by real code that
takes a hub id or a local path and honours ``HF_HUB_OFFLINE`` / ``HF_HOME``. When weights
cannot be found, loaders raise :class:`WeightsUnavailableError`, whose message names the
weights and how to provide them; the runner then records the metric or model as
unavailable for the run instead of producing a number.
"""

from __future__ import annotations

import os
from pathlib import Path


class WeightsUnavailableError(RuntimeError):
    """Weights needed by a model or metric are not available on this machine.

    Args:
        weights: what is missing, e.g. ``"LPIPS AlexNet"`` or a hub id.
        how: how to provide them (an option, an environment variable, a download command).
    """

    def __init__(self, weights: str, how: str) -> None:
        self.weights = weights
        self.how = how
        super().__init__(f"weights unavailable: {weights}. {how}")


def cache_dir() -> Path:
    """TGI-Bench's cache for converted weights: ``$TGIBENCH_CACHE`` or ~/.cache/tgibench."""
    root = os.environ.get("TGIBENCH_CACHE") or Path.home() / ".cache" / "tgibench"
    return Path(root)


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` asks the Hugging Face libraries not to use the network."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
