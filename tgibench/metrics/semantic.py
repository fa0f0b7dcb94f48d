"""Semantic-fidelity pillar (and CLIPSIM-frames): CLIP, X-CLIP, description trajectory, VQA.

Per-case definitions read the shared ``clip`` and ``xclip`` features (each frame goes
through CLIP once, however many of these metrics are selected); metric classes accumulate
over videos; the maths is in ``tgibench.metrics.functional.semantic``.

VQA scores plug in through :func:`register_vqa_scorer`; ``vqa_score`` (opt-in) averages
every registered scorer and is unavailable when none is registered::

    from tgibench.metrics.semantic import register_vqa_scorer

    def my_vqa(video, prompt):  # video (T, 3, H, W) in [0, 1]
        return my_model.prob_yes(video, f"Does this video show '{prompt}'?")

    register_vqa_scorer("my-vqa", my_vqa)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import torch

from tgibench.features.store import FeatureStore
from tgibench.metrics.functional.semantic import (
    TrajectoryParts,
    VQAScorer,
    adjacent_cosine,
    clip_score,
    clipsim_frames,
    default_clip_net,
    default_xclip_net,
    desc_trajectory,
    text_cosine,
    trajectory_parts,
    vqa_score,
    xclip_score,
)
from tgibench.metrics.registry import lazy_metric_classes, register_metric
from tgibench.registry import Registry
from tgibench.video import to_float
from tgibench.weights import WeightsUnavailableError

if TYPE_CHECKING:
    from torchmetrics import Metric

#: A text argument of a metric class: a str, or a (3, H, W) image (desc_trajectory anchors).
Text = str | torch.Tensor

#: The VQA scorers ``vqa_score`` averages (name → ``fn(video, prompt) -> float in [0, 1]``).
VQA_SCORERS: Registry[VQAScorer] = Registry("VQA scorer")


def register_vqa_scorer(name: str, scorer: VQAScorer) -> VQAScorer:
    """Add a VQA scorer ``scorer(video, prompt) -> probability in [0, 1]`` to ``vqa_score``."""
    return VQA_SCORERS.register(name)(scorer)


@register_metric(
    "clipsim_frames",
    pillar="consistency",
    higher_is_better=True,
    value_range=(-1.0, 1.0),
    features=("clip",),
)
def _clipsim_frames(store: FeatureStore) -> float:
    """Mean CLIP image-embedding cosine of adjacent frames (the paper's CLIPSIM-frames)."""
    return float(adjacent_cosine(store["clip"].frames).mean())


@register_metric(
    "clip_score",
    pillar="semantic",
    higher_is_better=True,
    value_range=(-1.0, 1.0),
    needs=("caption",),
    features=("clip",),
)
def _clip_score(store: FeatureStore) -> float:
    """Mean over frames of the CLIP cosine between frame and caption (raw cosine)."""
    embeddings = store["clip"]
    return float(text_cosine(embeddings.frames, embeddings.caption).mean())


def _trajectory(store: FeatureStore) -> TrajectoryParts:
    embeddings = store["clip"]
    return trajectory_parts(embeddings.frames, embeddings.first_desc, embeddings.last_desc)


@register_metric(
    "desc_trajectory",
    pillar="semantic",
    higher_is_better=True,
    value_range=(0.0, 1.0),
    needs=("descriptions",),
    features=("clip",),
)
def _desc_trajectory(store: FeatureStore) -> float:
    """Progress from the first to the last keyframe description: monotone, right ends, even."""
    return _trajectory(store).score


def _register_trajectory_part(part: str, summary: str) -> None:
    def compute(store: FeatureStore) -> float:
        return float(getattr(_trajectory(store), part))

    compute.__doc__ = summary
    register_metric(
        f"desc_{part}",
        pillar="semantic",
        higher_is_better=True,
        value_range=(0.0, 1.0),
        needs=("descriptions",),
        features=("clip",),
        default=False,
    )(compute)


_register_trajectory_part("monotonicity", "desc_trajectory part: frame pairs in the right order.")
_register_trajectory_part("endpoints", "desc_trajectory part: starts near first, ends near last.")
_register_trajectory_part("smoothness", "desc_trajectory part: no single step carries the change.")


@register_metric(
    "xclip_score",
    pillar="semantic",
    higher_is_better=True,
    value_range=(-1.0, 1.0),
    needs=("caption",),
    features=("xclip",),
)
def _xclip_score(store: FeatureStore) -> float:
    """X-CLIP text-video cosine similarity, 8 uniformly sampled frames (paper's X-CLIP)."""
    return float(store["xclip"])


@register_metric(
    "vqa_score",
    pillar="semantic",
    higher_is_better=True,
    value_range=(0.0, 1.0),
    needs=("caption",),
    default=False,
)
def _vqa_score(store: FeatureStore) -> float:
    """Mean of the registered VQA scorers (register_vqa_scorer); none registered: unavailable."""
    names = VQA_SCORERS.names()
    if not names:
        raise WeightsUnavailableError(
            "VQA scorers (none registered)",
            "Register at least one before scoring: tgibench.metrics.semantic."
            "register_vqa_scorer('name', fn) with fn(video, prompt) -> P(yes) in [0, 1].",
        )
    scorers = {name: VQA_SCORERS.get(name) for name in names}
    return float(vqa_score(to_float(store.inputs.video), store.inputs.caption, scorers))


def _shared_or_item(text: Text | Sequence[Text], b: int) -> Text:
    if isinstance(text, str) or (isinstance(text, torch.Tensor) and text.ndim == 3):
        return text
    return text[b]


def _classes() -> list[type[Metric]]:
    """The pillar's metric classes (torchmetrics: built on first access, see below)."""
    from tgibench.metrics._base import MeanOverVideos

    class _WithNet(MeanOverVideos):
        """Mean over videos of ``function(video, *texts, net=net)``, holding one frozen network.

        ``update(video, *texts)``: a (T, 3, H, W) video in [0, 1] or a batch (B, T, 3, H, W),
        with one argument per text the metric takes: a str (or a (3, H, W) anchor image)
        shared by the batch, or a sequence of B of them. ``net`` defaults to the real
        pretrained weights.
        """

        needs_target = False
        load_net: Callable[[], torch.nn.Module]

        def __init__(self, net: torch.nn.Module | None = None, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.net = net or type(self).load_net()

        # texts instead of MeanOverVideos' ground-truth video
        def update(self, video: torch.Tensor, *texts: Text | Sequence[Text]) -> None:  # type: ignore[override]
            """Add one video (or a batch) with its texts."""
            videos = video if video.ndim == 5 else video[None]
            for b in range(videos.shape[0]):
                args = [_shared_or_item(text, b) for text in texts]
                value = type(self).function(videos[b], *args, net=self.net)
                self.total += value.double().sum()
                self.count += 1

    class CLIPSIMFrames(_WithNet, metric="clipsim_frames"):
        """Mean adjacent-frame CLIP image cosine (the paper's CLIPSIM-frames), higher is better.

        ``update(video)``; range [-1, 1].
        """

        function = staticmethod(clipsim_frames)
        load_net = staticmethod(default_clip_net)

    class CLIPScore(_WithNet, metric="clip_score"):
        """Mean frame-caption CLIP cosine, higher is better: ``update(video, caption)``.

        Raw cosine in [-1, 1], not torchmetrics' ``100·max(cos, 0)``.
        """

        function = staticmethod(clip_score)
        load_net = staticmethod(default_clip_net)

    class DescTrajectory(_WithNet, metric="desc_trajectory"):
        """Keyframe-description trajectory score in [0, 1], higher is better.

        ``update(video, first_desc, last_desc)``; see ``functional.desc_trajectory``.
        """

        function = staticmethod(desc_trajectory)
        load_net = staticmethod(default_clip_net)

    class XCLIPScore(_WithNet, metric="xclip_score"):
        """X-CLIP text-video cosine similarity, higher is better: ``update(video, caption)``."""

        function = staticmethod(xclip_score)
        load_net = staticmethod(default_xclip_net)

    return [CLIPSIMFrames, CLIPScore, DescTrajectory, XCLIPScore]


#: ``CLIPSIMFrames``, ``CLIPScore``, ``DescTrajectory`` and ``XCLIPScore``, built when
#: first imported (lazy_metric_classes).
__getattr__ = lazy_metric_classes(__name__, _classes)
