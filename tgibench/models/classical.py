"""Classical CPU baselines that need no weights: ``hold``, ``crossfade`` and ``flow``.

They bound the benchmark from below: ``hold`` has the worst possible pace (a freeze and a
jump), ``crossfade`` blends without motion, ``flow`` moves pixels along dense optical flow.
"""

from __future__ import annotations

import numpy as np
import torch

from tgibench.models.base import ModelBase, register_model
from tgibench.video import check_image
from tgibench.video.flow import (
    FarnebackParams,
    backward_warp,
    consistent_mask,
    dense_flow,
    to_gray_uint8,
)


def _times(num_frames: int) -> torch.Tensor:
    """Normalised time t_k = k / (num_frames - 1) of each frame, shape (num_frames,)."""
    if num_frames < 2:
        raise ValueError(f"num_frames must be at least 2, got {num_frames}")
    return torch.linspace(0.0, 1.0, num_frames)


def _check_pair(first: torch.Tensor, last: torch.Tensor) -> None:
    check_image(first, name="first keyframe")
    check_image(last, name="last keyframe")
    if first.shape != last.shape:
        raise ValueError(f"keyframes differ in size: {tuple(first.shape)} vs {tuple(last.shape)}")


@register_model("hold")
class Hold(ModelBase):
    """Shows the first keyframe for the first half and the last keyframe after (no motion)."""

    def generate(
        self,
        first: torch.Tensor,
        last: torch.Tensor,
        prompt: str,
        num_frames: int,
        *,
        seed: int = 0,
    ) -> torch.Tensor:
        _check_pair(first, last)
        after_middle = (_times(num_frames) >= 0.5).view(-1, 1, 1, 1)
        return torch.where(after_middle, last, first).contiguous()


@register_model("crossfade")
class Crossfade(ModelBase):
    """Linear blend of the keyframes: frame t is (1 - t)·first + t·last."""

    def generate(
        self,
        first: torch.Tensor,
        last: torch.Tensor,
        prompt: str,
        num_frames: int,
        *,
        seed: int = 0,
    ) -> torch.Tensor:
        _check_pair(first, last)
        t = _times(num_frames).view(-1, 1, 1, 1)
        return (1 - t) * first + t * last


@register_model("flow")
class Flow(ModelBase):
    """Bidirectional Farneback optical flow: warps both keyframes to time t, blends by visibility.

    Flows from the in-between frame to each keyframe are approximated from the keyframe
    flows under linear motion (Jiang et al., 2018, Super SloMo); pixels whose
    forward-backward flows disagree by more than ``occlusion_px`` pixels are treated as
    occluded in the other keyframe and taken from the keyframe that sees them.
    """

    def __init__(
        self, levels: int = 5, winsize: int = 21, iterations: int = 5, occlusion_px: float = 1.5
    ) -> None:
        self.params = FarnebackParams(levels=levels, winsize=winsize, iterations=iterations)
        self.occlusion_px = occlusion_px

    def generate(
        self,
        first: torch.Tensor,
        last: torch.Tensor,
        prompt: str,
        num_frames: int,
        *,
        seed: int = 0,
    ) -> torch.Tensor:
        _check_pair(first, last)
        img0 = first.permute(1, 2, 0).numpy().astype(np.float32)
        img1 = last.permute(1, 2, 0).numpy().astype(np.float32)
        gray0, gray1 = to_gray_uint8(first), to_gray_uint8(last)
        f01, f10 = dense_flow(gray0, gray1, self.params), dense_flow(gray1, gray0, self.params)
        vis0 = consistent_mask(f01, f10, self.occlusion_px)
        vis1 = consistent_mask(f10, f01, self.occlusion_px)
        frames = [first]
        for t in _times(num_frames)[1:-1].tolist():
            ft0 = -(1 - t) * t * f01 + t * t * f10
            ft1 = (1 - t) * (1 - t) * f01 - t * (1 - t) * f10
            warped0, warped1 = backward_warp(img0, ft0), backward_warp(img1, ft1)
            w0 = (1 - t) * backward_warp(vis0, ft0)[..., None]
            w1 = t * backward_warp(vis1, ft1)[..., None]
            blend = (1 - t) * warped0 + t * warped1  # where neither keyframe sees the pixel
            total = w0 + w1
            mixed = np.where(
                total > 1e-3, (w0 * warped0 + w1 * warped1) / np.maximum(total, 1e-3), blend
            )
            frames.append(torch.from_numpy(np.clip(mixed, 0, 1)).permute(2, 0, 1))
        frames.append(last)
        return torch.stack(frames).float()
