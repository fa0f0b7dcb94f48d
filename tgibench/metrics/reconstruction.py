"""Reconstruction pillar: PSNR, SSIM and LPIPS of the in-between frames to ground truth.

Per-case definitions (read by the runner from shared features); the metric classes that
accumulate over videos are in ``tgibench.metrics._classes``; the maths is in ``tgibench.metrics.functional.reconstruction``.
"""

from __future__ import annotations

from functools import partial

import torch

from tgibench.features.store import FeatureStore
from tgibench.metrics.functional.reconstruction import psnr, ssim
from tgibench.metrics.registry import register_metric

#: register_metric with what the metrics declared by it below have in common.


def _video_and_target(store: FeatureStore) -> tuple[torch.Tensor, torch.Tensor]:
    inputs = store.inputs
    if inputs.target is None:
        raise ValueError("this metric needs the ground-truth video")
    return inputs.video, inputs.target


#: What every reconstruction metric declares: its pillar and that it needs the ground truth.
_vs_truth = partial(register_metric, pillar="reconstruction", needs=("target",))


@_vs_truth("psnr", higher_is_better=True, value_range=(0.0, 100.0))
def _psnr(store: FeatureStore) -> float:
    """PSNR (dB) of in-between frames against ground truth."""
    return float(psnr(*_video_and_target(store)))


@_vs_truth("ssim", higher_is_better=True, value_range=(-1.0, 1.0))
def _ssim(store: FeatureStore) -> float:
    """SSIM (Gaussian 11, sigma 1.5) of in-between frames against ground truth."""
    return float(ssim(*_video_and_target(store)))


@_vs_truth("lpips", higher_is_better=False, value_range=(0.0, 1.0), features=("lpips",))
def _lpips(store: FeatureStore) -> float:
    """LPIPS (AlexNet) of in-between frames against ground truth."""
    return float(store["lpips"].to_target[1:-1].mean())
