"""Pure metric functions on (T, C, H, W) float videos in [0, 1] (or batches (B, T, C, H, W)).

Each returns the mean over frames by default and per-frame values with
``reduction="none"``. Networks are passed with ``net=`` to avoid rebuilding them.
"""

from tgibench.metrics.functional.consistency import (
    flicker,
    keyframe_adherence,
    lpips_frames,
    warping_error,
)
from tgibench.metrics.functional.distribution import (
    fid,
    frechet_distance,
    frechet_feature_distance,
    fvd,
)
from tgibench.metrics.functional.pace import motion_reach, pace_parts, pace_stability
from tgibench.metrics.functional.reconstruction import lpips, psnr, ssim
from tgibench.metrics.functional.semantic import (
    clip_score,
    clipsim_frames,
    desc_trajectory,
    trajectory_parts,
    vqa_score,
    xclip_score,
)

__all__ = [
    "clip_score",
    "clipsim_frames",
    "desc_trajectory",
    "fid",
    "flicker",
    "frechet_distance",
    "frechet_feature_distance",
    "fvd",
    "keyframe_adherence",
    "lpips",
    "lpips_frames",
    "motion_reach",
    "pace_parts",
    "pace_stability",
    "psnr",
    "ssim",
    "trajectory_parts",
    "vqa_score",
    "warping_error",
    "xclip_score",
]
