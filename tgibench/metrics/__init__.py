"""TGI-Bench metrics as a library.

- ``tgibench.metrics.functional``: pure functions on (T, C, H, W) videos in [0, 1];
- metric classes (``torchmetrics.Metric``) that accumulate over videos
  (module ``tgibench.metrics._classes``), re-exported here;
- the registry of per-case definitions used by the runner and ``tgibench metrics``, one
  module per pillar (``reconstruction``, ``consistency``, ...).

The classes are imported on first use (PEP 562), so ``import tgibench.metrics`` stays
cheap: they need torchmetrics, which takes seconds to import.

>>> import torch
>>> from torchmetrics import MetricCollection
>>> from tgibench.metrics import PSNR, SSIM
>>> metrics = MetricCollection({"psnr": PSNR(), "ssim": SSIM()})
>>> gt = torch.rand(2, 5, 3, 16, 16)   # a batch of two 5-frame videos
>>> values = metrics(gt, gt)
>>> round(float(values["psnr"])), round(float(values["ssim"]), 3)
(100, 1.0)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tgibench.metrics.registry import METRICS, PILLARS, MetricDef, register_metric, select_metrics
from tgibench.metrics.semantic import register_vqa_scorer

if TYPE_CHECKING:
    from tgibench.metrics.classes import (
        FID,
        FVD,
        LPIPS,
        PSNR,
        SSIM,
        CLIPScore,
        CLIPSIMFrames,
        DescTrajectory,
        Flicker,
        KeyframeAdherence,
        LPIPSFrames,
        PaceStability,
        WarpingError,
        XCLIPScore,
    )

__all__ = [
    "FID",
    "FVD",
    "LPIPS",
    "METRICS",
    "PILLARS",
    "PSNR",
    "SSIM",
    "CLIPSIMFrames",
    "CLIPScore",
    "DescTrajectory",
    "Flicker",
    "KeyframeAdherence",
    "LPIPSFrames",
    "MetricDef",
    "PaceStability",
    "WarpingError",
    "XCLIPScore",
    "register_metric",
    "register_vqa_scorer",
    "select_metrics",
]


def __getattr__(name: str) -> Any:
    """A metric class of ``__all__``, imported from ``tgibench.metrics._classes`` on first use."""
    if name in __all__:
        value = getattr(importlib.import_module(f"{__name__}._classes"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
