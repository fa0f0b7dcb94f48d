"""Distribution pillar: FID over frames and FVD over clips, generated set vs ground-truth set.

Both compare two *sets* (every generated video of a run with every ground-truth video),
so they are not per-case numbers: the runner keeps each case's features
(``features/<metric>/<case_id>.safetensors``) and computes the distance over all cases,
per challenge and per length (``run_metrics.json``, see ``tgibench.eval.run_metrics``).

- ``fid``: Fréchet distance between Inception-v3 pool3 features (2048-d) of every frame of
  the generated videos and of every frame of the ground-truth videos.
- ``fvd``: Fréchet distance between I3D Kinetics-400 logits (400-d) of each whole
  generated video and of each whole ground-truth video (one clip per case, T >= 9).

Values are squared feature distances in [0, inf), lower is better. Their size depends on
the number of samples (the estimate is biased upwards for small sets): compare runs on
the same cases only. As library classes::

    fid = FID()                      # real FID Inception weights (tgibench.features.inception)
    for video, target in pairs:      # (T, 3, H, W) or (B, T, 3, H, W) in [0, 1]
        fid.update(video, target)    # generated frames → fake set, ground truth → real set
    fid.compute()

``update(video)`` alone adds only generated videos; ``update_real(target)`` only ground
truth (e.g. a reference set larger than the generated one). ``extractor=`` takes any
network mapping frames (FID) or videos (FVD) in [0, 1] to (N, D) features.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import torch

from tgibench.features.store import FeatureStore
from tgibench.metrics.functional.distribution import (
    frechet_feature_distance,
)
from tgibench.metrics.registry import register_metric


def _finalize(cases: list[dict[str, Any]]) -> float:
    """Fréchet distance between all cases' "fake" features and all their "real" ones."""
    fake = torch.cat([case["fake"] for case in cases])
    real = torch.cat([case["real"] for case in cases])
    return float(frechet_feature_distance(fake, real))


#: FID and FVD alike: Fréchet distances of a run's generated set to its ground-truth set.
_set_distance = partial(
    register_metric,
    pillar="distribution",
    higher_is_better=False,
    value_range=(0.0, math.inf),
    needs=("target",),
    finalize=_finalize,
)


@_set_distance("fid", features=("inception",))
def _fid(store: FeatureStore) -> dict[str, torch.Tensor]:
    """FID over frames (Inception-v3 pool3), generated vs ground-truth set; run-level."""
    features: dict[str, torch.Tensor] = store["inception"]
    return features


@_set_distance("fvd", features=("i3d",))
def _fvd(store: FeatureStore) -> dict[str, torch.Tensor]:
    """FVD over whole clips (I3D Kinetics-400 logits), generated vs ground-truth set; run-level."""
    features: dict[str, torch.Tensor] = store["i3d"]
    return features
