"""The metric classes of the library: ``torchmetrics.Metric`` accumulators over videos.

Each class names its registered definition (``class PSNR(MeanOverVideos, metric="psnr")``),
which gives it direction, range and version, and calls the video-level function of
``tgibench.metrics.functional`` that the per-case definition uses too. They live in one
module because torchmetrics takes seconds to import: ``tgibench.metrics`` imports this
module on the first access to a class (``from tgibench.metrics import PSNR``), so the
runner and ``tgibench metrics``, which need only the definitions, never import it (its
name starts with ``_``, so the metric registry's scan of the package skips it too).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Protocol

import torch
from torchmetrics import Metric

from tgibench.features.lpips_net import LPIPSNet
from tgibench.metrics import (  # noqa: F401  registers the definitions the classes name
    consistency,
    distribution,
    pace,
    reconstruction,
    semantic,
)
from tgibench.metrics.functional.consistency import (
    flicker,
    keyframe_adherence,
    lpips_frames,
    warping_error,
)
from tgibench.metrics.functional.distribution import (
    FeatureMoments,
    default_i3d_net,
    default_inception_net,
    frame_features,
    frechet_distance_of_moments,
    video_features,
)
from tgibench.metrics.functional.pace import pace_stability
from tgibench.metrics.functional.reconstruction import default_lpips_net, lpips, psnr, ssim
from tgibench.metrics.functional.semantic import (
    clip_score,
    clipsim_frames,
    default_clip_net,
    default_xclip_net,
    desc_trajectory,
    xclip_score,
)
from tgibench.metrics.registry import DefinedMetric

#: A text argument of a metric class: a str, or a (3, H, W) image (desc_trajectory anchors).
Text = str | torch.Tensor


class MeanOverVideos(DefinedMetric, Metric):
    """Mean of a per-video functional metric over every video seen by ``update``.

    Keeps two states, the sum of per-video values (float64) and the number of videos,
    both summed across processes. Subclasses name their registered definition
    (``class PSNR(MeanOverVideos, metric="psnr")``: direction and range come from it) and
    set ``function`` (called as ``function(video[, target], **self._options())`` on
    (T, C, H, W) or (B, T, C, H, W) input) and ``needs_target``.
    """

    is_differentiable = False
    full_state_update = False
    function: ClassVar[Callable[..., torch.Tensor]]
    needs_target: ClassVar[bool] = True

    total: torch.Tensor
    count: torch.Tensor

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_state(
            "total", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum"
        )
        self.add_state("count", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def _options(self) -> dict[str, Any]:
        return {}

    def update(self, video: torch.Tensor, target: torch.Tensor | None = None) -> None:
        """Add one (T, C, H, W) video or a batch (B, T, C, H, W) (with ground truth if needed)."""
        if self.needs_target and target is None:
            raise ValueError(f"{type(self).__name__} needs the ground-truth video as target")
        args = (video, target) if self.needs_target else (video,)
        values = type(self).function(*args, **self._options())
        self.total += values.double().sum()
        self.count += values.numel()

    def compute(self) -> torch.Tensor:
        return (self.total / self.count).float()


class WithLPIPSNet(MeanOverVideos):
    """Holds one frozen LPIPS network, built once (real pretrained weights by default)."""

    def __init__(self, net: LPIPSNet | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.net = net or default_lpips_net()

    def _options(self) -> dict[str, Any]:
        return {"net": self.net}


# reconstruction pillar


class PSNR(MeanOverVideos, metric="psnr"):
    """Mean PSNR (dB) of in-between frames, higher is better; see ``functional.psnr``."""

    function = staticmethod(psnr)


class SSIM(MeanOverVideos, metric="ssim"):
    """Mean SSIM of in-between frames, higher is better; see ``functional.ssim``."""

    function = staticmethod(ssim)


class LPIPS(WithLPIPSNet, metric="lpips"):
    """Mean LPIPS of in-between frames to ground truth, lower is better."""

    function = staticmethod(lpips)


# consistency pillar


class LPIPSFrames(WithLPIPSNet, metric="lpips_frames"):
    """Mean adjacent-frame LPIPS (the paper's LPIPS-frames), lower is better."""

    function = staticmethod(lpips_frames)
    needs_target = False


class WarpingError(MeanOverVideos, metric="warping_error"):
    """Mean flow warping error, lower is better, range [0, 1]: ``update(video)``."""

    function = staticmethod(warping_error)
    needs_target = False


class Flicker(MeanOverVideos, metric="flicker"):
    """Mean motion-compensated temporal flicker, lower is better, range [0, 1]: ``update(video)``."""

    function = staticmethod(flicker)
    needs_target = False


class KeyframeAdherence(WithLPIPSNet, metric="keyframe_adherence"):
    """Mean LPIPS of end frames to the given keyframes, lower is better.

    ``update(video, keyframes)`` with ``keyframes`` (2, 3, H, W) = (first, last), or a
    batch (B, T, 3, H, W) with (B, 2, 3, H, W).
    """

    function = staticmethod(keyframe_adherence)

    def update(self, video: torch.Tensor, keyframes: torch.Tensor | None = None) -> None:
        """Add one video (or a batch) with its given keyframes."""
        if keyframes is None:
            raise ValueError(
                "KeyframeAdherence needs the given keyframes: update(video, keyframes)"
            )
        super().update(video, keyframes)


# pace pillar


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


# semantic pillar


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


def _shared_or_item(text: Text | Sequence[Text], b: int) -> Text:
    if isinstance(text, str) or (isinstance(text, torch.Tensor) and text.ndim == 3):
        return text
    return text[b]


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


# distribution pillar


class FeatureExtractor(Protocol):
    """Maps images (N, 3, H, W) or videos (B, T, 3, H, W) in [0, 1] to (N, D) features."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...


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
            raise ValueError("give num_features for an extractor without a num_features attribute")
        for side in ("fake", "real"):
            zeros = torch.zeros(dim, dtype=torch.float64)
            self.add_state(f"{side}_total", default=zeros, dist_reduce_fx="sum")
            self.add_state(f"{side}_outer", default=torch.outer(zeros, zeros), dist_reduce_fx="sum")
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
