"""Frame consistency: how smoothly a generated video goes from one frame to the next."""

from __future__ import annotations

import torch

from tgibench.features.lpips_net import LPIPSNet, lpips_distances
from tgibench.features.motion import MotionStats, motion_stats
from tgibench.metrics.functional._video import Reduction, batched, reduce
from tgibench.metrics.functional.reconstruction import default_lpips_net
from tgibench.video import VideoError, check_video


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


@batched
def warping_error(video: torch.Tensor, reduction: Reduction = "mean") -> torch.Tensor:
    """Flow warping error (EvalCrafter-style, with DIS flow), lower is better.

    For each adjacent pair of a (T, 3, H, W) video in [0, 1], frame t+1 is warped back
    onto frame t with the forward optical flow and compared with it: the mean absolute
    RGB error over the pixels visible in both frames (forward-backward consistent, not
    leaving the frame). Range [0, 1]; ``reduction="none"`` gives the (T-1,) per-pair
    values. Detects content that does not follow the motion (appearing, vanishing,
    morphing or flickering pixels) while ignoring motion itself; a frozen video scores 0,
    so read it with a pace metric.

    >>> video = torch.linspace(0, 1, 40).repeat(3, 30, 1)[None].expand(5, -1, -1, -1)
    >>> round(float(warping_error(video)), 6)  # a still video
    0.0
    """
    return reduce(motion_stats(video).warp_error, reduction)


def flicker_values(motion: MotionStats) -> torch.Tensor:
    """Per interior frame (T-2,) flicker of a video from its motion statistics, in [0, 1].

    Let ``b(t)`` be the brightness change from frame t to t+1 that motion does not explain
    (``motion.residual``, per RGB channel) and ``L(t) = b(0) + ... + b(t-1)`` the
    motion-compensated brightness of frame t. Flicker at frame t is the deviation of
    ``L(t)`` from the mean of its neighbours, ``|b(t-1) - b(t)| / 2``, averaged over
    channels: zero for constant brightness and for a steady fade, ``δ`` at a frame ``δ``
    brighter than both neighbours (so ``2δ`` for brightness alternating by ``±δ``).
    """
    if motion.residual.shape[0] < 2:
        raise VideoError("flicker needs at least 3 frames")
    return motion.residual.diff(dim=0).abs().mean(dim=1) / 2


@batched
def flicker(video: torch.Tensor, reduction: Reduction = "mean") -> torch.Tensor:
    """Temporal flicker after motion compensation, lower is better, range [0, 1].

    Brightness changes between frames that neither motion nor a steady trend explains
    (see :func:`flicker_values`): unlike VBench's adjacent-frame difference, a clean
    pan, zoom or fade scores ~0 and only back-and-forth brightness (flicker, exposure
    pumping, a frame brighter than its neighbours) counts. ``reduction="none"`` gives
    the (T-2,) per-frame values of the interior frames; needs T >= 3.
    """
    check_video(video, min_frames=3)
    return reduce(flicker_values(motion_stats(video)), reduction)


@batched
def keyframe_adherence(
    video: torch.Tensor,
    keyframes: torch.Tensor,
    reduction: Reduction = "mean",
    net: LPIPSNet | None = None,
) -> torch.Tensor:
    """LPIPS between generated end frames and the given keyframes, lower is better.

    ``keyframes`` is (2, 3, H, W): the given first and last keyframe (for a batch,
    (B, 2, 3, H, W)). The value is the mean of LPIPS(frame 0, first) and
    LPIPS(frame T-1, last); ``reduction="none"`` gives both, shape (2,). Range [0, ~1];
    0 when the video starts and ends exactly on its keyframes. Detects models that drift
    away from, recolour or replace the keyframes they were given.
    """
    check_video(video, min_frames=2)
    check_video(keyframes, name="keyframes", min_frames=2)
    if keyframes.shape[0] != 2 or keyframes.shape[1:] != video.shape[1:]:
        raise VideoError(
            f"keyframes must be (2, {', '.join(map(str, video.shape[1:]))}), "
            f"got {tuple(keyframes.shape)}"
        )
    ends = video[[0, -1]]
    distances = lpips_distances(
        net or default_lpips_net(), ends, keyframes=(keyframes[0], keyframes[1])
    )
    assert distances.to_keyframes is not None
    return reduce(distances.to_keyframes, reduction)
