"""Reconstruction against ground truth: PSNR, SSIM and LPIPS of the in-between frames.

All three compare generated frames 1 .. T-2 with ground-truth frames 1 .. T-2 (the
keyframes are given to the model, so they are excluded) and average per frame.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
import torch

from tgibench.features.lpips_net import LPIPSNet, lpips_distances
from tgibench.metrics.functional._video import Reduction, batched, intermediate_pair, reduce
from tgibench.video import VideoError, to_float
from tgibench.video.opencv_kernels import baseline_kernels

#: PSNR of identical frames is infinite; it is capped here so that means stay finite.
PSNR_MAX_DB = 100.0


@batched
def psnr(video: torch.Tensor, target: torch.Tensor, reduction: Reduction = "mean") -> torch.Tensor:
    """Peak signal-to-noise ratio in dB, higher is better, range [0, 100].

    ``10·log10(1 / MSE)`` per in-between frame of (T, C, H, W) videos in [0, 1], the mean
    over frames (``reduction="mean"``) or one value per frame (``"none"``, shape (T-2,)).
    Identical frames give the cap, 100 dB.

    >>> gt = torch.zeros(4, 3, 8, 8)
    >>> round(float(psnr(gt + 0.1, gt)), 3)
    20.0
    """
    gen, ref = intermediate_pair(video, target)
    mse = torch.stack(
        [
            (to_float(a).double() - to_float(b).double()).pow(2).mean()
            for a, b in zip(gen, ref, strict=True)
        ]
    )  # frame by frame: one float64 frame pair in memory, uint8 videos welcome
    values = (10 * torch.log10(1.0 / mse.clamp_min(10 ** (-PSNR_MAX_DB / 10)))).float()
    return reduce(values, reduction)


#: SSIM's Gaussian window: 11 taps, sigma 1.5 (Wang et al., 2004).
SSIM_WINDOW, SSIM_SIGMA = 11, 1.5


@functools.cache
def _gaussian_taps(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> np.ndarray:
    """(size,) float64 normalised 1-D Gaussian; the 2-D window is its outer product."""
    coords = np.arange(size, dtype=np.float64) - (size - 1) / 2
    taps = np.exp(-(coords**2) / (2 * sigma**2))
    return taps / taps.sum()


@baseline_kernels
def _blur_valid(image: np.ndarray) -> np.ndarray:
    """Separable Gaussian blur of an (H, W) float64 image, valid region only."""
    taps = _gaussian_taps()
    r = (len(taps) - 1) // 2
    return cv2.sepFilter2D(image, cv2.CV_64F, taps, taps)[r:-r, r:-r]


def _ssim_channel(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two (H, W) float64 channels over the valid region."""
    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = _blur_valid(a), _blur_valid(b)
    var_a = _blur_valid(a * a) - mu_a**2
    var_b = _blur_valid(b * b) - mu_b**2
    cov = _blur_valid(a * b) - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    )
    return float(ssim_map.mean())


def _ssim_frame(x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean SSIM of two (C, H, W) frames (uint8, or float in [0, 1]): per channel,
    converted to float64 one channel at a time (a third of a float64 frame in memory)."""
    values = [
        _ssim_channel(to_float(a).double().cpu().numpy(), to_float(b).double().cpu().numpy())
        for a, b in zip(x, y, strict=True)
    ]
    return float(np.mean(values))


@batched
def ssim(video: torch.Tensor, target: torch.Tensor, reduction: Reduction = "mean") -> torch.Tensor:
    """Structural similarity (Wang et al., 2004), higher is better, range [-1, 1].

    Gaussian window 11x11, sigma 1.5, K1 = 0.01, K2 = 0.03, data range 1, computed per
    RGB channel over the valid region (no padding) and averaged, per in-between frame;
    equal to ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False, data_range=1, channel_axis=-1)``. Computed
    frame by frame in float64 with OpenCV's separable filter (one channel pair in memory).
    """
    gen, ref = intermediate_pair(video, target)
    if min(gen.shape[-2:]) < SSIM_WINDOW:
        raise VideoError(f"SSIM needs frames of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels")
    values = [_ssim_frame(a, b) for a, b in zip(gen, ref, strict=True)]
    return reduce(torch.tensor(values, dtype=torch.float32), reduction)


@functools.lru_cache(maxsize=2)
def default_lpips_net(net: str = "alex") -> LPIPSNet:
    """The LPIPS network used when none is passed (built once per process)."""
    return LPIPSNet(net)


@batched
def lpips(
    video: torch.Tensor,
    target: torch.Tensor,
    reduction: Reduction = "mean",
    net: LPIPSNet | None = None,
) -> torch.Tensor:
    """LPIPS distance (AlexNet, v0.1) to ground truth, lower is better, range [0, ~1].

    Per in-between frame of (T, C, H, W) videos in [0, 1]. Pass ``net`` to reuse a loaded
    network; by default the real pretrained weights are loaded once (see
    ``tgibench.features.lpips_net`` for where they come from).
    """
    gen, ref = intermediate_pair(video, target)
    distances = lpips_distances(net or default_lpips_net(), gen, ref)
    assert distances.to_target is not None
    return reduce(distances.to_target, reduction)
