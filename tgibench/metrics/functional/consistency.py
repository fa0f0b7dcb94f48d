"""Frame consistency: how smoothly a generated video goes from one frame to the next."""

from __future__ import annotations

import torch

from tgibench.features.lpips_net import LPIPSNet, lpips_distances
from tgibench.metrics.functional._video import Reduction, batched, reduce
from tgibench.metrics.functional.reconstruction import default_lpips_net
from tgibench.video import check_video


@batched
def lpips_frames(
    video: torch.Tensor, reduction: Reduction = "mean", net: LPIPSNet | None = None
) -> torch.Tensor:
    """Mean LPIPS between adjacent frames (the paper's LPIPS-frames), lower is better.

    Range [0, ~1]; ``reduction="none"`` gives the (T-1,) per-pair values. Detects
    flicker, jumps and incoherent frames; a frozen video scores 0, so read it together
    with a motion or pace metric.
    """
    check_video(video, min_frames=2)
    return reduce(lpips_distances(net or default_lpips_net(), video).adjacent, reduction)
