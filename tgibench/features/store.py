"""Per-video features, computed once and shared by every metric that needs them.

A feature is a named function of a video's :class:`ScoringInputs` (and of other features)
registered with :func:`register_feature`. A :class:`FeatureStore` computes each feature
of one video at most once: LPIPS, CLIP and flow passes run once per frame or frame pair,
however many metrics read them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from tgibench.features.backbones import Backbones
from tgibench.registry import Registry


@dataclass(frozen=True)
class ScoringInputs:
    """Everything a metric may look at for one case: the scoring contract.

    ``video``: the generated video, (T, 3, H, W) **uint8** in 0..255, RGB, T >= 2: what the
    run saved (a float video in [0, 1] given here is quantised to uint8 on construction,
    so a metric sees the same values whichever was given). Convert what you read with
    ``tgibench.video.to_float`` (a chunk at a time for long videos).
    ``target``: the ground truth, same shape and dtype, or None.
    ``first``/``last``: the given keyframes, (3, H, W) float32 in [0, 1], or None.
    ``caption``, ``first_desc``, ``last_desc``: the case's texts ("" when absent).
    """

    video: torch.Tensor
    target: torch.Tensor | None = None
    first: torch.Tensor | None = None
    last: torch.Tensor | None = None
    caption: str = ""
    first_desc: str = ""
    last_desc: str = ""

    def __post_init__(self) -> None:
        from tgibench.video import VideoError, check_video, to_uint8

        video = to_uint8(check_video(self.video, name="scored video", min_frames=2))
        object.__setattr__(self, "video", video)
        if self.target is not None:
            target = to_uint8(check_video(self.target, name="target", min_frames=2))
            if target.shape != video.shape:
                raise VideoError(
                    f"video {tuple(video.shape)} and target {tuple(target.shape)} differ in shape"
                )
            object.__setattr__(self, "target", target)

    def available(self) -> set[str]:
        """Names of the optional inputs present: target, keyframes, caption, descriptions."""
        present = set()
        if self.target is not None:
            present.add("target")
        if self.first is not None and self.last is not None:
            present.add("keyframes")
        if self.caption:
            present.add("caption")
        if self.first_desc and self.last_desc:
            present.add("descriptions")
        return present


@dataclass(frozen=True)
class FeatureDef:
    """How to compute one feature: a function of the store, and the backbones it loads."""

    name: str
    compute: Callable[[FeatureStore], Any]
    backbones: tuple[str, ...] = ()


#: Built-in features: every module of tgibench.features that registers some (found on
#: first lookup, no list to edit), then installed plugins.
FEATURES: Registry[FeatureDef] = Registry("feature", packages=("tgibench.features",))


def register_feature(
    name: str, backbones: tuple[str, ...] = ()
) -> Callable[[Callable[[FeatureStore], Any]], Callable[[FeatureStore], Any]]:
    """Decorator registering ``compute(store) -> value`` as the feature ``name``."""

    def decorate(compute: Callable[[FeatureStore], Any]) -> Callable[[FeatureStore], Any]:
        FEATURES.register(name, source=compute.__module__)(FeatureDef(name, compute, backbones))
        return compute

    return decorate


class FeatureStore:
    """Computes and caches the features of one video.

    >>> import torch
    >>> store = FeatureStore(ScoringInputs(video=torch.rand(5, 3, 32, 32)), Backbones())
    >>> store.computed
    []
    """

    def __init__(self, inputs: ScoringInputs, backbones: Backbones) -> None:
        self.inputs = inputs
        self.backbones = backbones
        self.notes: dict[str, str] = {}
        self._cache: dict[str, Any] = {}
        self._failed: dict[str, Exception] = {}

    def __getitem__(self, name: str) -> Any:
        if name in self._failed:  # a feature that failed once is not computed again
            raise self._failed[name]
        if name not in self._cache:
            try:
                self._cache[name] = FEATURES.get(name).compute(self)
            except Exception as exc:
                self._failed[name] = exc
                raise
        return self._cache[name]

    def backbone(self, name: str) -> Any:
        """A shared backbone (raises WeightsUnavailableError when its weights are missing)."""
        return self.backbones.get(name)

    def note(self, key: str, message: str) -> None:
        """Record something a reader of the results should know about this case (e.g. a
        caption truncated to a text encoder's context); the runner writes it to the row's
        ``notes``."""
        self.notes[key] = message

    @property
    def computed(self) -> list[str]:
        """Names of the features computed so far (each exactly once)."""
        return list(self._cache)


def generated_and_truth(store: FeatureStore, backbone: str) -> dict[str, Any]:
    """``{"fake": net(video), "real": net(ground truth)}`` with the shared backbone
    ``backbone``: the per-case features of a run-level distribution metric (FID, FVD)."""
    target = store.inputs.target
    if target is None:
        raise ValueError(f"the {backbone} feature needs the ground-truth video")
    net = store.backbone(backbone)
    return {"fake": net(store.inputs.video), "real": net(target)}
