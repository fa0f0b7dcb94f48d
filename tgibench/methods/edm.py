"""The sampling maths of Stable Video Diffusion (EDM, v-prediction) as pure tensor functions.

SVD's denoiser works in the EDM parametrisation (Karras et al. 2022): latents x at noise
level sigma, network input ``x / sqrt(sigma^2 + 1)`` and a v-prediction v from which the
denoised estimate is ``x0 = c_out·v + c_skip·x`` with ``c_out = -sigma / sqrt(sigma^2 + 1)``
and ``c_skip = 1 / (sigma^2 + 1)``. The Euler step moves x along ``(x - x0) / sigma`` from
sigma to the next level. Each function computes what diffusers' ``EulerDiscreteScheduler``
does (v-prediction, no churn) in the same order of operations, so that a sampler built on
them reproduces diffusers' ``StableVideoDiffusionPipeline`` bit for bit (tests/test_svd.py).

Shapes: latents (B, F, C, h, w) (SVD's layout: frames on dim 1); sigma a 0-d tensor or a
float; every function broadcasts.
"""

from __future__ import annotations

import torch

Sigma = torch.Tensor | float


def scale_input(x: torch.Tensor, sigma: Sigma) -> torch.Tensor:
    """The network input c_in·x = x / sqrt(sigma^2 + 1) (``scale_model_input``)."""
    return x / ((sigma**2 + 1) ** 0.5)


def x0_from_v(v: torch.Tensor, x: torch.Tensor, sigma: Sigma) -> torch.Tensor:
    """Denoised estimate from a v-prediction: x0 = v·(-sigma / sqrt(sigma^2 + 1)) + x / (sigma^2 + 1)."""
    return v * (-sigma / (sigma**2 + 1) ** 0.5) + (x / (sigma**2 + 1))


def guided(uncond: torch.Tensor, cond: torch.Tensor, scale: torch.Tensor | float) -> torch.Tensor:
    """Classifier-free guidance uncond + scale·(cond - uncond); ``scale`` may be per frame,
    (1, F, 1, 1, 1). Linear, so it gives the same x0 whether applied to v or to x0."""
    return uncond + scale * (cond - uncond)


def euler_step(x: torch.Tensor, x0: torch.Tensor, sigma: Sigma, sigma_next: Sigma) -> torch.Tensor:
    """One Euler step of the probability-flow ODE: x + (x - x0)/sigma · (sigma_next - sigma).

    With sigma_next = 0 it returns x0 (up to rounding).
    """
    derivative = (x - x0) / sigma
    return x + derivative * (sigma_next - sigma)


def decoupled_euler_step(
    x: torch.Tensor,
    target: torch.Tensor,
    direction: torch.Tensor,
    sigma: Sigma,
    sigma_next: Sigma,
) -> torch.Tensor:
    """An Euler step whose clean estimate and noise direction come from different x0's:
    ``target + sigma_next · (x - direction) / sigma``.

    With target = direction = x0 it is :func:`euler_step` (algebraically). CFG++ (Chung et
    al. 2024) takes the guided x0 as ``target`` and the unconditional x0 as ``direction``
    (the noise left in x is the unconditional model's); ViBiDSampler's DDS step replaces
    ``target`` by its data-consistent projection.
    """
    return target + sigma_next * (x - direction) / sigma


def renoise(
    x: torch.Tensor, sigma_from: Sigma, sigma_to: Sigma, noise: torch.Tensor, ratio: float = 1.0
) -> torch.Tensor:
    """Take latents at level sigma_from back up to sigma_to >= sigma_from:
    ``x + ratio · sqrt(sigma_to^2 - sigma_from^2) · noise``, noise ~ N(0, I).

    Adding independent Gaussians adds variances, so one draw replaces any number of level-by-level
    draws (TRF's ``undo_step``); ``ratio`` < 1 adds less noise than the level needs (TRF's
    ``noise_scale_ratio``).
    """
    return x + noise * ((sigma_to**2 - sigma_from**2) ** 0.5) * ratio
