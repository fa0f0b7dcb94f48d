"""Pure metric functions on (T, C, H, W) float videos in [0, 1] (or batches (B, T, C, H, W)).

Each returns the mean over frames by default and per-frame values with
``reduction="none"``. Networks are passed with ``net=`` to avoid rebuilding them.
"""

from tgibench.metrics.functional.consistency import lpips_frames
from tgibench.metrics.functional.reconstruction import lpips, psnr, ssim

__all__ = ["lpips", "lpips_frames", "psnr", "ssim"]
