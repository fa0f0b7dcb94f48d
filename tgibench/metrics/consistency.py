"""Frame-consistency pillar: how coherently a generated video goes from frame to frame.

Per-case definitions (the metric classes are in ``tgibench.metrics._classes``); the maths is in
``tgibench.metrics.functional.consistency``. Warping error and flicker read the shared
``motion`` feature (one optical-flow pass per video), keyframe adherence the ``lpips``
feature's distances to the given keyframes.
"""

from __future__ import annotations

from functools import partial

from tgibench.features.store import FeatureStore
from tgibench.metrics.functional.consistency import (
    flicker_values,
)
from tgibench.metrics.registry import register_metric

#: register_metric with what the metrics declared by it below have in common.
_distance = partial(
    register_metric, pillar="consistency", higher_is_better=False, value_range=(0.0, 1.0)
)


@_distance("lpips_frames", features=("lpips",))
def _lpips_frames(store: FeatureStore) -> float:
    """Mean LPIPS between adjacent generated frames (the paper's LPIPS-frames)."""
    return float(store["lpips"].adjacent.mean())


# version 3: OpenCV at its baseline kernels, the same on every CPU (2: DIS flow; 1: Farneback)
@_distance("warping_error", features=("motion",), version=3)
def _warping_error(store: FeatureStore) -> float:
    """Occlusion-masked flow warping error of adjacent frames (EvalCrafter-style)."""
    return float(store["motion"].warp_error.mean())


# version 3: OpenCV at its baseline kernels, the same on every CPU (2: DIS flow; 1: Farneback)
@_distance("flicker", features=("motion",), version=3)
def _flicker(store: FeatureStore) -> float:
    """Back-and-forth brightness change that motion does not explain (temporal flicker)."""
    return float(flicker_values(store["motion"]).mean())


@_distance("keyframe_adherence", needs=("keyframes",), features=("lpips",))
def _keyframe_adherence(store: FeatureStore) -> float:
    """Mean LPIPS of generated frames 0 and T-1 to the given keyframes."""
    return float(store["lpips"].to_keyframes.mean())
