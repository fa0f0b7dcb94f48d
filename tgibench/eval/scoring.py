"""Scoring one video: shared features computed once, then every selected metric."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch

from tgibench.features.backbones import Backbones
from tgibench.features.store import FeatureStore, ScoringInputs
from tgibench.metrics.functional.pace import progress
from tgibench.metrics.registry import MetricDef
from tgibench.weights import WeightsUnavailableError


@dataclass
class VideoScores:
    """A video's per-case metric values, the reasons any are unavailable, the errors of
    metrics that failed, notes, the feature arrays it contributes to run-level metrics
    (FID, FVD), and its progress curves (for plots)."""

    values: dict[str, float | None] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    run_features: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    curves: dict[str, list[float]] = field(default_factory=dict)


def score_video(
    inputs: ScoringInputs,
    metrics: list[MetricDef],
    backbones: Backbones,
    timings: dict[str, float] | None = None,
) -> VideoScores:
    """Score one video with ``metrics``, computing each shared feature once.

    A metric is unavailable (value None, never a number) when an input it needs is absent
    (e.g. ground truth) or its weights are missing. A metric that raises, or gives a
    non-finite value, costs that metric only: its value is None and ``errors`` names it
    with the exception; every other metric of the case is still scored.

    ``timings``, if given, receives ``score:<metric>``: the seconds each metric took, with
    the shared features it was the first to read.
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
            start = time.perf_counter()
            result = metric.compute(store)
            if timings is not None:
                timings[f"score:{metric.name}"] = time.perf_counter() - start
            if metric.run_level:
                scores.run_features[metric.name] = result
                continue
            value = float(result)
            if not math.isfinite(value):
                raise ValueError(f"{value} (non-finite input or degenerate video)")
        except WeightsUnavailableError as exc:
            if not metric.run_level:
                values[metric.name] = None
            unavailable[metric.name] = str(exc)
            continue
        except Exception as exc:  # one metric's failure costs that metric only
            if not metric.run_level:
                values[metric.name] = None
            scores.errors[metric.name] = f"{type(exc).__name__}: {exc}"
            continue
        values[metric.name] = value
    scores.notes.update(store.notes)
    scores.curves.update(progress_curves(store))
    return scores


def progress_curves(store: FeatureStore) -> dict[str, list[float]]:
    """The progress curves (pace) of the video and of its ground truth, when a metric
    computed their motion: what the leaderboard's pace plots draw (rounded to 1e-4)."""
    curves = {}
    for feature, key in (("motion", "progress"), ("target_motion", "target_progress")):
        if feature in store.computed:
            curves[key] = [round(float(p), 4) for p in progress(store[feature])]
    return curves
