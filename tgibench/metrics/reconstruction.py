"""Reconstruction pillar: PSNR, SSIM and LPIPS of the in-between frames to ground truth.

Per-case definitions (read by the runner from shared features) and metric classes
(accumulating over videos); the maths is in ``tgibench.metrics.functional.reconstruction``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from tgibench.features.store import FeatureStore
from tgibench.metrics.functional.reconstruction import lpips, psnr, ssim
from tgibench.metrics.registry import lazy_metric_classes, register_metric

if TYPE_CHECKING:
    from torchmetrics import Metric


def _video_and_target(store: FeatureStore) -> tuple[torch.Tensor, torch.Tensor]:
    inputs = store.inputs
    if inputs.target is None:
        raise ValueError("this metric needs the ground-truth video")
    return inputs.video, inputs.target


@register_metric(
    "psnr",
    pillar="reconstruction",
    higher_is_better=True,
    value_range=(0.0, 100.0),
    needs=("target",),
)
def _psnr(store: FeatureStore) -> float:
    """PSNR (dB) of in-between frames against ground truth."""
    return float(psnr(*_video_and_target(store)))


@register_metric(
    "ssim",
    pillar="reconstruction",
    higher_is_better=True,
    value_range=(-1.0, 1.0),
    needs=("target",),
)
def _ssim(store: FeatureStore) -> float:
    """SSIM (Gaussian 11, sigma 1.5) of in-between frames against ground truth."""
    return float(ssim(*_video_and_target(store)))


@register_metric(
    "lpips",
    pillar="reconstruction",
    higher_is_better=False,
    value_range=(0.0, 1.0),
    needs=("target",),
    features=("lpips",),
)
def _lpips(store: FeatureStore) -> float:
    """LPIPS (AlexNet) of in-between frames against ground truth."""
    return float(store["lpips"].to_target[1:-1].mean())


def _classes() -> list[type[Metric]]:
    """The pillar's metric classes (torchmetrics: built on first access, see below)."""
    from tgibench.metrics._base import MeanOverVideos, WithLPIPSNet

    class PSNR(MeanOverVideos, metric="psnr"):
        """Mean PSNR (dB) of in-between frames, higher is better; see ``functional.psnr``."""

        function = staticmethod(psnr)

    class SSIM(MeanOverVideos, metric="ssim"):
        """Mean SSIM of in-between frames, higher is better; see ``functional.ssim``."""

        function = staticmethod(ssim)

    class LPIPS(WithLPIPSNet, metric="lpips"):
        """Mean LPIPS of in-between frames to ground truth, lower is better."""

        function = staticmethod(lpips)

    return [PSNR, SSIM, LPIPS]


#: ``PSNR``, ``SSIM`` and ``LPIPS``, built when first imported (lazy_metric_classes).
__getattr__ = lazy_metric_classes(__name__, _classes)
