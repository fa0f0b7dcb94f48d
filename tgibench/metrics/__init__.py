"""TGI-Bench metrics as a library.

- ``tgibench.metrics.functional``: pure functions on (T, C, H, W) videos in [0, 1];
- metric classes (``torchmetrics.Metric``) that accumulate over videos, one module per
  pillar (``reconstruction``, ``consistency``, ...), re-exported here;
- the registry of per-case definitions used by the runner and ``tgibench metrics``.

Names are imported on first use (PEP 562), so ``import tgibench.metrics`` stays cheap and
the metric classes, which need torchmetrics (seconds to import), are built only when one
is asked for.

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

if TYPE_CHECKING:
    from tgibench.metrics.consistency import Flicker, KeyframeAdherence, LPIPSFrames, WarpingError
    from tgibench.metrics.distribution import FID, FVD
    from tgibench.metrics.pace import PaceStability
    from tgibench.metrics.reconstruction import LPIPS, PSNR, SSIM
    from tgibench.metrics.registry import (
        METRICS,
        PILLARS,
        MetricDef,
        register_metric,
        select_metrics,
    )
    from tgibench.metrics.semantic import (
        CLIPScore,
        CLIPSIMFrames,
        DescTrajectory,
        XCLIPScore,
        register_vqa_scorer,
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

#: The modules that hold the names of ``__all__``, searched in this order.
_MODULES = ("registry", "reconstruction", "consistency", "pace", "semantic", "distribution")


def __getattr__(name: str) -> Any:
    if name in __all__:
        for module in _MODULES:
            value = getattr(importlib.import_module(f"{__name__}.{module}"), name, None)
            if value is not None:
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
