"""A TGI-Bench plugin: a user model and two user metrics in one file.

    tgibench models --include docs/examples/my_plugin.py      # lists "eased" and its option
    tgibench metrics --include docs/examples/my_plugin.py     # lists "jump_ratio" (↓), "mean_speed"
    tgibench evaluate --include docs/examples/my_plugin.py --model eased:sharpness=3 \\
        --metrics jump_ratio,psnr --bench mini --lengths 25 --out runs/eased
    tgibench leaderboard runs/eased --format md

Resuming the run needs the same ``--include``: the run directory records the model's spec
("eased:sharpness=3"), not where its code lives.
"""

from __future__ import annotations

import torch

from tgibench.features.store import FeatureStore
from tgibench.metrics import register_metric
from tgibench.models import GenerationRequest, ModelBase, register_model
from tgibench.video import to_float


@register_model("eased")
class EasedCrossfade(ModelBase):
    """Crossfade with an ease-in-out: slow next to the keyframes, fast in the middle.

    Frame k shows (1 - s)·first + s·last with s = t^a / (t^a + (1 - t)^a), t = k / (N - 1)
    and a = ``sharpness``; a = 1 is the plain crossfade.
    """

    def __init__(self, sharpness: float = 2.0) -> None:  # options: typed keywords
        if sharpness <= 0:
            raise ValueError(f"eased: sharpness must be positive, got {sharpness}")
        self.sharpness = sharpness

    def make_frames(self, request: GenerationRequest) -> torch.Tensor:
        # ModelBase.generate has checked the keyframes ((3, H, W) float32 in [0, 1], same
        # size) and will check the returned (N, 3, H, W) video. The request also carries
        # prompt, seed and context (case_id, folder, challenge, first_desc, last_desc).
        t = request.times.double()  # (N,) k / (N - 1)
        rise, fall = t**self.sharpness, (1 - t) ** self.sharpness
        s = (rise / (rise + fall)).float().view(-1, 1, 1, 1)
        return (1 - s) * request.first + s * request.last


@register_metric(
    "jump_ratio",
    pillar="pace",
    higher_is_better=False,
    value_range=(1.0, float("inf")),
)
def jump_ratio(store: FeatureStore) -> float:
    """Largest frame-to-frame change over the mean change: 1 = even pace, N - 1 = one jump.

    The change between frames t and t + 1 is the mean absolute difference of their pixels
    in [0, 1]. A video that does not change at all counts as even (1).
    """
    video = store.inputs.video  # (T, 3, H, W), uint8 in the runner
    changes = torch.stack(
        [(to_float(video[t + 1]) - to_float(video[t])).abs().mean() for t in range(len(video) - 1)]
    )
    mean = float(changes.mean())
    return float(changes.max()) / mean if mean > 0 else 1.0


@register_metric(
    "mean_speed",
    pillar="pace",
    higher_is_better=False,
    value_range=(0.0, float("inf")),
    features=("motion",),  # shared features it reads: computed once per video
    default=False,  # opt-in: scored only when named, e.g. --metrics jump_ratio,mean_speed
)
def mean_speed(store: FeatureStore) -> float:
    """Mean optical-flow speed of the video, in pixels per frame (opt-in example).

    ``store["motion"]`` is the flow pass that warping error, flicker and pace stability
    share; ``store["lpips"]`` is the shared LPIPS pass (adjacent frames, ground truth,
    keyframes).
    """
    return float(store["motion"].magnitude.mean())
