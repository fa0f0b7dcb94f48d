"""Shared plumbing of the functional metrics: batching, reduction, frame selection."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Literal, ParamSpec

import torch

from tgibench.video import VideoError, check_video

Reduction = Literal["mean", "none"]
P = ParamSpec("P")


def batched(fn: Callable[P, torch.Tensor]) -> Callable[P, torch.Tensor]:
    """Let a function written for one (T, C, H, W) video accept a batch (B, T, C, H, W).

    Every 5-D tensor argument is split along B; the per-video results are stacked.
    """

    def item(value: object, b: int) -> object:
        return value[b] if isinstance(value, torch.Tensor) and value.ndim == 5 else value

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> torch.Tensor:
        if not (args and isinstance(args[0], torch.Tensor) and args[0].ndim == 5):
            return fn(*args, **kwargs)
        results = [
            fn(*(item(a, b) for a in args), **{k: item(v, b) for k, v in kwargs.items()})  # type: ignore[arg-type]
            for b in range(args[0].shape[0])
        ]
        return torch.stack(results)

    return wrapper


def reduce(values: torch.Tensor, reduction: Reduction) -> torch.Tensor:
    """Mean over frames (a 0-d tensor) or the per-frame values unchanged."""
    if reduction == "mean":
        return values.mean()
    if reduction == "none":
        return values
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


def intermediate_pair(
    video: torch.Tensor, target: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Frames 1 .. T-2 of a video and its ground truth (keyframes excluded), checked.

    Raises VideoError if shapes differ or fewer than 3 frames are given.
    """
    check_video(video, name="video", min_frames=3)
    check_video(target, name="target", min_frames=3)
    if video.shape != target.shape:
        raise VideoError(
            f"video {tuple(video.shape)} and target {tuple(target.shape)} differ in shape"
        )
    return video[1:-1], target[1:-1]
