"""TGI-Bench metrics as a library.

- ``tgibench.metrics.functional``: pure functions on (T, C, H, W) videos in [0, 1];
- metric classes (``torchmetrics.Metric``) that accumulate over videos, one module per
  pillar (``reconstruction``, ``consistency``, ...), re-exported here;
- the registry of per-case definitions used by the runner and ``tgibench metrics``.

>>> import torch
>>> from torchmetrics import MetricCollection
>>> metrics = MetricCollection({"psnr": PSNR(), "ssim": SSIM()})
>>> gt = torch.rand(2, 5, 3, 16, 16)   # a batch of two 5-frame videos
>>> values = metrics(gt, gt)
>>> round(float(values["psnr"])), round(float(values["ssim"]), 3)
(100, 1.0)
"""

from tgibench.metrics.consistency import Flicker, KeyframeAdherence, LPIPSFrames, WarpingError
from tgibench.metrics.distribution import FID, FVD
from tgibench.metrics.pace import PaceStability
from tgibench.metrics.reconstruction import LPIPS, PSNR, SSIM
from tgibench.metrics.registry import METRICS, PILLARS, MetricDef, register_metric, select_metrics
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
