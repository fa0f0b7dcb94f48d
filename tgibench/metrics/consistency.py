"""Frame-consistency pillar: how coherently a generated video goes from frame to frame.

Per-case definitions and metric classes; the maths is in
``tgibench.metrics.functional.consistency``.
"""

from __future__ import annotations

from tgibench.features.store import FeatureStore
from tgibench.metrics.base import WithLPIPSNet
from tgibench.metrics.functional.consistency import lpips_frames
from tgibench.metrics.registry import register_metric


@register_metric(
    "lpips_frames",
    pillar="consistency",
    higher_is_better=False,
    value_range=(0.0, 1.0),
    features=("lpips",),
)
def _lpips_frames(store: FeatureStore) -> float:
    """Mean LPIPS between adjacent generated frames (the paper's LPIPS-frames)."""
    return float(store["lpips"].adjacent.mean())


class LPIPSFrames(WithLPIPSNet):
    """Mean adjacent-frame LPIPS (the paper's LPIPS-frames), lower is better."""

    higher_is_better = False
    plot_lower_bound = 0.0
    plot_upper_bound = 1.0
    function = staticmethod(lpips_frames)
    needs_target = False
