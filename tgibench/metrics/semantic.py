"""Semantic-fidelity pillar (and CLIPSIM-frames): CLIP, X-CLIP, description trajectory, VQA.

Per-case definitions read the shared ``clip`` and ``xclip`` features (each frame goes
through CLIP once, however many of these metrics are selected); the metric classes are in
``tgibench.metrics._classes``; the maths is in ``tgibench.metrics.functional.semantic``.

VQA scores plug in through :func:`register_vqa_scorer`; ``vqa_score`` (opt-in) averages
every registered scorer and is unavailable when none is registered::

    from tgibench.metrics.semantic import register_vqa_scorer

    def my_vqa(video, prompt):  # video (T, 3, H, W) in [0, 1]
        return my_model.prob_yes(video, f"Does this video show '{prompt}'?")

    register_vqa_scorer("my-vqa", my_vqa)
"""

from __future__ import annotations

from functools import partial

from tgibench.features.store import FeatureStore
from tgibench.metrics.functional.semantic import (
    TrajectoryParts,
    VQAScorer,
    adjacent_cosine,
    text_cosine,
    trajectory_parts,
    vqa_score,
)
from tgibench.metrics.registry import register_metric, register_parts
from tgibench.registry import Registry
from tgibench.video import to_float
from tgibench.weights import WeightsUnavailableError

#: The VQA scorers ``vqa_score`` averages (name → ``fn(video, prompt) -> float in [0, 1]``).
VQA_SCORERS: Registry[VQAScorer] = Registry("VQA scorer")

#: register_metric with what the metrics declared by it below have in common.
_cosine = partial(
    register_metric, pillar="semantic", higher_is_better=True, value_range=(-1.0, 1.0)
)
_share = partial(register_metric, pillar="semantic", higher_is_better=True, value_range=(0.0, 1.0))


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


@_cosine("clip_score", needs=("caption",), features=("clip",))
def _clip_score(store: FeatureStore) -> float:
    """Mean over frames of the CLIP cosine between frame and caption (raw cosine)."""
    embeddings = store["clip"]
    return float(text_cosine(embeddings.frames, embeddings.caption).mean())


def _trajectory(store: FeatureStore) -> TrajectoryParts:
    embeddings = store["clip"]
    return trajectory_parts(embeddings.frames, embeddings.first_desc, embeddings.last_desc)


@_share("desc_trajectory", needs=("descriptions",), features=("clip",))
def _desc_trajectory(store: FeatureStore) -> float:
    """Progress from the first to the last keyframe description: monotone, right ends, even."""
    return _trajectory(store).score


register_parts(
    "desc",
    {
        "monotonicity": "desc_trajectory part: frame pairs in the right order.",
        "endpoints": "desc_trajectory part: starts near first, ends near last.",
        "smoothness": "desc_trajectory part: no single step carries the change.",
    },
    _trajectory,
    pillar="semantic",
    higher_is_better=True,
    value_range=(0.0, 1.0),
    needs=("descriptions",),
    features=("clip",),
)


# version 2: on a CPU without AVX2, frames resized bilinearly as torchvision does there
# (float32, rounded), as the reference pipeline; values on AVX2/AVX-512 are version 1's
@_cosine("xclip_score", needs=("caption",), features=("xclip",), version=2)
def _xclip_score(store: FeatureStore) -> float:
    """X-CLIP text-video cosine similarity, 8 uniformly sampled frames (paper's X-CLIP)."""
    return float(store["xclip"])


@_share("vqa_score", needs=("caption",), default=False)
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
