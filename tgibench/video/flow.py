"""Dense optical flow and warping on numpy frames (OpenCV), shared by models and metrics."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch


@dataclass(frozen=True)
class FarnebackParams:
    """Parameters of OpenCV's Farneback flow (pyramid levels, window size in pixels, ...)."""

    levels: int = 5
    winsize: int = 21
    iterations: int = 5
    poly_n: int = 7
    poly_sigma: float = 1.5
    pyr_scale: float = 0.5


def to_gray_uint8(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) float image in [0, 1] → (H, W) uint8 luma."""
    rgb = image.permute(1, 2, 0).mul(255).round().clamp(0, 255).byte().cpu().numpy()
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


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


def backward_warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample ``image`` (H, W[, C]) at x + flow(x), bilinear, borders replicated."""
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return np.asarray(
        cv2.remap(
            image,
            grid_x + flow[..., 0],
            grid_y + flow[..., 1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
    )


def consistent_mask(
    forward: np.ndarray, backward: np.ndarray, tolerance_px: float = 1.5
) -> np.ndarray:
    """(H, W) float32: 1 where the forward flow is undone by the backward flow at its target.

    Pixels failing the forward-backward check are (likely) occluded in the other frame.
    """
    round_trip = forward + backward_warp(backward, forward)
    return (np.linalg.norm(round_trip, axis=-1) <= tolerance_px).astype(np.float32)
