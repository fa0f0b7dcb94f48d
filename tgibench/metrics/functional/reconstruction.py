"""Reconstruction against ground truth: PSNR, SSIM and LPIPS of the in-between frames.

All three compare generated frames 1 .. T-2 with ground-truth frames 1 .. T-2 (the
keyframes are given to the model, so they are excluded) and average per frame.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from tgibench.features.lpips_net import LPIPSNet, lpips_distances
from tgibench.metrics.functional._video import Reduction, batched, intermediate_pair, reduce

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
    mse = (gen.double() - ref.double()).pow(2).flatten(1).mean(1)
    values = (10 * torch.log10(1.0 / mse.clamp_min(10 ** (-PSNR_MAX_DB / 10)))).float()
    return reduce(values, reduction)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return torch.outer(g, g)


@batched
def ssim(video: torch.Tensor, target: torch.Tensor, reduction: Reduction = "mean") -> torch.Tensor:
    """Structural similarity (Wang et al., 2004), higher is better, range [-1, 1].

    Gaussian window 11x11, sigma 1.5, K1 = 0.01, K2 = 0.03, data range 1, computed per
    RGB channel over the valid region (no padding) and averaged, per in-between frame;
    equal to ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False, data_range=1, channel_axis=-1)``.
    """
    gen, ref = intermediate_pair(video, target)
    window = _gaussian_window().to(gen.device)
    channels = gen.shape[1]
    kernel = window.expand(channels, 1, *window.shape).contiguous()

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, kernel, groups=channels)

    x, y = gen.double(), ref.double()
    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    )
    return reduce(ssim_map.flatten(1).mean(1).float(), reduction)


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
