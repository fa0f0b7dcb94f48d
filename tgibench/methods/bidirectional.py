"""Time-reversed sampling for inbetweening with an image-to-video model, as pure functions.

An image-to-video model such as SVD generates forward in time from its conditioning image.
TRF (Feng et al., ECCV 2024), GI (Wang et al., ICLR 2025) and ViBiDSampler (Yang et al.,
ICLR 2025) also run it on the time-reversed clip, conditioned on the last keyframe, and
combine the two directions: TRF and GI fuse the two predictions at every step with
per-frame weights, ViBiDSampler alternates them. Both may step back up the noise levels
and denoise again (re-noising), by schedules built here. Frames are on dim 1 of the
latents (B, F, C, h, w).
"""

from __future__ import annotations

import torch

FRAMES = 1  # the frame axis of SVD's latents (B, F, C, h, w)


def time_flip(x: torch.Tensor) -> torch.Tensor:
    """Reverse the frame order of (B, F, ...) latents or predictions (frame k ↔ F - 1 - k)."""
    return torch.flip(x, dims=(FRAMES,))


def per_frame(values: torch.Tensor) -> torch.Tensor:
    """(F,) per-frame values as (1, F, 1, 1, 1), broadcasting over SVD latents."""
    return values.reshape(1, -1, 1, 1, 1)


def linear_fusion_weights(num_frames: int) -> torch.Tensor:
    """TRF's fusion weight of the forward pass at frame k: w_k = 1 - k / (F - 1).

    The forward pass (conditioned on the first keyframe) is trusted near frame 0, the
    backward pass near frame F - 1; GI's ``weighted_average`` uses the same ramp. Exact
    quotients, float32 of shape (F,).
    """
    if num_frames < 2:
        raise ValueError(f"fusion needs at least 2 frames, got {num_frames}")
    return torch.tensor([1 - k / (num_frames - 1) for k in range(num_frames)], dtype=torch.float32)


def fuse_bidirectional(
    forward: torch.Tensor, backward: torch.Tensor, weights: torch.Tensor | float
) -> torch.Tensor:
    """w·forward + (1 - w)·flip(backward).

    Args:
        forward: (B, F, ...) prediction of the forward pass, in forward time.
        backward: (B, F, ...) prediction of the backward pass, in its own (reversed) time.
        weights: forward weight per frame, (1, F, 1, 1, 1), or one number (GI: 0.5).

    Returns:
        (B, F, ...) in forward time. The weights sum to 1 per frame, and x0 and the Euler step
        are affine in the prediction, so fusing v-predictions, denoised estimates or stepped
        latents (as TRF's code does) is the same operation.
    """
    return weights * forward + (1 - weights) * time_flip(backward)


def symmetric_guidance(scales: torch.Tensor) -> torch.Tensor:
    """GI's guidance for both passes: the mean of SVD's per-frame scale ramp and its reverse,
    (g + flip(g)) / 2, so a frame gets the same guidance in either direction."""
    return (scales + time_flip(scales)) * 0.5


def frame_guidance(min_scale: float, max_scale: float, num_frames: int) -> torch.Tensor:
    """SVD's per-frame guidance ramp linspace(min, max, F) as (1, F, 1, 1, 1), the frame next
    to the conditioning image guided least (as diffusers computes it)."""
    return per_frame(torch.linspace(min_scale, max_scale, num_frames))


def jump_schedule(
    num_steps: int, jump_length: int, jump_n_sample: int, repeat_step_ratio: float
) -> list[int]:
    """TRF's step order with re-noising jumps (RePaint-style resampling), as step indices.

    Counting steps from the noisiest (0), a jump follows step k = S - 1 - j for every j in
    ``range(int(S·repeat_step_ratio), S - jump_length, jump_length)``: the latents go back
    up ``jump_length`` levels and steps k + 1 - jump_length .. k run again, ``jump_n_sample
    - 1`` times in all. With the official 50 steps, length 5, 2 samples and ratio 0.8 that
    is one jump, after step 9 back to step 5. ``jump_n_sample=1`` gives 0, 1, ..., S - 1.

    Returns:
        the step indices in the order they run; a step index not above the previous one
        means "re-noise to that step's level first".
    """
    if jump_length < 1 or jump_n_sample < 1:
        raise ValueError("jump_length and jump_n_sample must be at least 1")
    left = {
        num_steps - 1 - j: jump_n_sample - 1
        for j in range(int(num_steps * repeat_step_ratio), num_steps - jump_length, jump_length)
    }
    order, k = [], 0
    while k < num_steps:
        order.append(k)
        if left.get(k, 0) > 0:
            left[k] -= 1
            k = k + 1 - jump_length
        else:
            k += 1
    return order


def injection_schedule(num_steps: int, injection_steps: int, injection_ratio: float) -> list[int]:
    """GI's step order with noise injection, as step indices.

    Each of the first ``int(S·injection_ratio)`` steps is followed by ``injection_steps``
    repeats of itself: the latents are re-noised from step i's output level back to its
    input level and step i runs again. ``injection_steps=0`` gives 0, 1, ..., S - 1.
    """
    if injection_steps < 0:
        raise ValueError(f"injection_steps must be >= 0, got {injection_steps}")
    threshold = int(num_steps * injection_ratio)
    order = []
    for i in range(num_steps):
        order += [i] * (1 + (injection_steps if i < threshold else 0))
    return order


def dds_projection(
    x0: torch.Tensor, keyframe_latent: torch.Tensor, frame: int = -1
) -> torch.Tensor:
    """ViBiDSampler's data-consistency step (DDS) on the denoised estimate.

    DDS solves min_x ||y - A x||^2 by conjugate gradient from x0, with A selecting one
    frame and y that frame's keyframe latent. A is a 0/1 mask, so A^T A is a projection and
    CG reaches the exact minimiser nearest x0 in one iteration: x0 with the frame replaced
    by the keyframe latent (tests compare with a plain CG).

    Args:
        x0: (B, F, C, h, w) denoised estimate.
        keyframe_latent: (B, C, h, w) scaled VAE latent of the keyframe.
        frame: the frame it constrains (-1: the far end of the pass).

    Returns:
        a new tensor, x0 with ``x0[:, frame] = keyframe_latent``.
    """
    projected = x0.clone()
    projected[:, frame] = keyframe_latent.to(x0.dtype)
    return projected
