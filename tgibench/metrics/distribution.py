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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import torch

from tgibench.features.store import FeatureStore
from tgibench.metrics.functional.distribution import (
    FeatureMoments,
    default_i3d_net,
    default_inception_net,
    frame_features,
    frechet_distance_of_moments,
    frechet_feature_distance,
    video_features,
)
from tgibench.metrics.registry import DefinedMetric, lazy_metric_classes, register_metric

if TYPE_CHECKING:
    from torchmetrics import Metric


def _finalize(cases: list[dict[str, Any]]) -> float:
    """Fréchet distance between all cases' "fake" features and all their "real" ones."""
    fake = torch.cat([case["fake"] for case in cases])
    real = torch.cat([case["real"] for case in cases])
    return float(frechet_feature_distance(fake, real))


@register_metric(
    "fid",
    pillar="distribution",
    higher_is_better=False,
    value_range=(0.0, math.inf),
    needs=("target",),
    features=("inception",),
    finalize=_finalize,
)
def _fid(store: FeatureStore) -> dict[str, torch.Tensor]:
    """FID over frames (Inception-v3 pool3), generated vs ground-truth set; run-level."""
    features: dict[str, torch.Tensor] = store["inception"]
    return features


@register_metric(
    "fvd",
    pillar="distribution",
    higher_is_better=False,
    value_range=(0.0, math.inf),
    needs=("target",),
    features=("i3d",),
    finalize=_finalize,
)
def _fvd(store: FeatureStore) -> dict[str, torch.Tensor]:
    """FVD over whole clips (I3D Kinetics-400 logits), generated vs ground-truth set; run-level."""
    features: dict[str, torch.Tensor] = store["i3d"]
    return features


class FeatureExtractor(Protocol):
    """Maps images (N, 3, H, W) or videos (B, T, 3, H, W) in [0, 1] to (N, D) features."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...


def _classes() -> list[type[Metric]]:
    """The pillar's metric classes (torchmetrics: built on first access, see below)."""
    from torchmetrics import Metric

    class _FrechetMetric(DefinedMetric, Metric):
        """Fréchet distance between the features of generated and ground-truth videos.

        States: per set ("fake", "real"), the float64 running sum (D,), the sum of outer
        products (D, D) and the count of feature vectors, all summed across processes.
        """

        is_differentiable = False
        full_state_update = False
        load_extractor: ClassVar[Callable[[], Any]]
        features_of: ClassVar[Callable[..., torch.Tensor]]

        fake_total: torch.Tensor
        fake_outer: torch.Tensor
        fake_count: torch.Tensor
        real_total: torch.Tensor
        real_outer: torch.Tensor
        real_count: torch.Tensor

        def __init__(
            self,
            extractor: FeatureExtractor | None = None,
            num_features: int | None = None,
            **kwargs: Any,
        ) -> None:
            super().__init__(**kwargs)
            self.extractor = extractor if extractor is not None else type(self).load_extractor()
            dim = num_features or getattr(self.extractor, "num_features", None)
            if not dim:
                raise ValueError(
                    "give num_features for an extractor without a num_features attribute"
                )
            for side in ("fake", "real"):
                zeros = torch.zeros(dim, dtype=torch.float64)
                self.add_state(f"{side}_total", default=zeros, dist_reduce_fx="sum")
                self.add_state(
                    f"{side}_outer", default=torch.outer(zeros, zeros), dist_reduce_fx="sum"
                )
                self.add_state(f"{side}_count", default=torch.tensor(0), dist_reduce_fx="sum")

        def _add(self, side: str, videos: torch.Tensor) -> None:
            moments = FeatureMoments.of(type(self).features_of(videos, self.extractor))
            setattr(self, f"{side}_total", getattr(self, f"{side}_total") + moments.total)
            setattr(self, f"{side}_outer", getattr(self, f"{side}_outer") + moments.outer)
            setattr(self, f"{side}_count", getattr(self, f"{side}_count") + moments.count)

        def update(self, video: torch.Tensor, target: torch.Tensor | None = None) -> None:
            """Add generated video(s) (T, 3, H, W) or (B, T, 3, H, W) in [0, 1], and the
            ground truth ``target`` (same layout, any number of videos) if given."""
            self._add("fake", video)
            if target is not None:
                self._add("real", target)

        def update_real(self, target: torch.Tensor) -> None:
            """Add ground-truth video(s) only."""
            self._add("real", target)

        def _moments(self, side: str) -> FeatureMoments:
            return FeatureMoments(
                getattr(self, f"{side}_total"),
                getattr(self, f"{side}_outer"),
                int(getattr(self, f"{side}_count")),
            )

        def compute(self) -> torch.Tensor:
            """Squared Fréchet distance (float64 scalar) between the two sets; each needs >= 2
            feature vectors."""
            return frechet_distance_of_moments(self._moments("fake"), self._moments("real"))

    class FID(_FrechetMetric, metric="fid"):
        """Fréchet Inception Distance over frames, lower is better, range [0, inf).

        Detects generated frames whose appearance statistics differ from real frames (blur,
        artifacts, colour shifts, missing content), whatever their order. Every frame of every
        video is one sample; features are Inception-v3 pool3 (2048-d) by default
        (``extractor``: any (N, 3, H, W) → (N, D) network).
        """

        load_extractor = staticmethod(default_inception_net)
        features_of = staticmethod(frame_features)

    class FVD(_FrechetMetric, metric="fvd"):
        """Fréchet Video Distance over clips, lower is better, range [0, inf).

        Detects generated videos whose appearance *and motion* statistics differ from real
        videos (implausible or frozen motion, temporal artifacts) as an action-recognition
        network sees them. Every video is one sample (T >= 9 frames for I3D); features are the
        Kinetics-400 I3D logits (400-d) by default (``extractor``: any (B, T, 3, H, W) →
        (B, D) network).
        """

        load_extractor = staticmethod(default_i3d_net)
        features_of = staticmethod(video_features)

    return [FID, FVD]


#: ``FID`` and ``FVD``, built when first imported (lazy_metric_classes).
__getattr__ = lazy_metric_classes(__name__, _classes)
