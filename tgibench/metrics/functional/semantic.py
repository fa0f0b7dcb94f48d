"""Semantic fidelity (and CLIPSIM-frames): how well frames match the texts, and each other.

Two layers: maths on embeddings (unit-normalised here, so raw model outputs are fine) and
video-level functions that embed a (T, C, H, W) video in [0, 1] (or a batch
(B, T, C, H, W)) with a CLIP or X-CLIP network passed as ``net=`` (built once and
reused; by default the real pretrained weights, see ``tgibench.features.clip``).

All similarities are raw cosines in [-1, 1]: no ×100 and no clamping at 0 (unlike
torchmetrics' ``CLIPScore``, which reports ``100·max(cos, 0)``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from tgibench.features.clip import CLIPNet, load_clip
from tgibench.features.xclip import XCLIPNet, load_xclip
from tgibench.metrics.functional._video import Reduction, batched, reduce
from tgibench.video import check_video

#: A VQA-style scorer: ``fn(video (T, 3, H, W) in [0, 1], prompt) -> probability in [0, 1]``.
VQAScorer = Callable[[torch.Tensor, str], float]


def adjacent_cosine(embeds: torch.Tensor) -> torch.Tensor:
    """Cosine similarity (T-1,) of consecutive rows of (T, D) embeddings, in [-1, 1] (float
    rounding can otherwise give 1 + 1e-7 for identical frames)."""
    return F.cosine_similarity(embeds[:-1], embeds[1:], dim=-1).clamp(-1.0, 1.0)


def text_cosine(embeds: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    """Cosine similarity (T,) of each row of (T, D) frame embeddings with a (D,) text, in
    [-1, 1]."""
    return F.cosine_similarity(embeds, text[None], dim=-1).clamp(-1.0, 1.0)


@dataclass(frozen=True)
class TrajectoryParts:
    """The keyframe-description trajectory of one video, and its three parts.

    ``progress``: (T,) ``d(t) = cos(frame t, last) - cos(frame t, first)``.
    ``monotonicity``: share of frame pairs (i < j) in the right order, d(j) > d(i)
    (ties count ½), in [0, 1]: 1 monotone, ½ shuffled or frozen, 0 reversed.
    ``endpoints``: (1[d(0) < 0] + 1[d(T-1) > 0]) / 2 (ties count ½): the video starts
    nearer the first anchor and ends nearer the last, in {0, ¼, ½, ¾, 1}.
    ``smoothness``: ``(1 - max|Δd| / Σ|Δd|) / (1 - 1/(T-1))``, in [0, 1]: 1 when every
    step of d has the same size, 0 when one step carries all the change (or nothing
    changes).
    ``score``: their product, in [0, 1], higher is better: a good inbetween must go the
    right way, start and end at the right descriptions, and not jump.
    """

    progress: torch.Tensor
    monotonicity: float
    endpoints: float
    smoothness: float

    @property
    def score(self) -> float:
        return self.monotonicity * self.endpoints * self.smoothness


def _share_above(values: torch.Tensor, eps: float) -> torch.Tensor:
    """1 where a value is above 0, ½ where it is within ``eps`` of 0, else 0."""
    return (values >= eps).double() + 0.5 * (values.abs() < eps).double()


def trajectory_parts(
    frames: torch.Tensor, first: torch.Tensor, last: torch.Tensor, eps: float = 1e-6
) -> TrajectoryParts:
    """Score how frames (T, D) move from the ``first`` (D,) anchor to the ``last`` (D,) one.

    Along a good inbetween the similarity to the last description rises and the
    similarity to the first falls, evenly: d(t) (see :class:`TrajectoryParts`) increases
    in equal steps from below 0 to above 0. Monotonicity counts frame pairs rather than
    adjacent steps, so that small frame-to-frame jitter of the embeddings does not read as
    going backwards. Differences of d below ``eps`` count as none (the float32 noise of
    embedding the same frame in different batches).

    >>> t = torch.linspace(0, 1, 9)
    >>> a, b = (1 - t) / 2, t / 2  # cosines to the first and last anchors: d(t) = t - 1/2
    >>> frames = torch.stack([a, b, (1 - a**2 - b**2).sqrt()], 1)  # unit-norm rows
    >>> first, last = torch.eye(3)[0], torch.eye(3)[1]
    >>> round(trajectory_parts(frames, first, last).score, 6)
    1.0
    >>> trajectory_parts(frames.flip(0), first, last).score  # reversed
    0.0
    """
    if frames.ndim != 2 or frames.shape[0] < 2:
        raise ValueError(f"expected (T, D) embeddings with T >= 2, got {tuple(frames.shape)}")
    d = (text_cosine(frames, last) - text_cosine(frames, first)).double()
    i, j = torch.triu_indices(d.numel(), d.numel(), offset=1)
    later_minus_earlier = d[j] - d[i]
    monotonicity = float(_share_above(later_minus_earlier, eps).mean())
    steps = d.diff().abs()
    steps = steps.where(steps >= eps, torch.zeros_like(steps))
    total = float(steps.sum())
    if total == 0:
        smoothness = 0.0
    elif steps.numel() == 1:
        smoothness = 1.0
    else:
        largest_share = float(steps.max()) / total
        smoothness = min(max((1 - largest_share) / (1 - 1 / steps.numel()), 0.0), 1.0)
    endpoints = float(_share_above(torch.stack([-d[0], d[-1]]), eps).mean())
    return TrajectoryParts(d.float(), monotonicity, endpoints, smoothness)


@functools.lru_cache(maxsize=1)
def default_clip_net() -> CLIPNet:
    """The CLIP network used when none is passed (built once per process, real weights)."""
    return load_clip()


@functools.lru_cache(maxsize=1)
def default_xclip_net() -> XCLIPNet:
    """The X-CLIP network used when none is passed (built once per process)."""
    return load_xclip()


def _anchor(net: CLIPNet, anchor: str | torch.Tensor) -> torch.Tensor:
    """Embedding (D,) of a description (str) or an image (3, H, W) in [0, 1]."""
    if isinstance(anchor, str):
        return net.encode_texts([anchor])[0]
    return net.encode_images(anchor[None])[0]


@batched
def clipsim_frames(
    video: torch.Tensor, reduction: Reduction = "mean", net: CLIPNet | None = None
) -> torch.Tensor:
    """Mean cosine of adjacent frames' CLIP image embeddings (the paper's CLIPSIM-frames).

    Higher is better, range [-1, 1] (≈0.96-0.99 for real videos under real CLIP);
    ``reduction="none"`` gives the (T-1,) per-pair values. Detects abrupt changes of
    content between frames; a frozen video scores 1, so read it with a pace metric.
    """
    check_video(video, min_frames=2)
    embeds = (net or default_clip_net()).encode_images(video)
    return reduce(adjacent_cosine(embeds), reduction)


@batched
def clip_score(
    video: torch.Tensor, caption: str, reduction: Reduction = "mean", net: CLIPNet | None = None
) -> torch.Tensor:
    """Mean over frames of the cosine between each frame's and the caption's CLIP embedding.

    Higher is better, range [-1, 1] (raw cosine; real CLIP gives ≈0.2-0.35 for matching
    pairs); ``reduction="none"`` gives (T,) per-frame values. Every frame counts, the
    keyframes included. Detects frames that do not show what the caption says; it is
    blind to frame order.
    """
    check_video(video, min_frames=1)
    net = net or default_clip_net()
    return reduce(text_cosine(net.encode_images(video), net.encode_texts([caption])[0]), reduction)


@batched
def desc_trajectory(
    video: torch.Tensor,
    first_desc: str | torch.Tensor,
    last_desc: str | torch.Tensor,
    net: CLIPNet | None = None,
) -> torch.Tensor:
    """Keyframe-description trajectory score (new), in [0, 1], higher is better.

    The anchors are the first and last keyframe descriptions (str), or images (3, H, W)
    in [0, 1] to anchor on the keyframes themselves. Returns a 0-d tensor, the product of
    monotonicity, endpoint correctness and smoothness of d(t) = cos(frame t, last) -
    cos(frame t, first) (see :func:`trajectory_parts`). Detects videos that drift the
    wrong way, shuffle, go back and forth, or stall and then jump; 1 for a video whose
    progress rises in equal steps from the first anchor to the last.
    """
    check_video(video, min_frames=2)
    net = net or default_clip_net()
    parts = trajectory_parts(
        net.encode_images(video), _anchor(net, first_desc), _anchor(net, last_desc)
    )
    return torch.tensor(parts.score)


@batched
def xclip_score(video: torch.Tensor, caption: str, net: XCLIPNet | None = None) -> torch.Tensor:
    """X-CLIP text–video cosine similarity (the paper's X-CLIP score), higher is better.

    Range [-1, 1] (the paper reports ≈0.21-0.23); 8 frames sampled uniformly, keyframes
    included (``tgibench.features.xclip``). Returns a 0-d tensor.
    """
    check_video(video, min_frames=1)
    return (net or default_xclip_net()).similarity(video, [caption])[0]


@batched
def vqa_score(video: torch.Tensor, prompt: str, scorers: Mapping[str, VQAScorer]) -> torch.Tensor:
    """Mean over VQA scorers of ``scorer(video, prompt)``, each in [0, 1]; higher is better.

    The paper averages six video-QA models; plug yours in as functions (e.g. the
    probability of "yes" to "Does this video show '{prompt}'?"). Raises ValueError when
    no scorer is given or one returns a value outside [0, 1].
    """
    check_video(video, min_frames=1)
    if not scorers:
        raise ValueError("vqa_score needs at least one scorer")
    values = []
    for name, scorer in scorers.items():
        value = float(scorer(video, prompt))
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"VQA scorer {name!r} returned {value}, outside [0, 1]")
        values.append(value)
    return torch.tensor(sum(values) / len(values))
