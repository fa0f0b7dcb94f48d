"""Motion of a video: one forward and one backward DIS flow per adjacent frame pair.

The pass streams the video (two frames in memory at a time) and keeps, per pair t → t+1,
and per frame, only compact statistics (:class:`MotionStats`), never the flow fields. The
``motion`` feature is the generated video's; ``target_motion`` is the ground truth's,
a separate feature, computed only when a metric reads it and cached on disk by content,
so that a benchmark's ground truth is passed through the flow once, not once per model.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from tgibench.features.store import FeatureStore, register_feature
from tgibench.fileio import atomic_path
from tgibench.video import check_video, to_float
from tgibench.video.flow import (
    backward_warp,
    dis_flow,
    flow_magnitude,
    round_trip_consistent,
    sampling_grid,
)
from tgibench.video.opencv_kernels import baseline_kernels
from tgibench.weights import cache_dir

log = logging.getLogger(__name__)

#: Version of the motion statistics, part of the cache key: bump it when they change.
#: 2: DIS flow instead of Farneback; adds ``change``, ``detail`` and ``appearance``.
#: 3: adds ``step`` (what pace's step sizes read: unlike ``change``, nearly the same at half
#: resolution).
#: 4: OpenCV at its baseline kernels (the same values on every x86-64 CPU).
MOTION_VERSION = 4
#: Cells (rows, columns) of the coarse flow grid kept per pair.
FLOW_GRID: tuple[int, int] = (8, 8)
#: Longer side of the luma thumbnails that ``appearance`` compares.
THUMB_SIDE = 64
#: Frames whose longer side exceeds this are area-downscaled to it before the flow
#: (480x832 → 295x512: 2.6x fewer pixels); flow is still reported in the video's pixels.
MAX_SIDE = 512


@dataclass(frozen=True)
class MotionStats:
    """Per-pair motion statistics of a (T, 3, H, W) video; every field has T-1 rows.

    ``warp_error``: (T-1,) mean absolute RGB error, in [0, 1], between frame t and frame
    t+1 warped back onto it with the forward flow, over the pixels visible in both (not
    occluded, not leaving the frame), at the resolution of the flow (see MAX_SIDE).
    ``residual``: (T-1, 3) signed mean of that error per RGB channel over the same pixels,
    in [-1, 1]: the brightness change that motion does not explain.
    ``magnitude``: (T-1,) mean flow magnitude over the visible pixels, in pixels per frame
    (pixels entering at the borders or occluded have unreliable flow).
    ``occluded``: (T-1,) fraction of frame t's pixels that fail the forward-backward check
    or move out of the frame, in [0, 1].
    ``grid``: (T-1, 8, 8, 2) forward flow (dx, dy) in pixels averaged over the visible
    pixels of each cell of an 8x8 grid (0 in a cell with none): where the motion goes,
    compact enough to keep for every pair.
    ``change``: (T-1,) mean absolute RGB difference of frames t and t+1, in [0, 1], with no
    motion compensation: how much the picture changes, whatever the cause. It depends on
    the resolution: fine texture that half resolution removes, and per-frame noise (JPEG),
    which adds a floor to every step, weigh differently at each size.
    ``step``: (T-1,) root-mean-square difference of the luma thumbnails (longer side
    :data:`THUMB_SIDE`) of frames t and t+1, in [0, 1]: the size of the step, close to
    independent of the resolution (a fixed thumbnail size sees the same content at any
    resolution, and the square weights the content's large differences over the noise's
    small ones).
    ``detail``: (T,) mean luma gradient magnitude (Sobel, per pixel) over mean luma, per
    frame: fine detail, unchanged by a brightness gain; blending two different frames
    (a fade) lowers it.
    ``appearance``: (T, 2) distance of each frame to frame 0 and to frame T-1: mean
    absolute difference of luma thumbnails (longer side :data:`THUMB_SIDE`), each
    normalised to zero mean and unit deviation, so that a global lighting change moves it
    little and a change of content a lot (≈1.1 between unrelated photographs).
    ``mixture``: (T, 2) per frame, in luma thumbnails (mean absolute difference, [0, 1]):
    the distance to the nearer of frame 0 and frame T-1, and the distance to the closest
    mixture ``(1 - a)·frame 0 + a·frame T-1`` (a in [0, 1]). A frame of a crossfade is such
    a mixture (second column 0); a frame of a moving scene is not.
    ``size``: (2,) the video's (height, width) in pixels, which flow magnitudes refer to.
    """

    warp_error: torch.Tensor
    residual: torch.Tensor
    magnitude: torch.Tensor
    occluded: torch.Tensor
    grid: torch.Tensor
    change: torch.Tensor
    step: torch.Tensor
    detail: torch.Tensor
    appearance: torch.Tensor
    mixture: torch.Tensor
    size: torch.Tensor

    @property
    def mean_flow(self) -> torch.Tensor:
        """(T-1, 2) mean flow vector (dx, dy) per pair, in pixels."""
        return self.grid.mean(dim=(1, 2))

    @property
    def diagonal(self) -> float:
        """The frame diagonal in pixels: the unit that makes flow independent of resolution."""
        return float(self.size.double().norm())


def _gray_uint8(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) float RGB in [0, 1] → (H, W) uint8 luma, as ``flow.to_gray_uint8`` does.

    In numpy rather than torch: torch's element-wise ops slow down ~20x when interleaved
    with OpenCV's threaded flow on 2 cores, which doubled the cost of the whole pass.
    """
    return cv2.cvtColor(np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)


def _visible(
    forward: np.ndarray,
    backward: np.ndarray,
    tolerance_px: float,
    grid: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """(H, W) bool: pixels whose forward flow stays in the frame and is undone by the
    backward; ``grid`` is ``sampling_grid(forward)``."""
    h, w = forward.shape[:2]
    xs, ys = grid
    inside = (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)
    return inside & round_trip_consistent(forward, backward, tolerance_px, grid)


def _detail(gray: np.ndarray) -> float:
    """Mean Sobel gradient magnitude of a uint8 luma frame over its mean luma."""
    luma = gray.astype(np.float32) / 255
    gx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3)
    return float(np.sqrt(gx**2 + gy**2).mean() / max(float(luma.mean()), 1e-3))


def _thumbnail(gray: np.ndarray) -> np.ndarray:
    """A luma thumbnail in [0, 1] (longer side THUMB_SIDE)."""
    h, w = gray.shape
    scale = THUMB_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(gray.astype(np.float32) / 255, size, interpolation=cv2.INTER_AREA)


def _appearance(thumbs: np.ndarray) -> np.ndarray:
    """(T, 2) distances of each thumbnail to the first and the last, each normalised to
    zero mean and unit deviation first (MotionStats.appearance)."""
    mean = thumbs.mean(axis=(1, 2), keepdims=True)
    z = (thumbs - mean) / np.maximum(thumbs.std(axis=(1, 2), keepdims=True), 1e-3)
    return np.stack([np.abs(z - z[0]).mean(axis=(1, 2)), np.abs(z - z[-1]).mean(axis=(1, 2))], 1)


def _steps(thumbs: np.ndarray) -> np.ndarray:
    """(T-1,) root-mean-square difference of consecutive thumbnails (MotionStats.step)."""
    return np.sqrt((np.diff(thumbs.astype(np.float64), axis=0) ** 2).mean(axis=(1, 2)))


def _mixture(thumbs: np.ndarray) -> np.ndarray:
    """(T, 2) distance of each thumbnail to the nearer end, and to the closest mixture of
    the two ends (MotionStats.mixture)."""
    flat = thumbs.reshape(len(thumbs), -1).astype(np.float64)
    first, span = flat[0], flat[-1] - flat[0]
    weight = np.clip((flat - first) @ span / max(float(span @ span), 1e-12), 0.0, 1.0)
    mixed = first[None] + weight[:, None] * span[None]
    nearer = np.minimum(np.abs(flat - flat[0]).mean(1), np.abs(flat - flat[-1]).mean(1))
    return np.stack([nearer, np.abs(flat - mixed).mean(1)], axis=1)


def _pair_stats(
    rgb_a: np.ndarray,
    rgb_b: np.ndarray,
    gray_a: np.ndarray,
    gray_b: np.ndarray,
    tolerance_px: float,
) -> tuple[float, np.ndarray, float, float, np.ndarray, float]:
    forward = dis_flow(gray_a, gray_b)
    backward = dis_flow(gray_b, gray_a)
    grid = sampling_grid(forward)
    visible = _visible(forward, backward, tolerance_px, grid)
    if not visible.any():  # nothing can be matched (a cut): every pixel counts
        visible = np.ones_like(visible)
    error = backward_warp(rgb_b, forward, grid) - rgb_a
    residual = np.compress(visible.ravel(), error.reshape(-1, 3), axis=0)  # error[visible]
    weight = visible.astype(np.float32)
    cell_flow = cv2.resize(
        forward * weight[..., None], FLOW_GRID[::-1], interpolation=cv2.INTER_AREA
    )
    cell_weight = cv2.resize(weight, FLOW_GRID[::-1], interpolation=cv2.INTER_AREA)
    return (
        float(np.abs(residual).mean()),
        residual.mean(axis=0),
        float(flow_magnitude(forward)[visible].mean()),
        1.0 - float(visible.mean()),
        cell_flow / np.maximum(cell_weight, 1e-6)[..., None],
        float(np.abs(rgb_b - rgb_a).mean()),
    )


@baseline_kernels
def motion_stats(
    video: torch.Tensor, tolerance_px: float = 1.5, max_side: int | None = MAX_SIDE
) -> MotionStats:
    """Motion statistics of a (T, 3, H, W) video in [0, 1] (T >= 2), streaming pair by pair.

    Two DIS flows per pair (forward for the motion, backward for the occlusion check with
    ``tolerance_px``), computed on 8-bit luma; the warping residual is in RGB. Frames with
    a side longer than ``max_side`` are area-downscaled first (None: never); magnitudes and
    flow grids are scaled back to the video's pixels.

    >>> x, y = torch.arange(64.0), torch.arange(32.0)[:, None]
    >>> def view(dx):  # a smooth texture seen dx pixels further right, (3, 32, 64)
    ...     return (0.5 + 0.2 * torch.sin((x + dx) / 3) * torch.cos(y / 4)).expand(3, -1, -1)
    >>> stats = motion_stats(torch.stack([view(1.5 * t) for t in range(4)]))
    >>> stats.magnitude.round(decimals=1), stats.mean_flow[0, 0].round(decimals=1)
    (tensor([1.5000, 1.5000, 1.5000]), tensor(-1.5000))
    >>> stats.grid.shape, stats.appearance.shape
    (torch.Size([3, 8, 8, 2]), torch.Size([4, 2]))
    """
    check_video(video, min_frames=2)
    height, width = video.shape[-2:]
    scale = min(1.0, max_side / max(height, width)) if max_side else 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    rows: list[tuple[float, np.ndarray, float, float, np.ndarray, float]] = []
    detail: list[float] = []
    thumbs: list[np.ndarray] = []
    previous: tuple[np.ndarray, np.ndarray] | None = None
    for frame in video.detach().cpu():  # one frame in float at a time; uint8 welcome
        rgb = np.ascontiguousarray(to_float(frame).permute(1, 2, 0).numpy())
        if scale < 1.0:
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        gray = _gray_uint8(rgb)
        detail.append(_detail(gray))
        thumbs.append(_thumbnail(gray))
        if previous is not None:
            rows.append(_pair_stats(previous[0], rgb, previous[1], gray, tolerance_px))
        previous = (rgb, gray)
    warp_error, residual, magnitude, occluded, grid, change = zip(*rows, strict=True)
    stack = np.stack(thumbs)
    return MotionStats(
        warp_error=torch.tensor(warp_error, dtype=torch.float32),
        residual=torch.from_numpy(np.stack(residual)).float(),
        magnitude=torch.tensor(magnitude, dtype=torch.float32) / scale,
        occluded=torch.tensor(occluded, dtype=torch.float32),
        grid=torch.from_numpy(np.stack(grid)).float() / scale,
        change=torch.tensor(change, dtype=torch.float32),
        step=torch.from_numpy(_steps(stack)).float(),
        detail=torch.tensor(detail, dtype=torch.float32),
        appearance=torch.from_numpy(_appearance(stack)).float(),
        mixture=torch.from_numpy(_mixture(stack)).float(),
        size=torch.tensor([float(height), float(width)]),
    )


@register_feature("motion")
def _motion(store: FeatureStore) -> MotionStats:
    """Per-pair motion statistics of the generated video."""
    return motion_stats(store.inputs.video)


def _cache_path(video: torch.Tensor) -> Path:
    """Where the motion statistics of ``video`` are cached: keyed by its exact content,
    shape and dtype, and by everything the statistics depend on."""
    digest = hashlib.sha256(
        f"{MOTION_VERSION}|{FLOW_GRID}|{THUMB_SIDE}|{MAX_SIDE}|{tuple(video.shape)}|{video.dtype}".encode()
    )
    digest.update(video.detach().cpu().contiguous().numpy().data)
    return cache_dir() / "features" / "motion" / f"{digest.hexdigest()}.safetensors"


def cached_motion_stats(video: torch.Tensor) -> MotionStats:
    """:func:`motion_stats` of a video that recurs (a ground truth scored with every
    model), computed once and kept in ``$TGIBENCH_CACHE/features/motion``.

    A cache that cannot be read or written is skipped with a warning: the statistics are
    then computed as usual.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file, save_file

    path = _cache_path(video)
    if path.is_file():
        try:
            return MotionStats(**load_file(path))
        except (OSError, TypeError, ValueError, SafetensorError) as exc:  # damaged: recompute
            log.warning("motion cache %s unreadable (%s); recomputing", path, exc)
    stats = motion_stats(video)
    try:
        with atomic_path(path) as tmp:
            save_file({k: v.contiguous() for k, v in asdict(stats).items()}, tmp)
    except OSError as exc:
        log.warning("motion cache %s not written (%s)", path, exc)
    return stats


@register_feature("target_motion")
def _target_motion(store: FeatureStore) -> MotionStats:
    """Per-pair motion statistics of the ground-truth video: the same for every model, so
    computed once per benchmark case and cached (:func:`cached_motion_stats`)."""
    if store.inputs.target is None:
        raise ValueError("the target_motion feature needs the ground-truth video")
    return cached_motion_stats(store.inputs.target)
