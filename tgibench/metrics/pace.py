"""Pace pillar: do the frames travel from the first keyframe to the last at an even pace?

``pace_stability`` (default) and its four parts (opt-in: ``pace_irregularity``,
``pace_drift``, ``pace_fade``, ``pace_backtrack``) all read the shared ``motion`` feature,
and ``target_motion`` when the case has ground truth, so selecting the parts costs nothing
more. ``motion_reach`` (consistency pillar, default) says how much of the ground truth's
motion a video performs: read it next to the frame-consistency metrics, which a video that
does not move wins. The maths is in ``tgibench.metrics.functional.pace``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from tgibench.features.store import FeatureStore
from tgibench.metrics.functional.pace import (
    PaceParts,
    motion_reach_of,
    pace_parts,
    pace_stability,
)
from tgibench.metrics.registry import lazy_metric_classes, register_metric

if TYPE_CHECKING:
    from torchmetrics import Metric

_FEATURES = ("motion", "target_motion")
_REFERENCE = "docs/metrics.md#pace-stability (validated by benchmarks/pace_study.py)"


def _parts(store: FeatureStore) -> PaceParts:
    """Pace parts of the case, judged against the ground truth's pace when it is given."""
    reference = store["target_motion"] if store.inputs.target is not None else None
    return pace_parts(store["motion"], reference)


@register_metric(
    "pace_stability",
    pillar="pace",
    higher_is_better=True,
    value_range=(0.0, 1.0),
    features=_FEATURES,
    version=2,
    reference=_REFERENCE,
)
def _pace_stability(store: FeatureStore) -> float:
    """Even travel from first to last keyframe by motion: no stall, jump, fade or going back."""
    return _parts(store).score


def _register_part(part: str, summary: str) -> None:
    def compute(store: FeatureStore) -> float:
        return float(getattr(_parts(store), part))

    compute.__doc__ = summary
    register_metric(
        f"pace_{part}",
        pillar="pace",
        higher_is_better=False,
        value_range=(0.0, 1.0),
        features=_FEATURES,
        default=False,
        version=2,
        reference=_REFERENCE,
    )(compute)


_register_part("irregularity", "pace_stability part: steps unlike their neighbours (stall, jump).")
_register_part("drift", "pace_stability part: progress curve away from the reference's.")
_register_part("fade", "pace_stability part: share of the transition made by fading.")
_register_part("backtrack", "pace_stability part: motion going back (twice its share).")


@register_metric(
    "motion_reach",
    pillar="consistency",
    higher_is_better=True,
    value_range=(0.0, 1.0),
    needs=("target",),
    features=_FEATURES,
    reference=_REFERENCE,
)
def _motion_reach(store: FeatureStore) -> float:
    """Share of the ground truth's motion the video performs (0: still or crossfade)."""
    return motion_reach_of(store["motion"], store["target_motion"])


def _classes() -> list[type[Metric]]:
    """The pillar's metric classes (torchmetrics: built on first access, see below)."""
    from tgibench.metrics._base import MeanOverVideos

    class PaceStability(MeanOverVideos, metric="pace_stability"):
        """Mean pace stability, higher is better, range [0, 1]; see ``functional.pace_stability``.

        ``update(video)`` judges against constant speed, ``update(video, target)`` against the
        ground truth's pace; (T, 3, H, W) or batches (B, T, 3, H, W).
        """

        function = staticmethod(pace_stability)

        def update(self, video: torch.Tensor, target: torch.Tensor | None = None) -> None:
            """Add one video (or a batch), with its ground truth if there is one."""
            values = type(self).function(video, target)
            self.total += values.double().sum()
            self.count += values.numel()

    return [PaceStability]


#: ``PaceStability``, built when first imported (lazy_metric_classes).
__getattr__ = lazy_metric_classes(__name__, _classes)
