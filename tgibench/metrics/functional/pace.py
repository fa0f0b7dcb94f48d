"""Pace stability: does a video's motion progress evenly from the first keyframe to the last?

The paper measured pace only with a user study; this is an automatic definition built on
optical flow (see ``docs/metrics.md`` for the controlled validation).

Each adjacent pair t → t+1 (t = 0 .. n-1, n = T-1) has a step size ``m(t)``: its mean
flow magnitude in pixels plus :data:`STILL_PX`. Its share of all motion is
``u(t) = m(t) / Σ m``. The *reference* pacing ``v(t)`` is the ground truth's, computed the
same way, when a target is given, and uniform (``1/n``) otherwise: with ground truth, a
video that accelerates exactly as the ground truth does is perfectly paced; without it,
any change of speed is penalised. Four parts, each 0 for perfect pace:

- ``unevenness = ½ Σ |u(t) - v(t)|`` in [0, 1]: the share of the motion that happens at
  other steps than the reference puts it (ease-in/out, stalls, stutter);
- ``jump = 1 - 1 / max_t ρ(t)`` with ``ρ(t) = u(t) / v(t)`` the speed relative to the
  reference (its v-weighted mean is 1), in [0, 1): the largest step relative to the mean
  step; 0.5 when one step is twice as large as it should be (a stall followed by a jump);
- ``backtrack`` in [0, ½]: the share of motion that goes against the net motion of the
  video (each pair's coarse flow field projected on the sum of all pairs' flow fields),
  minus the reference's share when a target is given (clipped at 0);
- ``progress_deviation`` in [0, 1]: mean over the in-between frames of
  ``|P(k) - P_ref(k)|``, where ``P(k) = u(0) + ... + u(k-1)`` is how far along its path
  frame k is: the global shape of the progress curve (a late start, an early finish).

``pace_stability = (1 - unevenness)(1 - jump)(1 - 2·backtrack)(1 - progress_deviation)``,
in [0, 1], higher is better: each factor is a share of the motion that is well paced
(on time, no larger than the mean step, going forward, along the reference curve).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from tgibench.features.motion import MotionStats, motion_stats
from tgibench.metrics.functional._video import batched
from tgibench.video import VideoError, check_video

#: Flow below this many pixels per frame is indistinguishable from Farneback's noise on
#: real footage; it is added to every step size so that still pairs have a finite share.
STILL_PX = 0.1


@dataclass(frozen=True)
class PaceParts:
    """The four parts of pace stability (module docstring), each 0 when perfectly paced."""

    unevenness: float
    jump: float
    backtrack: float
    progress_deviation: float

    @property
    def score(self) -> float:
        """Pace stability in [0, 1], higher is better: the product of the four shares."""
        return (
            (1 - self.unevenness)
            * (1 - self.jump)
            * (1 - 2 * self.backtrack)
            * (1 - self.progress_deviation)
        )


def _shares(motion: MotionStats) -> torch.Tensor:
    """(n,) share of the video's motion in each adjacent pair, float64, summing to 1."""
    steps = motion.magnitude.double() + STILL_PX
    return steps / steps.sum()


def progress(motion: MotionStats) -> torch.Tensor:
    """(T,) float64 progress of each frame along the video's motion, 0 at frame 0 and 1 at
    frame T-1: the cumulative share of flow magnitude (each step counted with
    :data:`STILL_PX` more, so a still video progresses linearly)."""
    return torch.cat([torch.zeros(1, dtype=torch.float64), _shares(motion).cumsum(0)])


def _backward_share(motion: MotionStats) -> float:
    """Share of motion (pixels per grid cell) that goes against the video's net motion."""
    flows = motion.grid.flatten(1).double()  # (n, cells * 2)
    net = flows.sum(dim=0)
    if float(net.norm()) == 0.0:
        return 0.0
    signed = flows @ (net / net.norm()) / math.sqrt(flows.shape[1] / 2)
    backward = float(signed.clamp(max=0).abs().sum())
    forward = float(signed.clamp(min=0).sum())
    return backward / (forward + backward + STILL_PX * flows.shape[0])


def pace_parts(motion: MotionStats, reference: MotionStats | None = None) -> PaceParts:
    """The parts of pace stability from a video's motion statistics (T-1 pairs).

    ``reference`` is the ground truth's motion (same number of pairs), or None to judge
    the pace against uniform speed.

    >>> from tgibench.features.motion import MotionStats
    >>> def still_then_jump(n):  # flow of n pairs: nothing, then 8 px in the last pair
    ...     grid = torch.zeros(n, 8, 8, 2)
    ...     grid[-1, ..., 0] = 8.0
    ...     zeros = torch.zeros(n)
    ...     return MotionStats(zeros, torch.zeros(n, 3), grid.norm(dim=-1).mean((1, 2)), zeros, grid)
    >>> parts = pace_parts(still_then_jump(4))
    >>> round(parts.jump, 3), round(parts.score, 3)
    (0.741, 0.039)
    >>> pace_parts(still_then_jump(4), reference=still_then_jump(4)).score
    1.0
    """
    u = _shares(motion)
    n = u.numel()
    if reference is None:
        v = torch.full_like(u, 1.0 / n)
        reference_backtrack = 0.0
    else:
        if reference.magnitude.numel() != n:
            raise VideoError(
                f"video and target differ in length: {n + 1} vs "
                f"{reference.magnitude.numel() + 1} frames"
            )
        v = _shares(reference)
        reference_backtrack = _backward_share(reference)
    progress, reference_progress = u.cumsum(0)[:-1], v.cumsum(0)[:-1]  # frames 1 .. n-1
    return PaceParts(
        unevenness=float((u - v).abs().sum() / 2),
        jump=1 - 1 / float((u / v).max()),
        backtrack=max(_backward_share(motion) - reference_backtrack, 0.0),
        progress_deviation=float((progress - reference_progress).abs().mean()) if n > 1 else 0.0,
    )


@batched
def pace_stability(video: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
    """Pace stability of a (T, 3, H, W) video in [0, 1], higher is better (0-d tensor).

    1 when the motion progresses at the reference pace: the ground truth's when
    ``target`` (same shape) is given, else uniform speed. Detects uneven speed, stalls
    followed by jumps (the ``hold`` baseline scores ~0), stutter (duplicated or
    alternating frames) and motion going back and forth; see the module docstring for
    the definition and :func:`pace_parts` for its parts. Motion is Farneback optical
    flow (two passes per adjacent pair); no weights are needed.

    >>> x, y = torch.arange(64.0), torch.arange(32.0)[:, None]
    >>> def view(dx):  # a smooth texture seen dx pixels further right, (3, 32, 64)
    ...     return (0.5 + 0.2 * torch.sin((x + dx) / 3) * torch.cos(y / 4)).expand(3, -1, -1)
    >>> pan = torch.stack([view(2.0 * t) for t in range(9)])  # 2 px per frame
    >>> round(float(pace_stability(pan)), 2)
    1.0
    >>> held = pan[[0, 0, 0, 0, 8, 8, 8, 8, 8]]  # a freeze, one jump, a freeze
    >>> float(pace_stability(held)) < 0.2
    True
    """
    check_video(video, min_frames=2)
    reference = None
    if target is not None:
        check_video(target, name="target", min_frames=2)
        if target.shape != video.shape:
            raise VideoError(
                f"video {tuple(video.shape)} and target {tuple(target.shape)} differ in shape"
            )
        reference = motion_stats(target)
    return torch.tensor(pace_parts(motion_stats(video), reference).score)
