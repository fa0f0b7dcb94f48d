"""Classical CPU baselines that need no weights: ``hold``, ``crossfade`` and ``flow``.

They bound the benchmark from below: ``hold`` has the worst possible pace (a freeze and a
jump), ``crossfade`` blends without motion, ``flow`` moves pixels along dense optical flow.
"""

from __future__ import annotations

import numpy as np
import torch

from tgibench.models.base import GenerationRequest, ModelBase
from tgibench.models.registry import register_model
from tgibench.video.flow import (
    FarnebackParams,
    backward_warp,
    consistent_mask,
    dense_flow,
    to_gray_uint8,
)


@register_model("hold")
class Hold(ModelBase):
    """Shows the first keyframe for the first half and the last keyframe after (no motion)."""

    def make_frames(self, request: GenerationRequest) -> torch.Tensor:
        after_middle = (request.times >= 0.5).view(-1, 1, 1, 1)
        return torch.where(after_middle, request.last, request.first).contiguous()


@register_model("crossfade")
class Crossfade(ModelBase):
    """Linear blend of the keyframes: frame t is (1 - t)·first + t·last."""

    def make_frames(self, request: GenerationRequest) -> torch.Tensor:
        t = request.times.view(-1, 1, 1, 1)
        return (1 - t) * request.first + t * request.last


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

    def make_frames(self, request: GenerationRequest) -> torch.Tensor:
        first, last = request.first, request.last
        img0 = first.permute(1, 2, 0).numpy().astype(np.float32)
        img1 = last.permute(1, 2, 0).numpy().astype(np.float32)
        gray0, gray1 = to_gray_uint8(first), to_gray_uint8(last)
        f01, f10 = dense_flow(gray0, gray1, self.params), dense_flow(gray1, gray0, self.params)
        vis0 = consistent_mask(f01, f10, self.occlusion_px)
        vis1 = consistent_mask(f10, f01, self.occlusion_px)
        frames = [first]
        for t in request.times[1:-1].tolist():
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
