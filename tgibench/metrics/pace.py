"""Pace pillar: do the frames travel from the first keyframe to the last at an even pace?

``pace_stability`` (default) and its four parts (opt-in: ``pace_irregularity``,
``pace_drift``, ``pace_fade``, ``pace_backtrack``) all read the shared ``motion`` feature,
and ``target_motion`` when the case has ground truth, so selecting the parts costs nothing
more. ``motion_reach`` (consistency pillar, default) says how much of the ground truth's
motion a video performs: read it next to the frame-consistency metrics, which a video that
does not move wins. The maths is in ``tgibench.metrics.functional.pace``.
"""

from __future__ import annotations

from functools import partial

from tgibench.features.store import FeatureStore
from tgibench.metrics.functional.pace import (
    PaceParts,
    motion_reach_of,
    pace_parts,
)
from tgibench.metrics.registry import register_metric, register_parts

#: What the pace metrics declare alike: the shared flow passes they read, the validation.
_FEATURES = ("motion", "target_motion")
_REFERENCE = "docs/metrics.md#pace-stability (validated by benchmarks/pace_study.py)"
_from_motion = partial(register_metric, features=_FEATURES, reference=_REFERENCE)


def _parts(store: FeatureStore) -> PaceParts:
    """Pace parts of the case, judged against the ground truth's pace when it is given."""
    reference = store["target_motion"] if store.inputs.target is not None else None
    return pace_parts(store["motion"], reference)


# version 4: the motion feature with OpenCV at its baseline kernels, the same on every CPU
@_from_motion(
    "pace_stability", pillar="pace", higher_is_better=True, value_range=(0.0, 1.0), version=4
)
def _pace_stability(store: FeatureStore) -> float:
    """Even travel from first to last keyframe by motion: no stall, jump, fade or going back."""
    return _parts(store).score


register_parts(
    "pace",
    {
        "irregularity": "pace_stability part: steps unlike their neighbours (stall, jump).",
        "drift": "pace_stability part: progress curve away from the reference's.",
        "fade": "pace_stability part: share of the transition made by fading.",
        "backtrack": "pace_stability part: motion going back (twice its share).",
    },
    _parts,
    pillar="pace",
    higher_is_better=False,
    value_range=(0.0, 1.0),
    version=4,
    features=_FEATURES,
    reference=_REFERENCE,
)


@_from_motion(
    "motion_reach",
    pillar="consistency",
    higher_is_better=True,
    value_range=(0.0, 1.0),
    needs=("target",),
    version=2,  # 2: the motion feature with OpenCV at its baseline kernels
)
def _motion_reach(store: FeatureStore) -> float:
    """Share of the ground truth's motion the video performs (0: still; low: crossfade)."""
    return motion_reach_of(store["motion"], store["target_motion"])
