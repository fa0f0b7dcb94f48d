"""Pace pillar: does the motion progress evenly from the first keyframe to the last?

``pace_stability`` (default) and its four parts (opt-in: ``pace_unevenness``,
``pace_jump``, ``pace_backtrack``, ``pace_progress_deviation``) all read the shared
``motion`` feature, and ``target_motion`` when the case has ground truth, so selecting the
parts costs nothing more. The maths is in ``tgibench.metrics.functional.pace``.
"""

from __future__ import annotations

import torch

from tgibench.features.store import FeatureStore
from tgibench.metrics.base import MeanOverVideos
from tgibench.metrics.functional.pace import PaceParts, pace_parts, pace_stability
from tgibench.metrics.registry import register_metric

_FEATURES = ("motion", "target_motion")


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
)
def _pace_stability(store: FeatureStore) -> float:
    """Even progress from first to last keyframe (vs ground-truth pace when given), from flow."""
    return _parts(store).score


def _register_part(part: str, upper: float, summary: str) -> None:
    def compute(store: FeatureStore) -> float:
        return float(getattr(_parts(store), part))

    compute.__doc__ = summary
    register_metric(
        f"pace_{part}",
        pillar="pace",
        higher_is_better=False,
        value_range=(0.0, upper),
        features=_FEATURES,
        default=False,
    )(compute)


_register_part("unevenness", 1.0, "pace_stability part: share of motion at the wrong steps.")
_register_part("jump", 1.0, "pace_stability part: 1 - mean step / largest step (relative).")
_register_part("backtrack", 0.5, "pace_stability part: share of motion going backwards.")
_register_part(
    "progress_deviation", 1.0, "pace_stability part: mean gap to the reference progress curve."
)


class PaceStability(MeanOverVideos):
    """Mean pace stability, higher is better, range [0, 1]; see ``functional.pace_stability``.

    ``update(video)`` judges against uniform speed, ``update(video, target)`` against the
    ground truth's pace; (T, 3, H, W) or batches (B, T, 3, H, W).
    """

    higher_is_better = True
    plot_lower_bound = 0.0
    plot_upper_bound = 1.0
    function = staticmethod(pace_stability)

    def update(self, video: torch.Tensor, target: torch.Tensor | None = None) -> None:
        """Add one video (or a batch), with its ground truth if there is one."""
        values = type(self).function(video, target)
        self.total += values.double().sum()
        self.count += values.numel()
