"""Validation of the video tensor convention: (T, C, H, W) float32 RGB in [0, 1].

Inside the scoring pipeline a video may also be held as uint8 (0..255, a quarter of the
memory of float32): :func:`to_float` converts a chunk of frames when it is needed.
"""

from __future__ import annotations

import math

import torch


class VideoError(ValueError):
    """A video or image is missing, unreadable or breaks the tensor convention."""


def check_video(video: torch.Tensor, *, name: str = "video", min_frames: int = 2) -> torch.Tensor:
    """Return ``video`` if it is a valid (T, C, H, W) video; else raise.

    Checks: 4 dimensions, 3 channels, at least ``min_frames`` frames, and either uint8
    (always valid) or a floating dtype with finite values (no NaN/inf) in the range [0, 1]
    (a tolerance of 1e-3 for rounding).
    """
    if not isinstance(video, torch.Tensor):
        raise VideoError(f"{name}: expected a torch.Tensor, got {type(video).__name__}")
    if video.ndim != 4 or video.shape[1] != 3:
        raise VideoError(f"{name}: expected shape (T, 3, H, W), got {tuple(video.shape)}")
    if video.shape[0] < min_frames:
        raise VideoError(f"{name}: has {video.shape[0]} frames, at least {min_frames} needed")
    if video.dtype == torch.uint8:
        return video
    if not video.is_floating_point():
        raise VideoError(
            f"{name}: expected a float tensor in [0, 1] or uint8, got dtype {video.dtype}"
        )
    lowest, highest = torch.aminmax(video)  # one pass; NaN and inf show in these two
    lo, hi = float(lowest), float(highest)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        bad = (~torch.isfinite(video)).flatten(1).any(1).nonzero().flatten().tolist()
        raise VideoError(f"{name}: NaN or inf values in frame(s) {bad[:10]}")
    if lo < -1e-3 or hi > 1 + 1e-3:
        raise VideoError(f"{name}: values must lie in [0, 1], found [{lo:.3g}, {hi:.3g}]")
    return video


def check_image(image: torch.Tensor, *, name: str = "image") -> torch.Tensor:
    """Return ``image`` if it is a valid (C, H, W) float image in [0, 1]; else raise."""
    if not isinstance(image, torch.Tensor) or image.ndim != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise VideoError(f"{name}: expected an image tensor of shape (3, H, W), got {shape}")
    check_video(image[None], name=name, min_frames=1)
    return image


#: Pixels of one chunk of frames that a feature network converts to float and processes at
#: once (one 480x832 frame): activations and convolution buffers grow with it, so peak
#: memory stays near the uint8 video's size whatever the resolution.
CHUNK_PIXELS = 400_000


def frames_per_chunk(frames: torch.Tensor, most: int, pixels: int = CHUNK_PIXELS) -> int:
    """How many frames of a (T, C, H, W) video to process at once: as many as fit in
    ``pixels``, at least 1 and at most ``most``."""
    return max(1, min(most, pixels // (frames.shape[-2] * frames.shape[-1])))


def to_float(frames: torch.Tensor) -> torch.Tensor:
    """Frames as float32 in [0, 1]: uint8 is divided by 255, float is cast (no copy if float32)."""
    if frames.dtype == torch.uint8:
        return frames.float().div_(255)
    return frames.float()


def to_uint8(frames: torch.Tensor) -> torch.Tensor:
    """Frames as uint8 (0..255): float in [0, 1] is clamped and rounded; uint8 passes."""
    if frames.dtype == torch.uint8:
        return frames
    return frames.detach().clamp(0, 1).mul_(255).round_().to(torch.uint8)  # clamp copies


def quantize(video: torch.Tensor) -> torch.Tensor:
    """Round to the 256 levels of 8-bit video, clamped to [0, 1] (what a saved file holds).

    Scoring the quantized tensor makes ``evaluate`` (in memory) and ``score`` (from the
    saved lossless file) give identical numbers.
    """
    return to_float(to_uint8(video))
