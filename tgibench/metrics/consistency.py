"""Frame-consistency pillar: how coherently a generated video goes from frame to frame.

Per-case definitions and metric classes; the maths is in
``tgibench.metrics.functional.consistency``. Warping error and flicker read the shared
``motion`` feature (one optical-flow pass per video), keyframe adherence the ``lpips``
feature's distances to the given keyframes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from tgibench.features.store import FeatureStore
from tgibench.metrics.functional.consistency import (
    flicker,
    flicker_values,
    keyframe_adherence,
    lpips_frames,
    warping_error,
)
from tgibench.metrics.registry import lazy_metric_classes, register_metric

if TYPE_CHECKING:
    from torchmetrics import Metric


@register_metric(
    "lpips_frames",
    pillar="consistency",
    higher_is_better=False,
    value_range=(0.0, 1.0),
    features=("lpips",),
)
def _lpips_frames(store: FeatureStore) -> float:
    """Mean LPIPS between adjacent generated frames (the paper's LPIPS-frames)."""
    return float(store["lpips"].adjacent.mean())


@register_metric(
    "warping_error",
    pillar="consistency",
    higher_is_better=False,
    value_range=(0.0, 1.0),
    features=("motion",),
    version=2,  # 2: DIS flow (1: Farneback)
)
def _warping_error(store: FeatureStore) -> float:
    """Occlusion-masked flow warping error of adjacent frames (EvalCrafter-style)."""
    return float(store["motion"].warp_error.mean())


@register_metric(
    "flicker",
    pillar="consistency",
    higher_is_better=False,
    value_range=(0.0, 1.0),
    features=("motion",),
    version=2,  # 2: DIS flow (1: Farneback)
)
def _flicker(store: FeatureStore) -> float:
    """Back-and-forth brightness change that motion does not explain (temporal flicker)."""
    return float(flicker_values(store["motion"]).mean())


@register_metric(
    "keyframe_adherence",
    pillar="consistency",
    higher_is_better=False,
    value_range=(0.0, 1.0),
    needs=("keyframes",),
    features=("lpips",),
)
def _keyframe_adherence(store: FeatureStore) -> float:
    """Mean LPIPS of generated frames 0 and T-1 to the given keyframes."""
    return float(store["lpips"].to_keyframes.mean())


def _classes() -> list[type[Metric]]:
    """The pillar's metric classes (torchmetrics: built on first access, see below)."""
    from tgibench.metrics._base import MeanOverVideos, WithLPIPSNet

    class LPIPSFrames(WithLPIPSNet, metric="lpips_frames"):
        """Mean adjacent-frame LPIPS (the paper's LPIPS-frames), lower is better."""

        function = staticmethod(lpips_frames)
        needs_target = False

    class WarpingError(MeanOverVideos, metric="warping_error"):
        """Mean flow warping error, lower is better, range [0, 1]: ``update(video)``."""

        function = staticmethod(warping_error)
        needs_target = False

    class Flicker(MeanOverVideos, metric="flicker"):
        """Mean motion-compensated temporal flicker, lower is better, range [0, 1]: ``update(video)``."""

        function = staticmethod(flicker)
        needs_target = False

    class KeyframeAdherence(WithLPIPSNet, metric="keyframe_adherence"):
        """Mean LPIPS of end frames to the given keyframes, lower is better.

        ``update(video, keyframes)`` with ``keyframes`` (2, 3, H, W) = (first, last), or a
        batch (B, T, 3, H, W) with (B, 2, 3, H, W).
        """

        function = staticmethod(keyframe_adherence)

        def update(self, video: torch.Tensor, keyframes: torch.Tensor | None = None) -> None:
            """Add one video (or a batch) with its given keyframes."""
            if keyframes is None:
                raise ValueError(
                    "KeyframeAdherence needs the given keyframes: update(video, keyframes)"
                )
            super().update(video, keyframes)

    return [LPIPSFrames, WarpingError, Flicker, KeyframeAdherence]


#: ``LPIPSFrames``, ``WarpingError``, ``Flicker`` and ``KeyframeAdherence``, built when first imported (lazy_metric_classes).
__getattr__ = lazy_metric_classes(__name__, _classes)
