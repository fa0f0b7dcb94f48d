"""Pace stability (version 3): do the frames travel from the first keyframe to the last at an
even pace, without stalls, jumps, fading or going back?

The paper measured pace only with a user study; this is an automatic definition, designed
from the failures of version 1 (which a still video or a crossfade of the keyframes could
win) and validated on re-timed real footage and camera paths (``docs/metrics.md``,
``benchmarks/pace_study.py``). Everything is read from the shared ``motion`` feature
(:class:`~tgibench.features.motion.MotionStats`: DIS optical flow forward and backward per
adjacent pair, the plain change of each pair, per-frame detail and thumbnails); no weights.

A video of T frames has n = T-1 steps. Its parts, each 0 when the pace is perfect:

- ``irregularity`` in [0, 1]: how the size of each step differs from its neighbours'.
  A step's size ``u(t)`` is the pair's share of the whole video's change, the mean of two
  shares (:data:`STEP_WEIGHT`): of the root-mean-square difference of the frames' 64-pixel
  luma thumbnails (``step``) and of their mean absolute RGB difference (``change``); both
  see motion, lighting and fades alike. The part is ``½ Σ |u(t) - ū(t)|``, with ``ū``
  the steps averaged over ±n/4 (:data:`SMOOTHING`): stalls, jumps and stutter count, a
  smooth acceleration hardly does. (Flow step sizes were tried too: they made the ranking
  of re-timings worse, see docs/metrics.md.)
- ``drift`` in [0, 1]: twice the mean gap between the video's progress curve (cumulative
  step shares, 0 at frame 0, 1 at frame T-1) and the reference's: constant speed without
  a target, the ground truth's progress with one. Late starts, early finishes, easing.
- ``fade`` in [0, 1]: the share of the transition made by fading instead of moving. When
  the keyframes differ in content (thumbnail distance ≥ :data:`CONTENT_CHANGE` [1]), the
  in-between frames of a moving scene are not mixtures of the keyframes, and those of a
  fade are, and its change is explained by motion, which a fade's or noise's is not: the
  fade is the larger of :func:`mixture_share` mapped by :data:`MIXTURE` and of the
  unexplained share (:func:`explained_share` mapped by :data:`EXPLAINED`). When they barely
  differ (≤ :data:`CONTENT_CHANGE` [0]: a near-static scene, a change of light), the true
  frames are near-mixtures too, so the fade shows instead as blended frames whose detail
  departs from the keyframes' (``detail``, a log ratio mapped by :data:`DETAIL_ANOMALY`).
  In between, the two are mixed linearly.
- ``backtrack`` in [0, 1]: twice the share of motion going back (1 when half of it goes
  back), the smaller of two views:
  flow against the local path (each cell's flow projected on the sum of its flows over
  ±n/4 pairs, so a curved path is not penalised), and the thumbnails' progress from the
  first frame to the last, ``q(k) = d(k, 0) / (d(k, 0) + d(k, T-1))``, going down. A video
  must be seen going back both ways to be penalised (flow is blind to lighting, the
  thumbnails to large motion). The flow view also counts half the path's inefficiency
  over windows of n/4 pairs (jerky, shuffled frames whose local sums point nowhere).

``pace_stability = (1 - irregularity)(1 - drift)(1 - fade)(1 - backtrack)``, in [0, 1],
higher is better. With a target (the ground truth), irregularity, fade and backtrack count
only what exceeds the target's own, and drift is measured against the target's progress.
A video whose frames do not change at all (total change below :data:`MIN_CHANGE`) scores
0: it does not travel.

Version 3 (the same true video at half resolution must move by at most 0.03) changed two
things. (1) Step sizes were shares of ``change`` alone (mean absolute
difference at the video's resolution), which loses fine texture at half resolution on
large steps (-6 to -18 % on footage and zooms) while per-frame JPEG noise adds a floor that
weighs more on small steps: the shares, and ``drift``, moved by up to 0.042. ``step``
(RMS difference of fixed-size thumbnails: the same content at every size, and the square
lets the content's large differences outweigh the noise) moves ``drift`` by at most 0.013,
but alone it ranked re-timings of dynamic motion worse (tau 0.846 on the extra clips'
dynamic motion; likely because the RMS of small thumbnails under-reads fast steps); half
of each keeps both within bounds: at most 0.03 at half resolution, and tau of at least
0.85 (docs/metrics.md). (2) :data:`UNMATCHED`
starts at 0.6 instead of 0.55: a fast arc over a black sky (hubble_arc, 25 frames) leaves
0.46 of its change unmatched at full and 0.56 at half resolution (the flow matches less on
80x144 frames), which version 2 counted as fade.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tgibench.features.motion import MotionStats, motion_stats
from tgibench.metrics.functional._video import batched
from tgibench.video import VideoError, check_video

#: Half-width of the window, as a share of the n steps, that a step is compared with.
SMOOTHING = 0.25
#: Weight of ``step`` shares (thumbnail RMS, nearly resolution-free) against ``change``
#: shares (full-resolution mean absolute difference) in a step's size.
STEP_WEIGHT = 0.5
#: Share of the in-between frames' departure from the keyframes that mixtures of the
#: keyframes explain (see :func:`mixture_share`) that maps to no fade and to full fade.
MIXTURE: tuple[float, float] = (0.3, 0.8)
#: Share of the pixel change made by unmatched pixels (:func:`unmatched_share`) that maps
#: to no and to full incoherence (frames unrelated to their neighbours: noise).
UNMATCHED: tuple[float, float] = (0.6, 0.85)
#: Thumbnail distance of the keyframes (see MotionStats.appearance) below which the scene
#: is treated as near-static (fading shows in detail) and above which as moving (fading
#: shows as change that motion does not explain).
CONTENT_CHANGE: tuple[float, float] = (0.25, 0.4)
#: |log| departure of an in-between frame's detail from the keyframes' (interpolated)
#: that maps to no fade and to full fade.
DETAIL_ANOMALY: tuple[float, float] = (0.03, 0.12)
#: Total pixel change (sum over pairs of the mean absolute RGB change) below which a video
#: does not travel at all.
MIN_CHANGE = 1e-4
_EPS = 1e-9


@dataclass(frozen=True)
class PaceParts:
    """The parts of pace stability (module docstring), each in [0, 1], 0 when perfect."""

    irregularity: float
    drift: float
    fade: float
    backtrack: float

    @property
    def score(self) -> float:
        """Pace stability in [0, 1], higher is better: the product of the four shares."""
        return (1 - self.irregularity) * (1 - self.drift) * (1 - self.fade) * (1 - self.backtrack)


#: What a video that does not change at all scores: it does not travel.
STILL = PaceParts(irregularity=1.0, drift=1.0, fade=1.0, backtrack=1.0)


def _ramp(x: float, low: float, high: float) -> float:
    """0 at or below ``low``, 1 at or above ``high``, linear in between."""
    return min(1.0, max(0.0, (x - low) / (high - low)))


def _shares(values: torch.Tensor) -> torch.Tensor:
    values = values.double().clamp_min(0) + _EPS
    return values / values.sum()


def step_shares(motion: MotionStats) -> torch.Tensor:
    """(n,) float64 size of each step as a share of the video's whole change, summing
    to 1: the mean, weighted by :data:`STEP_WEIGHT`, of the shares of ``motion.step`` (RMS
    difference of consecutive luma thumbnails) and of ``motion.change`` (mean absolute RGB
    difference)."""
    return STEP_WEIGHT * _shares(motion.step) + (1 - STEP_WEIGHT) * _shares(motion.change)


def progress(motion: MotionStats) -> torch.Tensor:
    """(T,) float64 progress of each frame along the video's travel, 0 at frame 0 and 1 at
    frame T-1: the cumulative step shares (:func:`step_shares`)."""
    return torch.cat([torch.zeros(1, dtype=torch.float64), step_shares(motion).cumsum(0)])


def _irregularity(shares: torch.Tensor) -> float:
    n = shares.numel()
    half = max(1, round(n * SMOOTHING))
    padded = torch.nn.functional.pad(shares[None, None], (half, half), mode="constant")
    counts = torch.nn.functional.pad(torch.ones_like(shares)[None, None], (half, half))
    kernel = torch.ones(1, 1, 2 * half + 1, dtype=shares.dtype)
    local = (
        torch.nn.functional.conv1d(padded, kernel) / torch.nn.functional.conv1d(counts, kernel)
    )[0, 0]
    return float((shares - local).abs().sum() / 2)


def _drift(shares: torch.Tensor, reference: torch.Tensor) -> float:
    if shares.numel() < 2:
        return 0.0
    gap = (shares.cumsum(0)[:-1] - reference.cumsum(0)[:-1]).abs().mean()
    return min(1.0, 2 * float(gap))


def mixture_share(motion: MotionStats) -> float:
    """Share of the in-between frames' departure from the nearer keyframe that a mixture of
    the two keyframes explains, in [0, 1]: about 1 for a crossfade (its frames *are*
    mixtures), about 0 for a moving scene, high for a change of light (also a mixture)."""
    nearer, residual = motion.mixture[1:-1].double().unbind(dim=1)
    total = float(nearer.sum())
    return float((nearer - residual).clamp_min(0).sum()) / total if total > _EPS else 0.0


def unmatched_share(motion: MotionStats) -> float:
    """Share of the video's pixel change made by pixels that the flow cannot match between
    consecutive frames (``occluded``), in [0, 1]: ≈1 for noise, 0-0.3 for real footage and
    camera paths, ≈0 for a fade or a change of light (their frames still match)."""
    change = motion.change.double()
    total = float(change.sum())
    return float((change * motion.occluded.double()).sum()) / total if total > _EPS else 0.0


def _detail_anomaly(motion: MotionStats) -> float:
    detail = motion.detail.double().clamp_min(_EPS).log()
    if detail.numel() < 3:
        return 0.0
    steps = torch.arange(detail.numel(), dtype=torch.float64) / (detail.numel() - 1)
    reference = detail[0] + (detail[-1] - detail[0]) * steps  # exact: no CPU-chosen path
    return float((detail - reference)[1:-1].abs().max())


def _fade(motion: MotionStats) -> float:
    moving = _ramp(float(motion.appearance[-1, 0]), *CONTENT_CHANGE)
    by_mixture = _ramp(mixture_share(motion), *MIXTURE)
    by_detail = _ramp(_detail_anomaly(motion), *DETAIL_ANOMALY)
    incoherent = _ramp(unmatched_share(motion), *UNMATCHED)
    return max(incoherent, moving * by_mixture + (1 - moving) * min(by_mixture, by_detail))


def _flow_backtrack(motion: MotionStats) -> float:
    """Share of flow going back: the larger of (a) each cell's flow projected on the sum of
    its flows over ±n/4 pairs (the local path), counted where negative, and (b) half the
    path's inefficiency over windows of n/4 pairs (1 - |net flow| / path length), which
    sees jerky shuffles whose local sums point nowhere."""
    flows = motion.grid.double().flatten(1, 2)  # (n, cells, 2)
    n = flows.shape[0]
    half = max(1, round(n * SMOOTHING))
    backward = forward = 0.0
    for t in range(n):
        path = flows[max(0, t - half) : t + half + 1].sum(dim=0)  # (cells, 2)
        direction = path / path.norm(dim=-1, keepdim=True).clamp_min(_EPS)
        along = (flows[t] * direction).sum(dim=-1)
        backward += float(along.clamp(max=0).abs().sum())
        forward += float(along.clamp(min=0).sum())
    against_path = backward / max(backward + forward, _EPS)
    width = max(2, half)
    efficiencies = []
    for start in range(max(1, n - width + 1)):
        window = flows[start : start + width]
        length = float(window.norm(dim=-1).sum())
        if length > _EPS:
            efficiencies.append(float(window.sum(dim=0).norm(dim=-1).sum()) / length)
    inefficiency = 1 - sum(efficiencies) / len(efficiencies) if efficiencies else 0.0
    return max(against_path, inefficiency / 2)


def _appearance_backtrack(motion: MotionStats) -> float:
    to_first, to_last = motion.appearance.double().unbind(dim=1)
    along = to_first / (to_first + to_last).clamp_min(_EPS)
    steps = along.diff()
    total = float(steps.abs().sum())
    return float(steps.clamp(max=0).abs().sum()) / total if total > _EPS else 0.0


def _backtrack(motion: MotionStats) -> float:
    return min(1.0, 2 * min(_flow_backtrack(motion), _appearance_backtrack(motion)))


def pace_parts(motion: MotionStats, reference: MotionStats | None = None) -> PaceParts:
    """The parts of pace stability from a video's motion statistics (T-1 pairs).

    ``reference`` is the ground truth's motion (same number of pairs), or None to judge
    the pace against constant speed.

    >>> import torch
    >>> from tgibench.features.motion import motion_stats
    >>> x, y = torch.arange(96.0), torch.arange(48.0)[:, None]
    >>> def view(dx):  # a smooth texture seen dx pixels further right, (3, 48, 96)
    ...     return (0.5 + 0.2 * torch.sin((x + dx) / 4) * torch.cos(y / 5)).expand(3, -1, -1)
    >>> pan = motion_stats(torch.stack([view(1.5 * t) for t in range(9)]))
    >>> round(pace_parts(pan).score, 2)
    0.99
    >>> still = motion_stats(torch.stack([view(0.0)] * 9))
    >>> pace_parts(still).score
    0.0
    """
    if float(motion.change.double().sum()) < MIN_CHANGE:
        return STILL
    shares = step_shares(motion)
    n = shares.numel()
    if reference is None:
        return PaceParts(
            irregularity=_irregularity(shares),
            drift=_drift(shares, torch.full_like(shares, 1.0 / n)),
            fade=_fade(motion),
            backtrack=_backtrack(motion),
        )
    if reference.change.numel() != n:
        raise VideoError(
            f"video and target differ in length: {n + 1} vs {reference.change.numel() + 1} frames"
        )
    truth = step_shares(reference)
    return PaceParts(
        irregularity=max(0.0, _irregularity(shares) - _irregularity(truth)),
        drift=_drift(shares, truth),
        fade=max(0.0, _fade(motion) - _fade(reference)),
        backtrack=max(0.0, _backtrack(motion) - _backtrack(reference)),
    )


def motion_travel(motion: MotionStats) -> float:
    """How far a video's content moves, in frame diagonals: the sum over pairs of the mean
    flow magnitude over matched pixels times their share (unmatched pixels, which a fade or
    a cut leaves, do not count). 0 for a still video; about 0 for a crossfade."""
    visible = 1 - motion.occluded.double()
    return float((motion.magnitude.double() * visible).sum()) / motion.diagonal


def motion_reach_of(motion: MotionStats, reference: MotionStats) -> float:
    """Share of the reference's motion that a video performs, ``min(1, travel(video) /
    travel(reference))`` (:func:`motion_travel`), in [0, 1], higher is better; 1 when the
    reference does not move at all."""
    wanted = motion_travel(reference)
    return 1.0 if wanted <= _EPS else min(1.0, motion_travel(motion) / wanted)


@batched
def motion_reach(video: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Share of the ground truth's motion that a (T, 3, H, W) video performs, in [0, 1],
    higher is better (0-d tensor): 0 for a still video, low for a crossfade of the
    keyframes (whose ghosts flow reads as a little motion), 1 when the content moves at
    least as far as in ``target``. It does not judge where or how evenly things move
    (pace_stability does) and more motion than the truth is not
    penalised: read it next to the frame-consistency metrics, which a video that does not
    move wins.

    >>> x, y = torch.arange(96.0), torch.arange(48.0)[:, None]
    >>> def view(dx):  # a smooth texture seen dx pixels further right, (3, 48, 96)
    ...     return (0.5 + 0.2 * torch.sin((x + dx) / 4) * torch.cos(y / 5)).expand(3, -1, -1)
    >>> pan = torch.stack([view(1.5 * t) for t in range(9)])
    >>> float(motion_reach(pan[[0] * 9], pan)), round(float(motion_reach(pan, pan)), 2)
    (0.0, 1.0)
    """
    check_video(video, min_frames=2)
    check_video(target, name="target", min_frames=2)
    if target.shape != video.shape:
        raise VideoError(
            f"video {tuple(video.shape)} and target {tuple(target.shape)} differ in shape"
        )
    return torch.tensor(motion_reach_of(motion_stats(video), motion_stats(target)))


@batched
def pace_stability(video: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
    """Pace stability of a (T, 3, H, W) video in [0, 1], higher is better (0-d tensor).

    1 when the frames travel from the first to the last at the reference pace (the ground
    truth's when ``target``, same shape, is given; else constant speed), by motion, never
    going back. Detects stalls, jumps, cuts, stutter, late starts and early finishes,
    crossfades and freeze-then-fade, and back-and-forth motion; a video that does not
    change scores 0. See the module docstring and :func:`pace_parts`. No weights needed.

    >>> x, y = torch.arange(96.0), torch.arange(48.0)[:, None]
    >>> def view(dx):  # a smooth texture seen dx pixels further right, (3, 48, 96)
    ...     return (0.5 + 0.2 * torch.sin((x + dx) / 4) * torch.cos(y / 5)).expand(3, -1, -1)
    >>> pan = torch.stack([view(1.5 * t) for t in range(9)])  # 1.5 px per frame
    >>> round(float(pace_stability(pan)), 2)
    0.99
    >>> held = pan[[0, 0, 0, 0, 8, 8, 8, 8, 8]]  # a freeze, one jump, a freeze
    >>> float(pace_stability(held)) < 0.5
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
