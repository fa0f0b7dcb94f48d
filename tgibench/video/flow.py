"""Dense optical flow and warping on numpy frames (OpenCV), shared by models and metrics.

Two flows: Farneback (:func:`dense_flow`), which the classical ``flow`` model interpolates
with, and DIS (:func:`dis_flow`, Kroeger et al. 2016), which the metrics measure motion
with: about 3x faster here and it does not saturate on large displacements (on a
photograph panned by 5.2 px per frame, DIS reads 83.2 px after 16 frames where Farneback
reads 8.7 px). Every function runs OpenCV at its baseline kernels
(:mod:`tgibench.video.opencv_kernels`), so its results do not depend on the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from tgibench.video.opencv_kernels import baseline_kernels


@dataclass(frozen=True)
class FarnebackParams:
    """Parameters of OpenCV's Farneback flow (pyramid levels, window size in pixels, ...)."""

    levels: int = 5
    winsize: int = 21
    iterations: int = 5
    poly_n: int = 7
    poly_sigma: float = 1.5
    pyr_scale: float = 0.5


@baseline_kernels
def to_gray_uint8(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) float image in [0, 1] → (H, W) uint8 luma."""
    rgb = image.permute(1, 2, 0).mul(255).round().clamp(0, 255).byte().cpu().numpy()
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


@baseline_kernels
def dense_flow(
    src: np.ndarray, dst: np.ndarray, params: FarnebackParams = FarnebackParams()
) -> np.ndarray:
    """Flow (H, W, 2) float32 in pixels such that src(x) ≈ dst(x + flow(x)); inputs (H, W) uint8."""
    flow = np.zeros((*src.shape[:2], 2), np.float32)
    return np.asarray(
        cv2.calcOpticalFlowFarneback(
            src,
            dst,
            flow,
            params.pyr_scale,
            params.levels,
            params.winsize,
            params.iterations,
            params.poly_n,
            params.poly_sigma,
            0,
        )
    )


#: Smallest side DIS is run on (smaller frames are enlarged; see dis_flow).
DIS_MIN_SIDE = 32


@baseline_kernels
def dis_flow(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """DIS flow (H, W, 2) float32 in pixels such that src(x) ≈ dst(x + flow(x)).

    Inputs (H, W) uint8. OpenCV's "medium" preset (patch 8, stride 3, coarse-to-fine from
    a pyramid as deep as the frame allows), deterministic for given inputs. Frames with a
    side under :data:`DIS_MIN_SIDE` are enlarged by an integer factor first (OpenCV's DIS
    refuses, or crashes on, smaller ones) and the flow is scaled back.
    """
    height, width = src.shape[:2]
    factor = -(-DIS_MIN_SIDE // min(height, width))  # ceil: small frames are enlarged
    if factor > 1:
        size = (width * factor, height * factor)
        big = [cv2.resize(im, size, interpolation=cv2.INTER_LINEAR) for im in (src, dst)]
        flow = dis_flow(*big)
        return np.asarray(cv2.resize(flow, (width, height), interpolation=cv2.INTER_AREA)) / factor
    solver = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)  # type: ignore[attr-defined]
    return np.asarray(solver.calc(src, dst, None))


def sampling_grid(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each pixel x lands, x + flow(x): (map_x, map_y), each (H, W) float32 in pixels."""
    h, w = flow.shape[:2]
    return (
        np.arange(w, dtype=np.float32)[None, :] + flow[..., 0],
        np.arange(h, dtype=np.float32)[:, None] + flow[..., 1],
    )


@baseline_kernels
def backward_warp(
    image: np.ndarray, flow: np.ndarray, grid: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Sample ``image`` (H, W[, C]) at x + flow(x), bilinear, borders replicated.

    ``grid``: ``sampling_grid(flow)`` when the caller has it already.
    """
    map_x, map_y = grid if grid is not None else sampling_grid(flow)
    return np.asarray(
        cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    )


def flow_magnitude(flow: np.ndarray) -> np.ndarray:
    """(H, W) length of each flow vector, in pixels: ``np.linalg.norm(flow, axis=-1)``,
    the same operations in the same order (so bit for bit), a tenth of its cost."""
    dx, dy = flow[..., 0], flow[..., 1]
    return np.asarray(np.sqrt(dx * dx + dy * dy))


def round_trip_consistent(
    forward: np.ndarray,
    backward: np.ndarray,
    tolerance_px: float = 1.5,
    grid: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """(H, W) bool: True where the forward flow is undone, within ``tolerance_px``, by the
    backward flow at its target. ``grid``: ``sampling_grid(forward)``, if at hand.

    Pixels failing the forward-backward check are (likely) occluded in the other frame.
    """
    round_trip = forward + backward_warp(backward, forward, grid)
    return np.asarray(flow_magnitude(round_trip) <= tolerance_px)


def consistent_mask(
    forward: np.ndarray, backward: np.ndarray, tolerance_px: float = 1.5
) -> np.ndarray:
    """(H, W) float32: 1 where :func:`round_trip_consistent`, else 0."""
    return round_trip_consistent(forward, backward, tolerance_px).astype(np.float32)
