"""Distribution pillar maths: the Fréchet distance between two sets of feature vectors.

FID and FVD fit a Gaussian to each set of features (generated vs ground truth) and report

    d² = ‖μ₁ - μ₂‖² + tr(Σ₁) + tr(Σ₂) - 2·tr((Σ₁^½ Σ₂ Σ₁^½)^½)

(Heusel et al., 2017), in squared feature units, >= 0, lower is better, 0 for identical
statistics. ``tr((Σ₁^½ Σ₂ Σ₁^½)^½)`` equals ``tr((Σ₁Σ₂)^½)`` of the usual formula; the
symmetric form is computed with two symmetric eigendecompositions in float64, so it stays
real and defined for singular covariances (fewer samples than dimensions).

Moments are kept as running sums (:class:`FeatureMoments`), so features can be added in
any number of batches and the result is the same as in one shot.

:func:`fid` and :func:`fvd` embed videos first: every frame with the FID Inception-v3
(``tgibench.features.inception``), every whole video with the Kinetics-400 I3D
(``tgibench.features.i3d``), or with any network passed as ``net=``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch

from tgibench.features.i3d import I3DFeatures, load_i3d
from tgibench.features.inception import InceptionFeatures, load_inception


@dataclass(frozen=True)
class FeatureMoments:
    """Running sums of N feature vectors of dimension D, in float64.

    ``total``: (D,) sum of the vectors; ``outer``: (D, D) sum of their outer products;
    ``count``: N.
    """

    total: torch.Tensor
    outer: torch.Tensor
    count: int

    @classmethod
    def of(cls, features: torch.Tensor) -> FeatureMoments:
        """Moments of (N, D) features."""
        if features.ndim != 2:
            raise ValueError(f"features must be (N, D), got shape {tuple(features.shape)}")
        x = features.double()
        return cls(x.sum(0), x.T @ x, x.shape[0])

    def mean_cov(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean (D,) and unbiased covariance (D, D); needs at least two vectors."""
        if self.count < 2:
            raise ValueError(f"a covariance needs at least 2 feature vectors, got {self.count}")
        mean = self.total / self.count
        cov = (self.outer - self.count * torch.outer(mean, mean)) / (self.count - 1)
        return mean, cov


def _psd_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix (negative eigenvalues → 0)."""
    values, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * values.clamp_min(0).sqrt()) @ vectors.T


def frechet_distance(
    mean1: torch.Tensor, cov1: torch.Tensor, mean2: torch.Tensor, cov2: torch.Tensor
) -> torch.Tensor:
    """Squared Fréchet distance between N(mean1, cov1) and N(mean2, cov2), float64 scalar.

    ``mean*``: (D,); ``cov*``: (D, D) symmetric positive semi-definite. Range [0, inf),
    lower is better (closer distributions).

    >>> eye = torch.eye(2, dtype=torch.float64)
    >>> float(frechet_distance(torch.zeros(2), eye, torch.tensor([3.0, 4.0]), 4 * eye))
    27.0
    """
    mean1, mean2 = mean1.double(), mean2.double()
    cov1, cov2 = cov1.double(), cov2.double()
    root1 = _psd_sqrt(cov1)
    middle = root1 @ cov2 @ root1
    cross = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0).sqrt().sum()
    distance = (mean1 - mean2).square().sum() + cov1.trace() + cov2.trace() - 2 * cross
    return distance.clamp_min(0)


def frechet_distance_of_moments(fake: FeatureMoments, real: FeatureMoments) -> torch.Tensor:
    """Squared Fréchet distance between the Gaussians fitted to two sets of moments."""
    return frechet_distance(*fake.mean_cov(), *real.mean_cov())


def frechet_feature_distance(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Squared Fréchet distance between two sets of features, (N, D) and (M, D); N, M >= 2.

    What FID and FVD compute once the features are extracted: range [0, inf), lower is
    better, float64 scalar.
    """
    if fake.shape[-1] != real.shape[-1]:
        raise ValueError(f"feature sizes differ: {fake.shape[-1]} vs {real.shape[-1]}")
    return frechet_distance_of_moments(FeatureMoments.of(fake), FeatureMoments.of(real))


@functools.lru_cache(maxsize=1)
def default_inception_net() -> InceptionFeatures:
    """The FID Inception-v3 used when none is passed (built once per process, real weights)."""
    return load_inception()


@functools.lru_cache(maxsize=1)
def default_i3d_net() -> I3DFeatures:
    """The FVD I3D used when none is passed (built once per process, real weights)."""
    return load_i3d()


def frame_features(
    videos: torch.Tensor, net: Callable[[torch.Tensor], torch.Tensor]
) -> torch.Tensor:
    """Features (N, D) of every frame of (T, 3, H, W) or (B, T, 3, H, W) videos; N = B·T."""
    return net(videos.reshape(-1, *videos.shape[-3:]))


def video_features(
    videos: torch.Tensor, net: Callable[[torch.Tensor], torch.Tensor]
) -> torch.Tensor:
    """Features (B, D) of each (T, 3, H, W) video of a batch (B, T, 3, H, W), or (1, D)."""
    return net(videos if videos.ndim == 5 else videos[None])


def fid(
    videos: torch.Tensor,
    targets: torch.Tensor,
    net: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """FID between the frames of generated and ground-truth videos, float64 scalar.

    ``videos``, ``targets``: (T, 3, H, W) or (B, T, 3, H, W) in [0, 1] (the two sets
    may differ in size); every frame is a sample. ``net``: frames → (N, D) features,
    default the FID Inception-v3 (pool3, 2048-d). Range [0, inf), lower is better.
    """
    net = net or default_inception_net()
    return frechet_feature_distance(frame_features(videos, net), frame_features(targets, net))


def fvd(
    videos: torch.Tensor,
    targets: torch.Tensor,
    net: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """FVD between generated and ground-truth video sets, float64 scalar.

    ``videos``, ``targets``: (B, T, 3, H, W) in [0, 1], B >= 2 each, T >= 9 for I3D;
    every video is a sample. ``net``: videos → (B, D) features, default the Kinetics-400
    I3D logits (400-d). Range [0, inf), lower is better.
    """
    net = net or default_i3d_net()
    return frechet_feature_distance(video_features(videos, net), video_features(targets, net))
