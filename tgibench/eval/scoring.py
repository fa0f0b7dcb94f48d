"""Scoring one video: shared features computed once, then every selected metric."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from tgibench.features.backbones import Backbones
from tgibench.features.store import FeatureStore, ScoringInputs
from tgibench.metrics.registry import MetricDef
from tgibench.weights import WeightsUnavailableError


@dataclass
class VideoScores:
    """A video's per-case metric values, the reasons any are unavailable, and the
    feature arrays it contributes to run-level metrics (FID, FVD)."""

    values: dict[str, float | None] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    run_features: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


def score_video(
    inputs: ScoringInputs, metrics: list[MetricDef], backbones: Backbones
) -> VideoScores:
    """Score one video with ``metrics``, computing each shared feature once.

    A metric is unavailable (value None, never a number) when an input it needs is absent
    (e.g. ground truth) or its weights are missing. Any other failure raises: a case is
    either scored completely or recorded as an error.
    """
    store = FeatureStore(inputs, backbones)
    present = inputs.available()
    scores = VideoScores()
    values, unavailable = scores.values, scores.unavailable
    for metric in metrics:
        missing = sorted(set(metric.needs) - present)
        if missing:
            if not metric.run_level:
                values[metric.name] = None
            unavailable[metric.name] = f"needs {', '.join(missing)}"
            continue
        try:
            result = metric.compute(store)
        except WeightsUnavailableError as exc:
            if not metric.run_level:
                values[metric.name] = None
            unavailable[metric.name] = str(exc)
            continue
        if metric.run_level:
            scores.run_features[metric.name] = result
            continue
        value = float(result)
        if not math.isfinite(value):
            raise ValueError(
                f"metric {metric.name} is {value} (non-finite input or degenerate video)"
            )
        values[metric.name] = value
    scores.notes.update(store.notes)
    return scores
